/**
 * A browser's HTTP requests without a browser, for the soak test, the fault
 * suite and the benchmark: the shared simulated browser (Chromium's cookie
 * rules, shared/src/testing), redirects followed like a navigation, and the
 * IdP's login and consent forms filled in. It keeps no request log: these
 * clients make many thousands of requests.
 */
import type { CookieStore } from "../shared/src/testing/cookie-store.ts";
import {
  type BrowserRequestInit,
  type NavigationResult,
  SimulatedBrowser,
} from "../shared/src/testing/simulated-browser.ts";

export const USER = { username: "alice", password: "alice-dev-password" } as const;
export const SESSION_COOKIE = "__Host-bff-session";

const isSessionPart = (name: string) => name === SESSION_COOKIE || name.startsWith(`${SESSION_COOKIE}-`);

/** What the SPA's fetch to the BFF is, for the cookie rules. */
const spaCall = (bff: string) => ({ url: `${bff}/api/`, kind: "subresource", initiator: bff }) as const;

/**
 * Applies Set-Cookie lines answered to an SPA call to `bff` (a deletion removes the
 * cookie); true when the session cookie changed.
 */
export function applySetCookie(store: CookieStore, bff: string, lines: readonly string[]): boolean {
  const before = sessionCookieHeader(store, bff);
  store.storeResponse(spaCall(bff), lines);
  return sessionCookieHeader(store, bff) !== before;
}

/** The last header built per store: the benchmark asks for it on every request. */
const built = new WeakMap<CookieStore, { version: number; bff: string; until: number; header: string }>();

/** The Cookie header for the BFF's session, as the SPA's calls carry it: every part (`-1`, `-2`...). */
export function sessionCookieHeader(store: CookieStore, bff: string): string {
  const now = Date.now();
  const last = built.get(store);
  if (last && last.version === store.version && last.bff === bff && now < last.until) return last.header;
  const parts = store
    .cookiesFor(spaCall(bff))
    .filter((cookie) => isSessionPart(cookie.name))
    .sort((a, b) => a.name.localeCompare(b.name));
  const header = parts.map((cookie) => `${cookie.name}=${cookie.value}`).join("; ");
  // Only a change to the store or the expiry of a part can change it.
  const until = Math.min(...parts.map((cookie) => cookie.expires ?? Number.POSITIVE_INFINITY));
  built.set(store, { version: store.version, bff, until, header });
  return header;
}

export class HttpBrowser extends SimulatedBrowser {
  readonly origins: { bff: string; idp: string };

  /** `send`: how requests go out (default: Node's fetch, see SimulatedBrowser). */
  constructor(
    origins: { bff: string; idp: string },
    send?: (input: string, init: RequestInit) => Promise<Response>,
  ) {
    super(send);
    this.origins = origins;
    this.record = false;
  }

  /** How many responses changed the session cookie (a refresh re-seals it, so this counts refreshes and more). */
  sessionCookieChanges = 0;

  /** The store the session cookie lives in, for clients that send it themselves (the benchmark). */
  get jar(): CookieStore {
    return this.cookies;
  }

  /** One request, no redirect followed (see SimulatedBrowser.fetch), counting session cookie changes. */
  override async fetch(url: string, init: BrowserRequestInit = {}): Promise<Response> {
    const before = this.sessionCookie();
    const response = await super.fetch(url, init);
    const after = this.sessionCookie();
    if (before !== "" && after !== "" && after !== before) this.sessionCookieChanges++;
    return response;
  }

  /** A call to the API through the BFF, as the SPA makes it: a same-origin fetch with the CSRF header. */
  api(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("x-csrf", "1");
    return this.fetch(`${this.origins.bff}${path}`, {
      ...init,
      headers,
      kind: "subresource",
      initiator: this.origins.bff,
    });
  }

  /** The BFF session's Cookie header value. */
  sessionCookie(): string {
    return sessionCookieHeader(this.cookies, this.origins.bff);
  }

  /** The authorization code flow through the IdP's login and consent pages, ending on the SPA. */
  async login(user: { username: string; password: string } = USER): Promise<void> {
    const { bff } = this.origins;
    // Editing from the start: these clients add contacts, and are not testing consent.
    const start = await this.navigate(
      `${bff}/bff/login?returnTo=${encodeURIComponent("/")}&scope=contacts:write`,
    );
    const { response } = await this.signInAtIdp(
      start,
      (here) => here.origin === bff && !here.pathname.startsWith("/bff/"),
      user,
    );
    await response.body?.cancel();
    if (this.sessionCookie() === "") throw new Error("the login set no session cookie");
  }

  /**
   * Fills in the IdP's login and consent pages, from the navigation `first` on,
   * until a page that `arrived` accepts (its response is left unread): the
   * login of any relying party of the IdP, such as the benchmark's Apache.
   */
  async signInAtIdp(
    first: NavigationResult,
    arrived: (url: URL) => boolean,
    user: { username: string; password: string } = USER,
  ): Promise<NavigationResult> {
    const { idp } = this.origins;
    let step = first;
    for (let page = 0; page < 6; page++) {
      const here = new URL(step.url);
      const { response } = step;
      if (arrived(here)) return step;
      const uid = /^\/interaction\/([^/]+)$/.exec(here.pathname)?.[1];
      const body = await response.text();
      if (here.origin === idp && uid && response.status === 200) {
        if (body.includes(`/interaction/${uid}/login"`)) {
          step = await this.submitForm(`/interaction/${uid}/login`, { ...user });
          continue;
        }
        if (body.includes(`/interaction/${uid}/confirm"`)) {
          step = await this.submitForm(`/interaction/${uid}/confirm`, {});
          continue;
        }
      }
      throw new Error(`the login stopped at ${step.url} (${response.status}): ${body.slice(0, 300)}`);
    }
    throw new Error("the login: too many pages");
  }
}
