import { BFF_ROUTES } from "@oidc-bff/shared";

import { END_SESSION_ROUTE } from "./routes/logout.ts";

/** Routes a person reaches by navigating (not by fetch): failures there get a page, not JSON. */
export const PAGE_ROUTES = new Set<string>([BFF_ROUTES.login, BFF_ROUTES.callback, END_SESSION_ROUTE]);

/**
 * The headers every answer of the BFF carries, whichever path served it (the Hono
 * app or the proxy's node:http path). A `content-security-policy` is added only to
 * an answer that has none: pages bring their own, with the same frame rule.
 */
export function securityHeaders(production: boolean, path: string): Record<string, string> {
  return {
    "x-content-type-options": "nosniff",
    // No answer of the BFF is meant to be shown in a frame: JSON included, which a page could
    // frame to make it look like its own.
    "content-security-policy": "frame-ancestors 'none'",
    "x-frame-options": "DENY",
    // The login, callback and end-session URLs carry code, state or an ID token hint, and a failed
    // one is shown as a page with links: no Referer from them, not even to our own origin's logs.
    "referrer-policy": PAGE_ROUTES.has(path) ? "no-referrer" : "same-origin",
    // In production the BFF is on https: tell the browser never to try plain http.
    ...(production ? { "strict-transport-security": "max-age=31536000" } : {}),
  };
}
