import type { MiddlewareHandler } from "hono";

import { TokenError, tokenProblem } from "./errors.ts";
import type { Principal, TokenVerifier } from "./verify-token.ts";

/** Hono variables set by `bearerAuth`: who called, and the realm its refusals name. */
export type AuthEnv = { Variables: { principal: Principal; realm: string } };

export interface BearerAuthOptions {
  /** The realm of the RFC 6750 challenges (the API's name); default "api". */
  realm?: string;
  /** Hears every refusal, e.g. to log `idp_unavailable` (the error never carries the token). */
  onRefused?: (error: TokenError) => void;
}

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
    throw new TokenError("token_missing", "This request needs a bearer access token.");
  }
  const token = match[2]?.trim() ?? "";
  if (token === "") throw new TokenError("invalid_token", "The Authorization header has no token.");
  if (token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) {
    throw new TokenError("invalid_token", "The access token is malformed.");
  }
  return token;
}

/**
 * Validates the request's bearer token and puts the caller in `c.var.principal`; a missing,
 * invalid or expired token is answered 401 with its challenge, an IdP that cannot be asked 503.
 *
 * @example
 * app.get("/me", bearerAuth(verify, { realm: "notes" }), (c) => c.json({ sub: c.var.principal.subject }));
 */
export function bearerAuth(
  verify: TokenVerifier,
  options: BearerAuthOptions = {},
): MiddlewareHandler<AuthEnv> {
  const realm = options.realm ?? "api";
  return async function authenticate(c, next) {
    c.set("realm", realm);
    try {
      c.set("principal", await verify(bearerToken(c.req.header("authorization"))));
    } catch (error) {
      // Answered here, a problem document and its challenge: no error handler of the app needed.
      if (!(error instanceof TokenError)) throw error;
      try {
        options.onRefused?.(error);
      } catch {
        // A listener's failure must not turn a refusal into a 500.
      }
      return tokenProblem(error, realm);
    }
    await next();
  };
}

/** Refuses a caller whose token lacks `scope` (403 insufficient_scope, RFC 6750 §3.1). Use after bearerAuth. */
export function requireScope(scope: string): MiddlewareHandler<AuthEnv> {
  return async function checkScope(c, next) {
    if (!c.var.principal.scopes.has(scope)) {
      const error = new TokenError("insufficient_scope", `This request needs the ${scope} scope.`, { scope });
      return tokenProblem(error, c.var.realm);
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
      const error = new TokenError(
        "user_required",
        "This request needs a token issued to a user, not to a client.",
      );
      return tokenProblem(error, c.var.realm);
    }
    await next();
  };
}
