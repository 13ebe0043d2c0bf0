/**
 * RFC 9457 problem details, as the BFF and the API answer every JSON error.
 * `code` is stable and machine-readable: the SPA decides what to do from it,
 * never from `title` or `detail`, which are for people.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: ProblemCode;
  /** Per-field messages when a request body was refused (`invalid_request`), e.g. `{ email: "Email is not valid." }`. */
  errors?: Record<string, string>;
  /**
   * For `insufficient_scope`: the scope the call needs (as in RFC 6750's
   * `WWW-Authenticate: … scope="…"`), so a page can ask the person for it.
   */
  scope?: string;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** Every `code` the BFF and the API can answer. */
export const PROBLEM_CODES = [
  // The request has no session, or the session cookie is unreadable: log in.
  "not_authenticated",
  // The session existed but can no longer be used (refresh refused, ended elsewhere): log in again.
  "session_expired",
  // A state-changing or /api/* request arrived without the `x-csrf: 1` header or from a foreign origin.
  "csrf_check_failed",
  // The request itself is malformed (bad JSON, bad parameter, bad path).
  "invalid_request",
  // The request's body is larger than the route accepts (413).
  "payload_too_large",
  // The access token does not carry the scope this call needs.
  "insufficient_scope",
  // The access token is missing, expired or invalid (API side).
  "invalid_token",
  "not_found",
  "method_not_allowed",
  // The IdP could not be reached or answered with an error during login, refresh or logout.
  "idp_unavailable",
  // The login could not be completed (state mismatch, denied consent, bad ID token, ...).
  "login_failed",
  // The API could not be reached, or was too slow.
  "upstream_unreachable",
  "upstream_timeout",
  // The BFF's shared session store (Redis) cannot be reached: try again shortly (with Retry-After).
  "session_store_unavailable",
  "internal_error",
] as const;

export type ProblemCode = (typeof PROBLEM_CODES)[number];

export function isProblem(value: unknown): value is Problem {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Problem).status === "number" &&
    typeof (value as Problem).code === "string" &&
    (PROBLEM_CODES as readonly string[]).includes((value as Problem).code)
  );
}
