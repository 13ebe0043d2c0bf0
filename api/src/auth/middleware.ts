import type { MiddlewareHandler } from "hono";

import { ApiError } from "../errors.ts";
import type { Principal, TokenVerifier } from "./verify-token.ts";

/** Hono variables set by `bearerAuth`. */
export type AuthEnv = { Variables: { principal: Principal } };

// RFC 6750 §2.1 b64token. Anything else cannot be one of our JWTs.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
// Far above any real access token; stops pathological headers before they reach the JWT parser.
const MAX_TOKEN_LENGTH = 8192;

/**
 * The bearer token of an `Authorization` header (RFC 6750 §2.1). Only the
 * header is accepted: tokens in the query string end up in logs and histories
 * (§2.3 is deliberately not supported), and the API reads no form bodies.
 */
export function bearerToken(header: string | undefined): string {
  const match = /^(\S+)(?:\s+(.*))?$/s.exec(header?.trim() ?? "");
  if (match?.[1]?.toLowerCase() !== "bearer") {
    // No bearer credentials at all (none, or another scheme): §3.1 says no error code then.
    throw new ApiError("token_missing", "This request needs a bearer access token.");
  }
  const token = match[2]?.trim() ?? "";
  if (token === "") throw new ApiError("invalid_token", "The Authorization header has no token.");
  if (token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) {
    throw new ApiError("invalid_token", "The access token is malformed.");
  }
  return token;
}

/**
 * Validates the request's bearer token and puts the caller in `c.var.principal`.
 *
 * @example
 * app.get("/me", bearerAuth(verify), (c) => c.json({ sub: c.var.principal.subject }));
 */
export function bearerAuth(verify: TokenVerifier): MiddlewareHandler<AuthEnv> {
  return async function authenticate(c, next) {
    c.set("principal", await verify(bearerToken(c.req.header("authorization"))));
    await next();
  };
}

/** Refuses a caller whose token lacks `scope` (403 insufficient_scope, RFC 6750 §3.1). Use after bearerAuth. */
export function requireScope(scope: string): MiddlewareHandler<AuthEnv> {
  return async function checkScope(c, next) {
    if (!c.var.principal.scopes.has(scope)) {
      throw new ApiError("insufficient_scope", `This request needs the ${scope} scope.`, { scope });
    }
    await next();
  };
}

/**
 * Refuses a token issued to a client acting for itself (client credentials):
 * routes that act on "the caller's own" data need a person. Use after bearerAuth.
 */
export function requireUser(): MiddlewareHandler<AuthEnv> {
  return async function checkUser(c, next) {
    if (c.var.principal.user === null) {
      throw new ApiError("user_required", "This request needs a token issued to a user, not to a client.");
    }
    await next();
  };
}
