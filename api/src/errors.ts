import { PROBLEM_CONTENT_TYPE, type Problem, type ProblemCode } from "@oidc-bff/shared";

/** Every way the API refuses a request (or its configuration). */
export const API_ERROR_CODES = [
  // No bearer token at all: RFC 6750 §3.1 says the challenge then carries no error code.
  "token_missing",
  // A token was sent but is malformed, expired, wrongly signed, or not meant for this API.
  "invalid_token",
  // The token is valid but lacks the scope the route needs (the error carries that scope).
  "insufficient_scope",
  // The route acts on a person's data, but the token was issued to a client acting for itself.
  "user_required",
  "invalid_request",
  "payload_too_large",
  "not_found",
  "method_not_allowed",
  // The IdP's discovery document, JWKS or introspection endpoint failed, so no token can be checked.
  "idp_unavailable",
  // A configuration value is missing or unsafe (thrown at start-up, never per request).
  "invalid_config",
  "internal_error",
] as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export interface ApiErrorOptions {
  cause?: unknown;
  /** For `insufficient_scope`: the scope the route needs, announced in WWW-Authenticate. */
  scope?: string;
  /** For `method_not_allowed`: the methods the path does support (the Allow header). */
  allow?: string[];
  /** For `invalid_request`: per-field messages. */
  fields?: Record<string, string>;
}

/** The API's one error type. `message` is meant for the caller and ends up in `detail`. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly code: ApiErrorCode;
  readonly scope: string | undefined;
  readonly allow: string[] | undefined;
  readonly fields: Record<string, string> | undefined;

  constructor(code: ApiErrorCode, message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.scope = options.scope;
    this.allow = options.allow;
    this.fields = options.fields;
  }
}

/** Retry-After of a 503: an IdP outage is usually short, and clients should not hammer us meanwhile. */
export const IDP_UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** The realm of every RFC 6750 challenge this API sends. */
export const REALM = "contacts";

const MAPPING: Record<ApiErrorCode, { status: number; title: string; problem: ProblemCode }> = {
  token_missing: { status: 401, title: "Unauthorized", problem: "invalid_token" },
  invalid_token: { status: 401, title: "Unauthorized", problem: "invalid_token" },
  insufficient_scope: { status: 403, title: "Forbidden", problem: "insufficient_scope" },
  user_required: { status: 403, title: "Forbidden", problem: "insufficient_scope" },
  invalid_request: { status: 400, title: "Bad Request", problem: "invalid_request" },
  payload_too_large: { status: 413, title: "Content Too Large", problem: "payload_too_large" },
  not_found: { status: 404, title: "Not Found", problem: "not_found" },
  method_not_allowed: { status: 405, title: "Method Not Allowed", problem: "method_not_allowed" },
  idp_unavailable: { status: 503, title: "Service Unavailable", problem: "idp_unavailable" },
  invalid_config: { status: 500, title: "Internal Server Error", problem: "internal_error" },
  internal_error: { status: 500, title: "Internal Server Error", problem: "internal_error" },
};

// RFC 6750 §3: error_description may only hold %x20-21 / %x23-5B / %x5D-7E (no quote, no backslash).
function quotable(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "");
}

/** The RFC 6750 challenge for a refused token, or undefined when the error is not about the token. */
function challenge(error: ApiError): string | undefined {
  const realm = `Bearer realm="${REALM}"`;
  switch (error.code) {
    case "token_missing":
      return realm;
    case "invalid_token":
      return `${realm}, error="invalid_token", error_description="${quotable(error.message)}"`;
    case "insufficient_scope":
      return `${realm}, error="insufficient_scope", scope="${quotable(error.scope ?? "")}"`;
    case "user_required":
      return `${realm}, error="insufficient_scope", error_description="${quotable(error.message)}"`;
    default:
      return undefined;
  }
}

/** The RFC 9457 response for an ApiError, with the RFC 6750 and Allow headers it needs. */
export function problemResponse(error: ApiError): Response {
  const { status, title, problem } = MAPPING[error.code];
  // Internal errors keep their message server-side: it may name files, SQL or upstream details.
  const detail = status >= 500 && error.code !== "idp_unavailable" ? "Something went wrong." : error.message;
  const body: Problem = { type: "about:blank", title, status, detail, code: problem };
  if (error.fields) body.errors = error.fields;
  if (error.code === "insufficient_scope" && error.scope) body.scope = error.scope;

  const headers = new Headers({ "content-type": PROBLEM_CONTENT_TYPE, "cache-control": "no-store" });
  const bearer = challenge(error);
  if (bearer) headers.set("www-authenticate", bearer);
  if (error.allow) headers.set("allow", error.allow.join(", "));
  if (error.code === "idp_unavailable")
    headers.set("retry-after", String(IDP_UNAVAILABLE_RETRY_AFTER_SECONDS));
  return new Response(JSON.stringify(body), { status, headers });
}
