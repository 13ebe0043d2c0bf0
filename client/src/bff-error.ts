/**
 * Every answer that is not 2xx becomes a BffError carrying RFC 9457 problem
 * details: the server's own, or a generic one built from the status when the
 * answer had none (an HTML page from a proxy, an empty body).
 */
import { isProblem, type Problem, type ProblemCode } from "@oidc-bff/shared";

export class BffError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(status: number, problem: Problem, options?: { cause?: unknown }) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title, options);
    this.name = "BffError";
    this.status = status;
    this.problem = problem;
  }

  get code(): ProblemCode {
    return this.problem.code;
  }
}

const CODE_BY_STATUS: Record<number, ProblemCode> = {
  400: "invalid_request",
  401: "not_authenticated",
  404: "not_found",
  405: "method_not_allowed",
  502: "upstream_unreachable",
  503: "upstream_unreachable",
  504: "upstream_timeout",
};

/** A problem for answers that carried none, so callers always have one shape to look at. */
export function genericProblem(status: number, detail?: string): Problem {
  const problem: Problem = {
    type: "about:blank",
    title: status >= 500 ? "The server could not complete the request" : "The request failed",
    status,
    code: CODE_BY_STATUS[status] ?? (status >= 500 ? "internal_error" : "invalid_request"),
  };
  if (detail) problem.detail = detail;
  return problem;
}

/** Reads a failed response into a BffError. Never throws. */
export async function errorFrom(response: Response): Promise<BffError> {
  const text = await response.text().catch(() => "");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // An HTML error page from a proxy, or nothing at all: fall through to a generic problem.
  }
  if (isProblem(body)) return new BffError(response.status, body);
  const fallback = genericProblem(response.status, response.statusText || undefined);
  // Keep what a person can read from a JSON answer that is not quite a problem (unknown code).
  if (typeof body === "object" && body !== null) {
    const { title, detail } = body as { title?: unknown; detail?: unknown };
    if (typeof title === "string") fallback.title = title;
    if (typeof detail === "string") fallback.detail = detail;
  }
  return new BffError(response.status, fallback);
}

/** True when the answer means the BFF session is gone (or never existed). */
export function isUnauthenticated(error: unknown): boolean {
  return error instanceof BffError && error.status === 401;
}

/** True when the session exists but lacks a scope the call needs (RFC 6750 §3.1). */
export function isInsufficientScope(error: unknown): boolean {
  return error instanceof BffError && error.status === 403 && error.code === "insufficient_scope";
}
