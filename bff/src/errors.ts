import { PROBLEM_CONTENT_TYPE, type Problem, type ProblemCode } from "@oidc-bff/shared";

/**
 * Every way the BFF refuses a request (or its configuration). Each code maps to
 * one HTTP status and one stable `code` of the shared problem vocabulary, which
 * is what the SPA acts on.
 */
export const BFF_ERROR_CODES = [
  // A configuration value is missing or unsafe (thrown by createBff, never per request).
  "invalid_config",
  // No session cookie, or one that cannot be read (tampered, sealed with a removed secret): log in.
  "not_authenticated",
  // The session existed but is over: lifetime reached, logged out, or the IdP refused the refresh.
  "session_expired",
  // An /api/* or state-changing /bff/* request without `x-csrf: 1`, or from another origin.
  "csrf_check_failed",
  // A malformed request: bad parameter, suspicious proxy path.
  "invalid_request",
  // A request body larger than the route accepts.
  "payload_too_large",
  "not_found",
  "method_not_allowed",
  // The session lacks a scope an API route is configured to need (apiRoutes[].scopes).
  "insufficient_scope",
  // The login could not be completed (state mismatch, denied consent, invalid ID token, ...).
  "login_failed",
  // The IdP could not be reached, or answered with an error it may recover from.
  "idp_unavailable",
  // The API could not be reached / did not answer in time.
  "upstream_unreachable",
  "upstream_timeout",
  // The shared session store (Redis) cannot be reached.
  "session_store_unavailable",
  "internal_error",
] as const;

export type BffErrorCode = (typeof BFF_ERROR_CODES)[number];

/** How long a client should wait before trying again when the IdP is unavailable (RFC 9110 §10.2.3). */
export const IDP_RETRY_AFTER_SECONDS = 5;

const MAPPING: Record<BffErrorCode, { status: number; title: string; problem: ProblemCode }> = {
  invalid_config: { status: 500, title: "Internal Server Error", problem: "internal_error" },
  not_authenticated: { status: 401, title: "Unauthorized", problem: "not_authenticated" },
  session_expired: { status: 401, title: "Unauthorized", problem: "session_expired" },
  csrf_check_failed: { status: 403, title: "Forbidden", problem: "csrf_check_failed" },
  invalid_request: { status: 400, title: "Bad Request", problem: "invalid_request" },
  payload_too_large: { status: 413, title: "Content Too Large", problem: "payload_too_large" },
  not_found: { status: 404, title: "Not Found", problem: "not_found" },
  method_not_allowed: { status: 405, title: "Method Not Allowed", problem: "method_not_allowed" },
  insufficient_scope: { status: 403, title: "Forbidden", problem: "insufficient_scope" },
  login_failed: { status: 400, title: "Bad Request", problem: "login_failed" },
  idp_unavailable: { status: 503, title: "Service Unavailable", problem: "idp_unavailable" },
  upstream_unreachable: { status: 502, title: "Bad Gateway", problem: "upstream_unreachable" },
  upstream_timeout: { status: 504, title: "Gateway Timeout", problem: "upstream_timeout" },
  session_store_unavailable: {
    status: 503,
    title: "Service Unavailable",
    problem: "session_store_unavailable",
  },
  internal_error: { status: 500, title: "Internal Server Error", problem: "internal_error" },
};

export interface BffErrorOptions {
  cause?: unknown;
  /** Seconds; sent as `Retry-After`. Defaults to IDP_RETRY_AFTER_SECONDS for idp_unavailable. */
  retryAfterSeconds?: number;
  /** For method_not_allowed: the methods the path supports (the `Allow` header). */
  allow?: string[];
  /** For insufficient_scope: the scope the call needs, named in the problem so a page can ask for it. */
  scope?: string;
}

/**
 * The BFF's one error type. `message` is written for the person or developer
 * reading the problem's `detail`: it never contains a token, a code, a cookie
 * value or an upstream body. (`cause` may; it is never sent, and only logged
 * by name and message.)
 */
export class BffError extends Error {
  override name = "BffError";
  readonly code: BffErrorCode;
  readonly retryAfterSeconds: number | undefined;
  readonly allow: string[] | undefined;
  readonly scope: string | undefined;

  constructor(code: BffErrorCode, message: string, options: BffErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfterSeconds =
      options.retryAfterSeconds ??
      (code === "idp_unavailable" || code === "session_store_unavailable"
        ? IDP_RETRY_AFTER_SECONDS
        : undefined);
    this.allow = options.allow;
    this.scope = options.scope;
  }

  get status(): number {
    return MAPPING[this.code].status;
  }
}

/** The RFC 9457 problem for an error code, as every JSON error of the BFF looks. */
export function problemBody(error: BffError): Problem {
  const { status, title, problem } = MAPPING[error.code];
  // An internal error's message may describe our internals: it stays in the log.
  const detail = status === 500 ? "Something went wrong on our side." : error.message;
  const body: Problem = { type: "about:blank", title, status, detail, code: problem };
  if (error.code === "insufficient_scope" && error.scope) body.scope = error.scope;
  return body;
}

/** The parts of the `application/problem+json` answer for a BffError, with `Retry-After` / `Allow` when they apply. */
export function problemParts(error: BffError): {
  status: number;
  headers: Record<string, string>;
  body: string;
} {
  const body = problemBody(error);
  const headers: Record<string, string> = {
    "content-type": PROBLEM_CONTENT_TYPE,
    "cache-control": "no-store",
  };
  if (error.retryAfterSeconds !== undefined) headers["retry-after"] = String(error.retryAfterSeconds);
  if (error.allow) headers.allow = error.allow.join(", ");
  return { status: body.status, headers, body: JSON.stringify(body) };
}

/** The problem answer as a Response. */
export function problemResponse(error: BffError): Response {
  const { status, headers, body } = problemParts(error);
  return new Response(body, { status, headers });
}
