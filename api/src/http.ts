import type { ErrorHandler, MiddlewareHandler, NotFoundHandler } from "hono";

import { ApiError, problemResponse } from "./errors.ts";

/**
 * Registered with `app.all(path, …)` after a path's real methods: any other
 * method reaches it and gets 405 with the Allow header (RFC 9110 §15.5.6).
 */
export function methodNotAllowed(allow: string[]): MiddlewareHandler {
  const methods = allow.includes("GET") ? [...allow, "HEAD"] : allow;
  return async function refuseMethod(c) {
    throw new ApiError("method_not_allowed", `${c.req.method} is not allowed here.`, { allow: methods });
  };
}

export const notFound: NotFoundHandler = (c) =>
  problemResponse(new ApiError("not_found", `There is nothing at ${c.req.path}.`));

/**
 * The one place errors become responses. ApiErrors say what the caller did
 * wrong; anything else is our fault: logged here in full (errors never carry
 * the token), answered with a bare 500 problem.
 */
export function onError(log: (message: string, error: unknown) => void): ErrorHandler {
  return (error, c) => {
    if (error instanceof ApiError) {
      return problemResponse(error);
    }
    log(`api: unexpected error on ${c.req.method} ${c.req.path}`, error);
    return problemResponse(new ApiError("internal_error", "Unexpected error."));
  };
}
