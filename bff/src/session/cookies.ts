import type { Context } from "hono";
import { serialize } from "hono/utils/cookie";
import { tryDecodeURIComponent } from "hono/utils/url";

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

/**
 * One request's cookies: the Cookie header the browser sent, parsed once, and the
 * Set-Cookie lines of the answer. The session code reads and writes cookies only
 * through a jar, so the same code serves a Hono route (`cookieJar(c)`) and the proxy's
 * node:http path (proxy/node-listener.ts).
 */
export class CookieJar {
  /** The Cookie header as sent ("" when there was none). */
  readonly header: string;
  /** Name → every raw value sent under it, in order; split on first use. */
  #sent: Map<string, string[]> | undefined;
  /** The names sent more than once (almost always none). */
  readonly #repeated: string[] = [];
  /** Name → value, as `get` found it (the session code asks for the same names more than once). */
  #read: Map<string, string | undefined> | undefined;
  /** Name → Set-Cookie line: one per cookie and response, the last write wins. Most answers set none. */
  #answer: Map<string, string> | undefined;
  readonly #onWrite: ((name: string, line: string) => void) | undefined;

  constructor(header: string | undefined, onWrite?: (name: string, line: string) => void) {
    this.header = header ?? "";
    this.#onWrite = onWrite;
  }

  /**
   * A cookie's value: the first one sent under that name with a valid value (RFC 6265
   * §4.1.1 characters, surrounding quotes removed, %-escapes decoded), as Hono reads it.
   * Browsers send the most specific cookie first.
   */
  get(name: string): string | undefined {
    this.#read ??= new Map();
    if (this.#read.has(name)) return this.#read.get(name);
    const value = this.#firstValid(name);
    this.#read.set(name, value);
    return value;
  }

  #firstValid(name: string): string | undefined {
    for (const raw of this.#pairs().get(name) ?? []) {
      let value = trimmed(raw);
      if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (COOKIE_VALUE.test(value)) return tryDecodeURIComponent(value);
    }
    return undefined;
  }

  /**
   * The first value sent under `name` exactly as sent (outer spaces aside): not unquoted,
   * decoded or checked. For a caller that recognizes a value it has checked before.
   */
  firstSent(name: string): string | undefined {
    const raw = this.#pairs().get(name)?.[0];
    return raw === undefined ? undefined : trimmed(raw);
  }

  /** Every cookie name sent. */
  names(): string[] {
    return [...this.#pairs().keys()];
  }

  /** The names sent more than once. */
  repeatedNames(): readonly string[] {
    this.#pairs();
    return this.#repeated;
  }

  /**
   * Split once per request, on ";" and the first "=": the session cookie alone is
   * nearly 3 KB, sent with every call, and only a few names are ever looked up.
   */
  #pairs(): Map<string, string[]> {
    if (this.#sent !== undefined) return this.#sent;
    this.#sent = new Map();
    if (this.header === "") return this.#sent;
    for (const pair of this.header.split(";")) {
      const eq = pair.indexOf("=");
      if (eq === -1) continue;
      const name = trimmed(pair.slice(0, eq));
      if (!COOKIE_NAME.test(name)) continue;
      const values = this.#sent.get(name);
      if (values === undefined) this.#sent.set(name, [pair.slice(eq + 1)]);
      else {
        if (values.length === 1) this.#repeated.push(name);
        values.push(pair.slice(eq + 1));
      }
    }
    return this.#sent;
  }

  /** Sets a cookie the BFF's way: `HttpOnly`, `Secure`, `Path=/`, no `Domain` (what `__Host-` needs). */
  set(name: string, value: string, sameSite: SameSite, maxAgeSeconds: number): void {
    const line = serialize(name, value, {
      httpOnly: true,
      secure: true,
      path: "/",
      sameSite,
      maxAge: Math.max(0, Math.floor(maxAgeSeconds)),
    });
    // A request that first records activity and then refreshes writes the session twice,
    // and only the last value may reach the browser.
    this.#answer ??= new Map();
    this.#answer.delete(name);
    this.#answer.set(name, line);
    this.#onWrite?.(name, line);
  }

  /** The answer's Set-Cookie lines. */
  setCookieLines(): string[] {
    return this.#answer === undefined ? [] : [...this.#answer.values()];
  }
}

/** Spaces and tabs off both ends (the optional whitespace around a cookie pair). */
function trimmed(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text.charCodeAt(start) === 32 || text.charCodeAt(start) === 9)) start++;
  while (end > start && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** What Hono accepts as a cookie name when it reads one: printable ASCII but the double quote, semicolon, equals sign and backslash. */
const COOKIE_NAME = /^[!#-:<>-[\]-~]+$/;

/** What Hono accepts as a cookie value: printable ASCII but the double quote, semicolon and backslash. */
const COOKIE_VALUE = /^[ !#-:<-[\]-~]*$/;

const jars = new WeakMap<Context, CookieJar>();

/** The jar of a Hono request: what it writes goes straight into the context's answer. */
export function cookieJar(c: Context): CookieJar {
  let jar = jars.get(c);
  if (jar === undefined) {
    jar = new CookieJar(c.req.header("cookie"), (name, line) => {
      const earlier = c.res.headers.getSetCookie();
      const others = earlier.filter((written) => !written.startsWith(`${name}=`));
      if (others.length !== earlier.length) {
        c.header("set-cookie", undefined);
        for (const written of others) c.header("set-cookie", written, { append: true });
      }
      c.header("set-cookie", line, { append: true });
    });
    jars.set(c, jar);
  }
  return jar;
}

export function readCookie(jar: CookieJar, name: string): string | undefined {
  return jar.get(name);
}

export function writeCookie(
  jar: CookieJar,
  name: string,
  value: string,
  sameSite: SameSite,
  maxAgeSeconds: number,
) {
  jar.set(name, value, sameSite, maxAgeSeconds);
}

/** Deletes a cookie: same name and attributes, empty value, `Max-Age=0` (RFC 6265 §3.1). */
export function clearCookie(jar: CookieJar, name: string, sameSite: SameSite) {
  jar.set(name, "", sameSite, 0);
}

/** Bytes a browser counts for a cookie: its name, "=", and its (URL-encoded, as sent) value. */
export function cookieSize(name: string, value: string): number {
  return Buffer.byteLength(`${name}=${encodeURIComponent(value)}`);
}
