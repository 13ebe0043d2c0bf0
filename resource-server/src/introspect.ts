import { createHash } from "node:crypto";
import { DEFAULT_IDP_TIMEOUT_MS, discoverEndpoint } from "./discovery.ts";
import { TokenError } from "./errors.ts";
import { type Principal, principalFromClaims, type TokenVerifier } from "./verify-token.ts";

/** Reusing an answer delays a revocation by as long: beyond a minute the point of introspecting is lost. */
export const MAX_INTROSPECTION_CACHE_SECONDS = 60;
const CACHE_SIZE = 10_000;

export interface IntrospectionVerifierOptions {
  /** The IdP: its discovery document names the introspection endpoint, and answers must carry it as `iss`. */
  issuer: string;
  /** This API: an answer's `aud` must contain it. */
  audience: string;
  /** The API's own confidential client at the IdP (client_secret_basic). */
  clientId: string;
  clientSecret: string;
  clockToleranceSeconds: number;
  /**
   * How long an `active` answer may be reused, in seconds (at most 60, never
   * past the token's `exp`). 0, the default, asks the IdP on every request: a
   * revoked token is refused at once, which is why one introspects at all.
   */
  cacheSeconds?: number;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** The clock, ms since the epoch; default Date.now. */
  now?: () => number;
  timeoutMs?: number;
}

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before they are joined and base64-encoded. */
function basicCredentials(clientId: string, clientSecret: string): string {
  const encode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString("base64")}`;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Validates each bearer token by asking the IdP (RFC 7662 token introspection)
 * instead of checking a signature: the only way to accept opaque tokens, and
 * the way to refuse a token the moment it is revoked.
 *
 * The answer is held to the same rules as a JWT access token: `active` true,
 * `iss` the configured issuer, `aud` containing this API, `token_type` Bearer,
 * `exp` not passed (with the clock tolerance), `nbf` reached, a `client_id`,
 * and a `scope` string if any. `sub` is optional in RFC 7662: without it the
 * token was issued to the client acting for itself, which makes the subject
 * the client (as RFC 9068 §2.2 does for JWTs) and the token one without a user.
 *
 * Failures: a refused token is `invalid_token` (401); an IdP that cannot be
 * reached, is too slow, refuses the API's own credentials or answers nonsense
 * is `idp_unavailable` (503): never the caller's fault, never a 500.
 *
 * @example
 * const verify = createIntrospectionVerifier({ issuer, audience, clientId: "contacts-api",
 *   clientSecret, clockToleranceSeconds: 5, fetch, now: Date.now });
 * app.get("/me", bearerAuth(verify), handler);
 */
export function createIntrospectionVerifier(input: IntrospectionVerifierOptions): TokenVerifier {
  const options = {
    ...input,
    now: input.now ?? Date.now,
    fetch: input.fetch ?? ((url: string | URL | Request, init?: RequestInit) => globalThis.fetch(url, init)),
  };
  const cacheMs = (options.cacheSeconds ?? 0) * 1000;
  const timeoutMs = options.timeoutMs ?? DEFAULT_IDP_TIMEOUT_MS;
  const toleranceMs = options.clockToleranceSeconds * 1000;
  const authorization = basicCredentials(options.clientId, options.clientSecret);

  // Found by discovery on first use; a failed discovery is not kept (the next request tries again).
  let endpoint: string | undefined;
  let discovering: Promise<string> | undefined;
  async function introspectionEndpoint(): Promise<string> {
    if (endpoint) return endpoint;
    discovering ??= discoverEndpoint(
      options.fetch,
      options.issuer,
      "introspection_endpoint",
      timeoutMs,
    ).finally(() => {
      discovering = undefined;
    });
    endpoint = await discovering;
    return endpoint;
  }

  async function introspect(token: string): Promise<Record<string, unknown>> {
    const url = await introspectionEndpoint();
    let response: Response;
    try {
      response = await options.fetch(url, {
        method: "POST",
        headers: {
          authorization,
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body: new URLSearchParams({ token, token_type_hint: "access_token" }).toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (cause) {
      throw new TokenError("idp_unavailable", "The identity provider cannot be reached (introspection).", {
        cause,
      });
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (response.status === 200) {
      if (isObject(body)) return body;
      throw new TokenError(
        "idp_unavailable",
        "The identity provider's introspection answer is not a JSON object.",
      );
    }
    const error = isObject(body) ? body.error : undefined;
    // oidc-provider refuses to introspect JWTs this way: such a token cannot be checked here.
    if (response.status === 400 && error === "unsupported_token_type") {
      throw new TokenError(
        "invalid_token",
        "The identity provider cannot introspect this kind of access token.",
      );
    }
    if (response.status === 401 || error === "invalid_client") {
      throw new TokenError(
        "idp_unavailable",
        "The identity provider refused the API's own credentials for introspection.",
      );
    }
    throw new TokenError(
      "idp_unavailable",
      `The identity provider answered ${response.status} to introspection.`,
    );
  }

  function principalFrom(
    answer: Record<string, unknown>,
    now: number,
  ): { principal: Principal; expiresAt: number } {
    // RFC 7662 §2.2: anything but `true` (revoked, expired, unknown, not ours to see) is inactive.
    if (answer.active !== true) {
      throw new TokenError("invalid_token", "The access token is not active (revoked, expired or unknown).");
    }
    if (answer.iss !== options.issuer)
      throw new TokenError("invalid_token", "The access token's iss claim is not valid.");
    const audiences = Array.isArray(answer.aud) ? answer.aud : [answer.aud];
    if (!audiences.includes(options.audience)) {
      throw new TokenError("invalid_token", "The access token's aud claim is not valid.");
    }
    // An OAuth token type (RFC 6749 §7.1), not a JWT typ: a refresh token has none, a DPoP-bound token says DPoP.
    if (typeof answer.token_type !== "string" || answer.token_type.toLowerCase() !== "bearer") {
      throw new TokenError("invalid_token", "The token is not a bearer access token.");
    }
    const { exp, nbf } = answer;
    if (typeof exp !== "number" || !Number.isFinite(exp)) {
      throw new TokenError("invalid_token", "The access token has no exp claim.");
    }
    if (exp * 1000 + toleranceMs <= now) throw new TokenError("invalid_token", "The access token expired.");
    if (nbf !== undefined && (typeof nbf !== "number" || nbf * 1000 - toleranceMs > now)) {
      throw new TokenError("invalid_token", "The access token's nbf claim is not valid.");
    }
    const principal = principalFromClaims(answer.sub ?? answer.client_id, answer.client_id, answer.scope);
    return { principal, expiresAt: exp * 1000 };
  }

  // Keyed by a hash: the map never holds bearer tokens themselves.
  const remembered = new Map<string, { principal: Principal; until: number }>();
  // Requests that arrive together with one token (a page's parallel calls) share one introspection.
  const inFlight = new Map<string, Promise<{ principal: Principal; expiresAt: number }>>();

  return async function introspectToken(token) {
    const key = createHash("sha256").update(token).digest("base64url");
    const known = remembered.get(key);
    if (known && known.until > options.now()) return known.principal;
    if (known) remembered.delete(key);

    let pending = inFlight.get(key);
    if (!pending) {
      pending = introspect(token).then((answer) => principalFrom(answer, options.now()));
      inFlight.set(key, pending);
      pending.then(
        () => inFlight.delete(key),
        () => inFlight.delete(key),
      );
    }
    const { principal, expiresAt } = await pending;
    if (cacheMs > 0) {
      remembered.set(key, { principal, until: Math.min(expiresAt, options.now() + cacheMs) });
      if (remembered.size > CACHE_SIZE) remembered.delete(remembered.keys().next().value as string);
    }
    return principal;
  };
}
