/**
 * Which browser paths reach the API, and with what: the path rules (nothing a
 * server behind us could decode into another path) and the configured route
 * table (methods, scopes, upstream service), checked before a session is read.
 */
import { API_PREFIX } from "@oidc-bff/shared";

import type { ApiRoute } from "../config.ts";
import { BffError } from "../errors.ts";

/**
 * The API path for a browser path, or a 400. The URL parser has already
 * resolved plain `.` and `..` segments; what remains suspicious is anything
 * that a server behind us might decode into a different path: encoded slashes,
 * backslashes and dots, and empty segments.
 */
/** Encoded slashes, backslashes or dots; a backslash; an empty segment; a `.` or `..` segment. */
const SUSPICIOUS_PATH = /%2f|%5c|%2e|\\|\/\/|\/\.\.?(?:\/|$)/i;

export function apiPath(pathname: string): string {
  const rest = pathname.slice(API_PREFIX.length) || "/";
  if (!rest.startsWith("/")) throw new BffError("not_found", "No such route.");
  if (SUSPICIOUS_PATH.test(rest)) {
    throw new BffError("invalid_request", "This path is not allowed.");
  }
  return rest;
}

/** `/contacts/*` matches `/contacts/42`, not `/contacts` or `/contacts/42/x`. */
function matches(pattern: string, path: string): boolean {
  const want = pattern.split("/");
  const got = path.split("/");
  return (
    want.length === got.length &&
    want.every((part, i) => (part === "*" ? (got[i] ?? "") !== "" : part === got[i]))
  );
}

/**
 * Checks a call against the configured API routes (when there are any): a
 * path the API does not offer through the BFF is a 404, another method a 405,
 * both before a session is read or a token is sent.
 */
export function checkApiRoute(
  routes: ApiRoute[] | undefined,
  method: string,
  path: string,
): ApiRoute | undefined {
  if (!routes) return undefined;
  // A path may be listed more than once, with other methods and scopes (GET to read, POST to write).
  const forPath = routes.filter((candidate) => matches(candidate.path, path));
  if (forPath.length === 0) throw new BffError("not_found", "No such API route.");
  const withHead = (methods: string[]) => (methods.includes("GET") ? [...methods, "HEAD"] : methods);
  const matching = forPath.filter((candidate) => withHead(candidate.methods).includes(method));
  if (matching.length === 0) {
    throw new BffError("method_not_allowed", "This API route does not support this method.", {
      allow: [...new Set(forPath.flatMap((candidate) => candidate.methods))],
    });
  }
  // Every route that matches asks for its scopes, whatever the order they are listed in:
  // a broad route listed first must not hide a stricter one.
  const scopes = [...new Set(matching.flatMap((candidate) => candidate.scopes ?? []))];
  // Should two matching routes name different services, the first one listed wins.
  const upstream = matching.find((candidate) => candidate.upstream)?.upstream;
  return {
    path,
    methods: [method],
    ...(scopes.length > 0 ? { scopes } : {}),
    ...(upstream ? { upstream } : {}),
  };
}

/** The route's required scopes, checked against what the session's access token was granted. */
export function checkScopes(route: ApiRoute | undefined, granted: string[]): void {
  const missing = route?.scopes?.find((scope) => !granted.includes(scope));
  if (missing) {
    throw new BffError("insufficient_scope", `This call needs the scope ${missing}.`, { scope: missing });
  }
}
