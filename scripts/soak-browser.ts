/**
 * A very small "browser" for the soak test: real HTTP with the global fetch,
 * one cookie jar per origin, redirects followed by hand, and just enough
 * knowledge of the IdP's login and consent pages to sign a person in.
 *
 * A real browser keys cookies by host, not by origin; here every party has its
 * own host:port, so a jar per origin ("localhost:3000", "127.0.0.1:4000") is
 * the same thing and simpler to read.
 */
import { ADDRESSES } from "./system.ts";

export const USERS = {
  alice: { username: "alice", password: "alice-dev-password" },
  bob: { username: "bob", password: "bob-dev-password" },
} as const;

/** The BFF's session cookie; a large session is split into __Host-bff-session-1, -2... */
export const SESSION_COOKIE = "__Host-bff-session";

export class SoakBrowser {
  /** origin host ("localhost:3000") → cookie name → value. */
  readonly jar = new Map<string, Map<string, string>>();
  /** How many responses changed the session cookie (a refresh re-seals it, so this counts refreshes and more). */
  sessionCookieChanges = 0;

  /** One request, no redirect followed: sends this origin's cookies, stores every Set-Cookie of the answer. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookies = [...(this.jar.get(target.host) ?? [])].map(([name, value]) => `${name}=${value}`);
    if (cookies.length > 0) headers.set("cookie", cookies.join("; "));
    const response = await fetch(target, { ...init, headers, redirect: "manual" });
    this.store(target.host, response);
    return response;
  }

  /** A call to the API through the BFF, as the SPA makes it: with the CSRF header the BFF requires. */
  api(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("x-csrf", "1");
    return this.fetch(`${ADDRESSES.bff}${path}`, { ...init, headers });
  }

  /** The current session cookie, all parts joined (to notice when the BFF rotates it). */
  sessionCookie(): string {
    const cookies = this.jar.get(new URL(ADDRESSES.bff).host) ?? new Map<string, string>();
    return [...cookies]
      .filter(([name]) => name === SESSION_COOKIE || name.startsWith(`${SESSION_COOKIE}-`))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => `${name}=${value}`)
      .join("; ");
  }

  private store(host: string, response: Response): void {
    const before = this.sessionCookie();
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
      const name = pair.slice(0, pair.indexOf("="));
      const value = pair.slice(pair.indexOf("=") + 1);
      // A cookie is deleted by sending it empty, with Max-Age=0 or with an Expires in the past.
      const expired = attributes.some(
        (a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()),
      );
      const cookies = this.jar.get(host) ?? new Map<string, string>();
      if (value === "" || expired) cookies.delete(name);
      else cookies.set(name, value);
      this.jar.set(host, cookies);
    }
    const after = this.sessionCookie();
    if (before !== "" && after !== "" && after !== before) this.sessionCookieChanges++;
  }

  /**
   * The authorization code flow, as a person does it in a browser:
   * GET /bff/login → 302 to the IdP's /auth → 302 to /interaction/<uid> (the
   * login page) → POST username and password → consent page → POST confirm →
   * redirects back to /bff/callback, where the BFF swaps the code for tokens
   * and sets its session cookie → 302 to returnTo.
   */
  async login(user: { username: string; password: string }): Promise<void> {
    let url = `${ADDRESSES.bff}/bff/login?returnTo=${encodeURIComponent("/")}`;
    let init: RequestInit = {};
    for (let step = 0; step < 20; step++) {
      const response = await this.fetch(url, init);
      init = {};
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        url = new URL(location, url).href;
        continue;
      }
      const here = new URL(url);
      // Back on the BFF's origin, and not on one of its /bff/ routes: the login is complete.
      if (here.origin === ADDRESSES.bff && !here.pathname.startsWith("/bff/")) {
        await response.body?.cancel();
        if (this.sessionCookie() === "") throw new Error(`login as ${user.username} set no session cookie`);
        return;
      }
      // One of the IdP's interaction pages: fill in the form it shows.
      const uid = /^\/interaction\/([^/]+)$/.exec(here.pathname)?.[1];
      const page = await response.text();
      if (here.origin === ADDRESSES.idp && uid && response.status === 200) {
        const post = (action: string, fields: Record<string, string>) => {
          url = `${ADDRESSES.idp}/interaction/${uid}/${action}`;
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
      throw new Error(
        `login as ${user.username} stopped at ${url} (${response.status}): ${page.slice(0, 300)}`,
      );
    }
    throw new Error(`login as ${user.username}: too many redirects`);
  }
}
