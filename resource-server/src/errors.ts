/**
 * How a resource server refuses a request for its token: an RFC 9457 problem
 * document (the same shape and codes as the BFF's, so `@oidc-bff/client`
 * understands it through the proxy) with the RFC 6750 `WWW-Authenticate`
 * challenge a bearer-token client expects.
 */
import { PROBLEM_CONTENT_TYPE, type Problem, type ProblemCode } from "@oidc-bff/shared";

export const TOKEN_ERROR_CODES = [
  // No bearer token at all: RFC 6750 §3.1 says the challenge then carries no error code.
  "token_missing",
  // A token was sent but is malformed, expired, wrongly signed, or not meant for this API.
  "invalid_token",
  // The token is valid but lacks the scope the route needs (the error carries that scope).
  "insufficient_scope",
  // The route acts on a person's data, but the token was issued to a client acting for itself.
  "user_required",
  // The IdP's discovery document, JWKS or introspection endpoint failed, so no token can be checked.
  "idp_unavailable",
  // A configuration value is missing or unsafe (thrown at start-up, never per request).
  "invalid_config",
] as const;

export type TokenErrorCode = (typeof TOKEN_ERROR_CODES)[number];

/** Why a token was refused. `message` is meant for the caller and ends up in `detail`. */
export class TokenError extends Error {
  override name = "TokenError";
  readonly code: TokenErrorCode;
  /** For `insufficient_scope`: the scope the route needs, announced in WWW-Authenticate. */
  readonly scope: string | undefined;

  constructor(code: TokenErrorCode, message: string, options: { cause?: unknown; scope?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.scope = options.scope;
  }
}

/** Retry-After of a 503: an IdP outage is usually short, and clients should not hammer the API meanwhile. */
export const IDP_UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

const MAPPING: Record<TokenErrorCode, { status: number; title: string; problem: ProblemCode }> = {
  token_missing: { status: 401, title: "Unauthorized", problem: "invalid_token" },
  invalid_token: { status: 401, title: "Unauthorized", problem: "invalid_token" },
  insufficient_scope: { status: 403, title: "Forbidden", problem: "insufficient_scope" },
  user_required: { status: 403, title: "Forbidden", problem: "insufficient_scope" },
  idp_unavailable: { status: 503, title: "Service Unavailable", problem: "idp_unavailable" },
  invalid_config: { status: 500, title: "Internal Server Error", problem: "internal_error" },
};

// RFC 6750 §3: error_description may only hold %x20-21 / %x23-5B / %x5D-7E (no quote, no backslash).
function quotable(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "");
}

/** The RFC 6750 challenge for a refused token, or undefined when the error is not about the token. */
function challenge(error: TokenError, realm: string): string | undefined {
  const scheme = `Bearer realm="${quotable(realm)}"`;
  switch (error.code) {
    case "token_missing":
      return scheme;
    case "invalid_token":
      return `${scheme}, error="invalid_token", error_description="${quotable(error.message)}"`;
    case "insufficient_scope":
      return `${scheme}, error="insufficient_scope", scope="${quotable(error.scope ?? "")}"`;
    case "user_required":
      return `${scheme}, error="insufficient_scope", error_description="${quotable(error.message)}"`;
    default:
      return undefined;
  }
}

/** The RFC 9457 response for a TokenError, with the RFC 6750 challenge (`realm`: the API's name). */
export function tokenProblem(error: TokenError, realm: string): Response {
  const { status, title, problem } = MAPPING[error.code];
  // A configuration error keeps its message server-side.
  const detail = error.code === "invalid_config" ? "Something went wrong." : error.message;
  const body: Problem = { type: "about:blank", title, status, detail, code: problem };
  if (error.code === "insufficient_scope" && error.scope) body.scope = error.scope;
  const headers = new Headers({ "content-type": PROBLEM_CONTENT_TYPE, "cache-control": "no-store" });
  const bearer = challenge(error, realm);
  if (bearer) headers.set("www-authenticate", bearer);
  if (error.code === "idp_unavailable")
    headers.set("retry-after", String(IDP_UNAVAILABLE_RETRY_AFTER_SECONDS));
  return new Response(JSON.stringify(body), { status, headers });
}
