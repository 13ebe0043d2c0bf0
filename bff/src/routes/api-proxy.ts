/**
 * ANY /api/*: the SPA's calls to the protected API, made by the BFF on its
 * behalf. The browser sends its session cookie; the API receives the access
 * token; neither sees the other's credential.
 *
 * Outgoing requests use Node's fetch (undici), which keeps connections to the
 * API alive between requests, and bodies stream through in both directions
 * without being buffered here.
 */
import { API_PREFIX } from "@oidc-bff/shared";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { countedBody, tooLarge } from "../body-limit.ts";
import type { ApiRoute } from "../config.ts";
import { requireSameOriginScript } from "../csrf.ts";
import { BffError } from "../errors.ts";
import type { BffServices } from "../services.ts";

/** Browser headers the API may see. Everything else (cookies above all) stays behind. */
const FORWARDED_REQUEST_HEADERS = [
  "accept",
  "accept-language",
  "content-type",
  "if-match",
  "if-none-match",
  "if-modified-since",
  "if-unmodified-since",
  "prefer",
];

/**
 * API response headers the browser gets. Only these: anything else the API
 * says (CORS grants, HSTS, Clear-Site-Data, a Location on an internal host,
 * cookies) would speak for the BFF's whole origin.
 */
const FORWARDED_RESPONSE_HEADERS = [
  "content-type",
  "content-length",
  "content-language",
  "cache-control",
  "etag",
  "last-modified",
  "vary",
  "retry-after",
];

/**
 * An absolute path that every browser resolves on our own origin: one slash, not followed by
 * another or by a backslash (browsers read "/\\host" as "//host", another origin), and no
 * backslash, space or control character anywhere (browsers strip those or turn a backslash
 * into a slash before resolving). "/" alone passes.
 */
function isSameOriginPath(location: string): boolean {
  if (!/^\/(?![/\\])/.test(location)) return false;
  for (const char of location) {
    const code = char.codePointAt(0) ?? 0;
    if (code <= 0x20 || code === 0x7f || char === "\\") return false;
  }
  return true;
}

/** RFC 6750 §3: `error` is a token of NQCHARs; `scope` is scope-tokens (RFC 6749 §3.3) separated by spaces. */
const CHALLENGE_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;

/**
 * The API's RFC 6750 challenge, reduced to what a page can act on: `error`
 * and `scope` (incremental consent reads the scope). `realm`,
 * `error_description`, `error_uri` and `resource_metadata` may name internal
 * hosts or echo a token, and speak of a bearer token the browser never holds;
 * the problem body carries the readable detail. Another scheme says nothing
 * the browser could use, so it is dropped.
 */
export function browserChallenge(header: string | null): string | undefined {
  if (header === null || !/^bearer(\s|$)/i.test(header)) return undefined;
  const kept: string[] = [];
  for (const name of ["error", "scope"]) {
    const value = new RegExp(`[\\s,]${name}="([^"\\\\]*)"`, "i").exec(header)?.[1];
    if (value !== undefined && CHALLENGE_VALUE.test(value)) kept.push(`${name}="${value}"`);
  }
  return kept.length > 0 ? `Bearer ${kept.join(", ")}` : "Bearer";
}

/**
 * The API path for a browser path, or a 400. The URL parser has already
 * resolved plain `.` and `..` segments; what remains suspicious is anything
 * that a server behind us might decode into a different path: encoded slashes,
 * backslashes and dots, and empty segments.
 */
export function apiPath(pathname: string): string {
  const rest = pathname.slice(API_PREFIX.length) || "/";
  if (!rest.startsWith("/")) throw new BffError("not_found", "No such route.");
  if (/%2f|%5c|%2e|\\|\/\//i.test(rest) || rest.split("/").some((s) => s === "." || s === "..")) {
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
function checkApiRoute(routes: ApiRoute[] | undefined, method: string, path: string): ApiRoute | undefined {
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
function checkScopes(route: ApiRoute | undefined, granted: string[]): void {
  const missing = route?.scopes?.find((scope) => !granted.includes(scope));
  if (missing) {
    throw new BffError("insufficient_scope", `This call needs the scope ${missing}.`, { scope: missing });
  }
}

export function apiProxyRoutes({ config, sessions, fetch, flow }: BffServices): Hono {
  const routes = new Hono();
  const base = config.apiBaseUrl.href.replace(/\/+$/, "");

  routes.all(`${API_PREFIX}/*`, requireSameOriginScript(config.ownOrigin), async (c) => {
    // Refused before anything else: a declared size over the limit is not worth a session lookup.
    const declared = Number(c.req.header("content-length") ?? 0);
    if (declared > config.apiMaxBodyBytes) throw tooLarge(config.apiMaxBodyBytes);
    const incoming = new URL(c.req.url);
    const path = apiPath(incoming.pathname);
    const route = checkApiRoute(config.apiRoutes, c.req.method, path);
    // The destination comes from configuration only, never from the request (C5).
    const target = `${route?.upstream ? route.upstream.replace(/\/+$/, "") : base}${path}${incoming.search}`;

    const session = await sessions.withFreshAccessToken(c, await sessions.require(c));
    checkScopes(route, session.tokens.scopes);

    const headers = new Headers();
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = c.req.header(name);
      if (value !== undefined) headers.set(name, value);
    }
    headers.set("authorization", `Bearer ${session.tokens.accessToken}`);
    // Node's fetch would decompress a gzip answer but keep its headers: ask for none instead.
    headers.set("accept-encoding", "identity");

    const method = c.req.method;
    const hasBody = method !== "GET" && method !== "HEAD" && c.req.raw.body !== null;
    // Streamed, never held: counted on the way to the API, and cut off past the limit.
    const body = hasBody ? countedBody(c.req.raw.body as ReadableStream, config.apiMaxBodyBytes) : undefined;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), config.apiTimeoutMs);
    const started = performance.now();
    let upstream: Response;
    try {
      upstream = await fetch(target, {
        method,
        headers,
        redirect: "manual",
        signal: timeout.signal,
        ...(body ? { body: body.stream, duplex: "half" } : {}),
      } as RequestInit);
    } catch (error) {
      if (body?.exceeded()) throw tooLarge(config.apiMaxBodyBytes);
      flow.record(session.sid, (steps) => steps.apiCallFailed({ method, path }, timeout.signal.aborted));
      if (timeout.signal.aborted) {
        throw new BffError("upstream_timeout", "The API did not answer in time.", { cause: error });
      }
      throw new BffError("upstream_unreachable", "The API could not be reached.", { cause: error });
    } finally {
      // The timeout covers the wait for the answer's headers; the body then streams at its own pace.
      clearTimeout(timer);
    }
    flow.record(session.sid, (steps) => steps.apiCall(method, incoming, upstream.status, started));

    // Through Hono's context, so that cookies the BFF set during this request
    // (a refreshed session) are sent along with the API's own headers.
    for (const name of FORWARDED_RESPONSE_HEADERS) {
      const value = upstream.headers.get(name);
      if (value !== null) c.header(name, value);
    }
    // A path on our own origin (a created resource) is ours to pass on; anything a browser
    // could read as another host is not (see isSameOriginPath).
    const location = upstream.headers.get("location");
    if (location !== null && isSameOriginPath(location)) c.header("location", location);
    const challenge = browserChallenge(upstream.headers.get("www-authenticate"));
    if (challenge !== undefined) c.header("www-authenticate", challenge);
    if (!upstream.headers.has("cache-control")) c.header("cache-control", "no-store");
    return c.body(upstream.body as ReadableStream, upstream.status as ContentfulStatusCode);
  });

  return routes;
}
