import { PROBLEM_CONTENT_TYPE, type Problem, type ProblemCode } from "@oidc-bff/shared";

/** Every way the API refuses a request (or its configuration). */
export const API_ERROR_CODES = [
  // Refusals of the token itself (missing, invalid, scope, IdP unavailable) are the
  // resource-server package's TokenError, answered by its middleware.
  "invalid_request",
  "payload_too_large",
  "not_found",
  "method_not_allowed",
  // A configuration value is missing or unsafe (thrown at start-up, never per request).
  "invalid_config",
  "internal_error",
] as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export interface ApiErrorOptions {
  cause?: unknown;
  /** For `method_not_allowed`: the methods the path does support (the Allow header). */
  allow?: string[];
  /** For `invalid_request`: per-field messages. */
  fields?: Record<string, string>;
}

/** The API's one error type. `message` is meant for the caller and ends up in `detail`. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly code: ApiErrorCode;
  readonly allow: string[] | undefined;
  readonly fields: Record<string, string> | undefined;

  constructor(code: ApiErrorCode, message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.allow = options.allow;
    this.fields = options.fields;
  }
}

/** The realm of every RFC 6750 challenge this API sends. */
export const REALM = "contacts";

const MAPPING: Record<ApiErrorCode, { status: number; title: string; problem: ProblemCode }> = {
  invalid_request: { status: 400, title: "Bad Request", problem: "invalid_request" },
  payload_too_large: { status: 413, title: "Content Too Large", problem: "payload_too_large" },
  not_found: { status: 404, title: "Not Found", problem: "not_found" },
  method_not_allowed: { status: 405, title: "Method Not Allowed", problem: "method_not_allowed" },
  invalid_config: { status: 500, title: "Internal Server Error", problem: "internal_error" },
  internal_error: { status: 500, title: "Internal Server Error", problem: "internal_error" },
};

/** The RFC 9457 response for an ApiError, with the Allow header a 405 needs. */
export function problemResponse(error: ApiError): Response {
  const { status, title, problem } = MAPPING[error.code];
  // Internal errors keep their message server-side: it may name files, SQL or upstream details.
  const detail = status >= 500 ? "Something went wrong." : error.message;
  const body: Problem = { type: "about:blank", title, status, detail, code: problem };
  if (error.fields) body.errors = error.fields;

  const headers = new Headers({ "content-type": PROBLEM_CONTENT_TYPE, "cache-control": "no-store" });
  if (error.allow) headers.set("allow", error.allow.join(", "));
  return new Response(JSON.stringify(body), { status, headers });
}
