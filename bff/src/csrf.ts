import { CSRF_HEADER, CSRF_HEADER_VALUE } from "@oidc-bff/shared";
import type { MiddlewareHandler } from "hono";

import { BffError } from "./errors.ts";

/**
 * Cross-site request forgery defence for `/api/*` and state-changing `/bff/*`
 * routes, three layers deep (the session cookie's SameSite=Strict is a fourth):
 *
 * 1. `x-csrf: 1` must be present. A form, a link or an image on another site
 *    cannot add a header, and a cross-origin `fetch` that adds one needs a CORS
 *    preflight, which the BFF never approves.
 * 2. `Sec-Fetch-Site`, when the browser sends it, must be `same-origin`.
 * 3. `Origin`, when present, must be the BFF's own origin.
 */
export function checkSameOriginScript(header: (name: string) => string | undefined, ownOrigin: string): void {
  if (header(CSRF_HEADER) !== CSRF_HEADER_VALUE) {
    throw new BffError(
      "csrf_check_failed",
      `This request needs the header "${CSRF_HEADER}: ${CSRF_HEADER_VALUE}".`,
    );
  }
  const site = header("sec-fetch-site");
  if (site !== undefined && site !== "same-origin") {
    throw new BffError("csrf_check_failed", "This request did not come from this site's own pages.");
  }
  const origin = header("origin");
  if (origin !== undefined && origin !== ownOrigin) {
    throw new BffError("csrf_check_failed", "This request came from another origin.");
  }
}

/** The same check as Hono middleware. */
export function requireSameOriginScript(ownOrigin: string): MiddlewareHandler {
  return async (c, next) => {
    checkSameOriginScript((name) => c.req.header(name), ownOrigin);
    await next();
  };
}
