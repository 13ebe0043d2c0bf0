/**
 * What crosses the proxy in each direction, besides the body: a short list of the
 * browser's headers on the way in, a short list of the API's on the way out.
 */
/** Browser headers the API may see. Everything else (cookies above all) stays behind. */
export const FORWARDED_REQUEST_HEADERS = [
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
 * The API's answer headers that the browser gets: the forwarded list, a `Location`
 * on our own origin, the reduced challenge, and `no-store` unless the API said
 * otherwise.
 */
export function browserHeaders(header: (name: string) => string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = header(name);
    if (value !== undefined) headers[name] = value;
  }
  // A path on our own origin (a created resource) is ours to pass on; anything a browser
  // could read as another host is not (see isSameOriginPath).
  const location = header("location");
  if (location !== undefined && isSameOriginPath(location)) headers.location = location;
  const challenge = browserChallenge(header("www-authenticate") ?? null);
  if (challenge !== undefined) headers["www-authenticate"] = challenge;
  headers["cache-control"] ??= "no-store";
  return headers;
}
