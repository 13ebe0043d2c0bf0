/**
 * A browser's HTTP requests without a browser, for the soak test and the
 * benchmark: a cookie jar per host, redirects followed by hand, and the IdP's
 * login and consent forms filled in.
 */

export const USER = { username: "alice", password: "alice-dev-password" } as const;
export const SESSION_COOKIE = "__Host-bff-session";

/** Applies Set-Cookie lines to a name → value map (a deletion removes the cookie). */
export function applySetCookie(cookies: Map<string, string>, lines: readonly string[]): boolean {
  let changed = false;
  for (const line of lines) {
    const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
    const name = pair.slice(0, pair.indexOf("="));
    const value = pair.slice(pair.indexOf("=") + 1);
    const expired = attributes.some(
      (a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()),
    );
    if (value === "" || expired) changed = cookies.delete(name) || changed;
    else if (cookies.get(name) !== value) {
      cookies.set(name, value);
      changed = true;
    }
  }
  return changed;
}

/** The Cookie header for the BFF's session: every part (`__Host-bff-session`, `-1`, `-2`...). */
export function sessionCookieHeader(cookies: Map<string, string>): string {
  return [...cookies]
    .filter(([name]) => name === SESSION_COOKIE || name.startsWith(`${SESSION_COOKIE}-`))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${value}`)
    .join("; ");
}

export class HttpBrowser {
  /** host → cookie name → value. */
  readonly jar = new Map<string, Map<string, string>>();

  readonly origins: { bff: string; idp: string };

  constructor(origins: { bff: string; idp: string }) {
    this.origins = origins;
  }

  /** How many responses changed the session cookie (a refresh re-seals it, so this counts refreshes and more). */
  sessionCookieChanges = 0;

  /** One request, no redirect followed: sends this host's cookies, stores every Set-Cookie of the answer. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const before = this.sessionCookie();
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookies = [...(this.jar.get(target.host) ?? [])].map(([name, value]) => `${name}=${value}`);
    if (cookies.length > 0) headers.set("cookie", cookies.join("; "));
    const response = await fetch(target, { ...init, headers, redirect: "manual" });
    const jar = this.jar.get(target.host) ?? new Map<string, string>();
    applySetCookie(jar, response.headers.getSetCookie());
    this.jar.set(target.host, jar);
    const after = this.sessionCookie();
    if (before !== "" && after !== "" && after !== before) this.sessionCookieChanges++;
    return response;
  }

  /** A call to the API through the BFF, as the SPA makes it: with the CSRF header the BFF requires. */
  api(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("x-csrf", "1");
    return this.fetch(`${this.origins.bff}${path}`, { ...init, headers });
  }

  /** The BFF session's Cookie header value. */
  sessionCookie(): string {
    return sessionCookieHeader(this.jar.get(new URL(this.origins.bff).host) ?? new Map());
  }

  /** The authorization code flow through the IdP's login and consent pages, ending on the SPA. */
  async login(user: { username: string; password: string } = USER): Promise<void> {
    const { bff, idp } = this.origins;
    // Editing from the start: these clients add contacts, and are not testing consent.
    let url = `${bff}/bff/login?returnTo=${encodeURIComponent("/")}&scope=contacts:write`;
    let init: RequestInit = {};
    for (let step = 0; step < 20; step++) {
      const response = await this.fetch(url, init);
      init = {};
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        url = new URL(location, url).href;
        continue;
      }
      const here = new URL(url);
      if (here.origin === bff && !here.pathname.startsWith("/bff/")) {
        await response.body?.cancel();
        if (this.sessionCookie() === "") throw new Error("the login set no session cookie");
        return;
      }
      const uid = /^\/interaction\/([^/]+)$/.exec(here.pathname)?.[1];
      const page = await response.text();
      if (here.origin === idp && uid && response.status === 200) {
        const post = (action: string, fields: Record<string, string>) => {
          url = `${idp}/interaction/${uid}/${action}`;
          init = {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams(fields).toString(),
          };
        };
        if (page.includes(`/interaction/${uid}/login"`)) {
          post("login", { ...user });
          continue;
        }
        if (page.includes(`/interaction/${uid}/confirm"`)) {
          post("confirm", {});
          continue;
        }
      }
      throw new Error(`the login stopped at ${url} (${response.status}): ${page.slice(0, 300)}`);
    }
    throw new Error("the login: too many redirects");
  }
}
