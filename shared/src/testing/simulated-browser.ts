/**
 * Test support: the HTTP side of a browser on top of `CookieStore`, for every
 * test suite and script that plays a person. It knows which page it is on, so
 * each request gets the context Chromium would give it: a navigation (address
 * bar, link, form, redirect) or a subresource (the page's fetch/XHR), who
 * started it, and the redirects it went through. Every request is recorded
 * with the names of the cookies it carried, for tests to assert on.
 */
import {
  type CookieRequest,
  CookieStore,
  type CookieStoreOptions,
  type StoreResult,
} from "./cookie-store.ts";

export type RequestKind = "navigation" | "subresource";

export interface BrowserRequestInit extends Omit<RequestInit, "redirect"> {
  /**
   * Default: "subresource" when the request carries a header a navigation cannot
   * (the SPA's `x-csrf`), "navigation" otherwise.
   */
  kind?: RequestKind;
  /**
   * The origin of the page that started it; `null` for a navigation the browser
   * started. Default for a navigation: `null`, a URL typed in the address bar (as
   * Playwright's `page.goto`), unless it continues one `navigate` stopped before
   * this URL; a redirect or a form keeps or names its initiator. Default for a
   * subresource: the page's origin (the target's own when there is no page).
   */
  initiator?: string | null;
}

export type NavigateInit = Omit<BrowserRequestInit, "kind"> & { stopBefore?: string; maxRedirects?: number };

export interface RecordedRequest {
  method: string;
  url: string;
  kind: RequestKind;
  initiator: string | null;
  /** Names of the cookies the Cookie header carried, in header order. */
  cookies: string[];
  status: number;
  /** What happened to each Set-Cookie of the answer. */
  set: StoreResult[];
}

export interface NavigationResult {
  response: Response;
  /** The URL of the final response. */
  url: string;
  /** Every URL requested, in order. */
  chain: string[];
}

const REDIRECT = new Set([301, 302, 303, 307, 308]);

/** Headers only script can add: a request with one is a fetch/XHR, never a navigation. */
const SCRIPT_ONLY_HEADERS = ["x-csrf"];

export class SimulatedBrowser {
  readonly cookies: CookieStore;
  readonly requests: RecordedRequest[] = [];
  /** The top-level page's URL, once a navigation has ended (or been stopped on its way). */
  page: string | undefined;
  /** Keep the request log (turn off for load tests that make many requests). */
  record = true;
  private readonly send: (url: string, init: RequestInit) => Promise<Response>;
  /** A navigation that was stopped before a redirect target: requesting that URL continues it. */
  private pending: { url: string; initiator: string | null; chain: string[] } | undefined;

  constructor(
    send: (input: string, init: RequestInit) => Promise<Response> = (input, init) => fetch(input, init),
    options: CookieStoreOptions = {},
  ) {
    this.send = send;
    this.cookies = new CookieStore(options);
  }

  /**
   * One request, no redirect followed: sends the cookies its context allows and
   * stores the answer's Set-Cookie lines. A navigation moves the browser to the URL.
   */
  async fetch(url: string, init: BrowserRequestInit = {}): Promise<Response> {
    const { kind: givenKind, initiator: givenInitiator, ...rest } = init;
    const headers = new Headers(rest.headers);
    const kind =
      givenKind ?? (SCRIPT_ONLY_HEADERS.some((name) => headers.has(name)) ? "subresource" : "navigation");
    const target = new URL(url).href;
    let chain: string[] = [];
    let initiator: string | null;
    if (kind === "navigation" && this.pending?.url === target && givenInitiator === undefined) {
      ({ initiator, chain } = this.pending);
    } else if (givenInitiator !== undefined) {
      initiator = givenInitiator;
    } else if (kind === "navigation") {
      initiator = null;
    } else {
      initiator = new URL(this.page ?? target).origin;
    }
    this.pending = undefined;
    return this.request(target, { ...rest, headers }, { kind, initiator, chain });
  }

  /**
   * A navigation: follows redirects as a browser does (303, and 301/302 after a POST,
   * become GET without a body; 307/308 keep method and body). The initiator stays the
   * one that started it; the chain grows with each hop. `stopBefore` ends it, without
   * requesting it, at the first URL that starts with that prefix: fetching that URL
   * next continues the same navigation.
   */
  navigate(url: string, init: NavigateInit = {}): Promise<NavigationResult> {
    return this.follow(url, init);
  }

  /** `navigate` itself, for `submitForm` (a subclass may give `navigate` another meaning). */
  private async follow(url: string, init: NavigateInit): Promise<NavigationResult> {
    const { stopBefore, maxRedirects = 20, initiator: givenInitiator, ...rest } = init;
    const initiator = givenInitiator ?? null;
    let current = new URL(url).href;
    let requestInit: RequestInit = rest;
    const chain: string[] = [];
    for (let hop = 0; hop <= maxRedirects; hop++) {
      if (stopBefore && current.startsWith(stopBefore)) {
        this.pending = { url: current, initiator, chain: [...chain] };
        return { response: new Response(null, { status: 204 }), url: current, chain };
      }
      const response = await this.request(current, requestInit, {
        kind: "navigation",
        initiator,
        chain: [...chain],
      });
      chain.push(current);
      const location = response.headers.get("location");
      if (!REDIRECT.has(response.status) || !location) return { response, url: current, chain };
      await response.body?.cancel();
      const method = (requestInit.method ?? "GET").toUpperCase();
      const keepsMethod =
        response.status === 307 || response.status === 308 || method === "GET" || method === "HEAD";
      if (!keepsMethod || (response.status === 303 && method !== "HEAD")) {
        const headers = new Headers(requestInit.headers);
        headers.delete("content-type");
        requestInit = { method: "GET", headers };
      }
      current = new URL(location, current).href;
    }
    throw new Error(`too many redirects from ${url}`);
  }

  /** Submits a form of the current page (a navigation the page starts). */
  submitForm(action: string, fields: Record<string, string> | URLSearchParams, stopBefore?: string) {
    const page = this.page;
    if (!page) throw new Error("no page to submit a form from");
    return this.follow(new URL(action, page).href, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
      initiator: new URL(page).origin,
      ...(stopBefore ? { stopBefore } : {}),
    });
  }

  /** Names of the cookies each recorded request carried, as "METHOD /path: a, b". */
  cookieLog(): string[] {
    return this.requests.map((r) => `${r.method} ${new URL(r.url).pathname}: ${r.cookies.join(", ")}`);
  }

  private async request(
    url: string,
    init: RequestInit,
    context: { kind: RequestKind; initiator: string | null; chain: string[] },
  ): Promise<Response> {
    const method = (init.method ?? "GET").toUpperCase();
    const cookieRequest: CookieRequest = {
      url,
      method,
      kind: context.kind,
      initiator: context.initiator,
      redirectChain: context.chain,
      ...(context.kind === "subresource" && this.page ? { topLevel: this.page } : {}),
    };
    const sent = this.cookies.cookiesFor(cookieRequest);
    const headers = new Headers(init.headers);
    headers.delete("cookie");
    if (sent.length > 0) {
      headers.set("cookie", sent.map((c) => (c.name === "" ? c.value : `${c.name}=${c.value}`)).join("; "));
    }
    // Browsers send Origin on every POST (and on every cross-origin fetch); the IdP checks it.
    if (!headers.has("origin") && context.initiator && method !== "GET" && method !== "HEAD") {
      headers.set("origin", context.initiator);
    }
    const response = await this.send(url, { ...init, method, headers, redirect: "manual" });
    const set = this.cookies.storeResponse(cookieRequest, response.headers.getSetCookie());
    if (this.record) {
      this.requests.push({
        method,
        url,
        kind: context.kind,
        initiator: context.initiator,
        cookies: sent.map((c) => c.name),
        status: response.status,
        set,
      });
    }
    if (context.kind === "navigation") this.page = url;
    return response;
  }
}
