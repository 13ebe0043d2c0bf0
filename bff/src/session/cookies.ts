import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";

/**
 * The BFF's cookies (docs/decisions/003). All are `__Host-` cookies: the
 * browser only accepts them with `Secure`, `Path=/` and no `Domain`, so no
 * other host (not even a sibling subdomain) can set or overwrite them. All are
 * `HttpOnly`: script on the page — ours or injected — cannot read them.
 */
export const SESSION_COOKIE = "__Host-bff-session";
export const LOGIN_COOKIE = "__Host-bff-login";
/** For one minute after logout: binds the end-session ticket to this browser (logout-ticket.ts). */
export const LOGOUT_COOKIE = "__Host-bff-logout";
/** Development only: set at logout while the flow inspector is on (inspector/ended-log-cookie.ts). */
export const INSPECTOR_COOKIE = "__Host-bff-inspector";

/**
 * Browsers keep at most 4096 bytes of name + value per cookie (RFC 6265 §6.1
 * asks for "at least 4096"; that is what they do). A bigger cookie is silently
 * dropped, which would look like a login that never happened.
 */
export const MAX_COOKIE_BYTES = 4096;

export type SameSite = "Strict" | "Lax";

export function readCookie(c: Context, name: string): string | undefined {
  return getCookie(c, name);
}

export function writeCookie(
  c: Context,
  name: string,
  value: string,
  sameSite: SameSite,
  maxAgeSeconds: number,
) {
  // One Set-Cookie per cookie and response: a request that first records activity and then
  // refreshes writes the session twice, and only the last value may reach the browser.
  const earlier = c.res.headers.getSetCookie();
  const others = earlier.filter((line) => !line.startsWith(`${name}=`));
  if (others.length !== earlier.length) {
    c.header("set-cookie", undefined);
    for (const line of others) c.header("set-cookie", line, { append: true });
  }
  setCookie(c, name, value, {
    httpOnly: true,
    secure: true,
    path: "/",
    sameSite,
    maxAge: Math.max(0, Math.floor(maxAgeSeconds)),
  });
}

/** Deletes a cookie: same name and attributes, empty value, `Max-Age=0` (RFC 6265 §3.1). */
export function clearCookie(c: Context, name: string, sameSite: SameSite) {
  writeCookie(c, name, "", sameSite, 0);
}

/** Bytes a browser counts for a cookie: its name, "=", and its (URL-encoded, as sent) value. */
export function cookieSize(name: string, value: string): number {
  return Buffer.byteLength(`${name}=${encodeURIComponent(value)}`);
}
