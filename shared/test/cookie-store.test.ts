/**
 * The cookie rules of the simulated browser (shared/src/testing), one test per
 * rule: each fails if its rule is broken. Hosts as in this system: the BFF on
 * localhost:3000, the API on localhost:4001, the IdP on 127.0.0.1:4000.
 */
import { describe, expect, it } from "vitest";

import {
  type CookieRequest,
  CookieStore,
  defaultPath,
  isSameSiteRequest,
  LAX_ALLOWING_UNSAFE_MS,
  MAX_COOKIE_LIFETIME_MS,
  siteOf,
} from "../src/testing/cookie-store.ts";
import { SimulatedBrowser } from "../src/testing/simulated-browser.ts";

const BFF = "http://localhost:3000";
const API = "http://localhost:4001";
const IDP = "http://127.0.0.1:4000";

/** A navigation the browser starts itself (address bar): same-site. */
const typed = (url: string, method = "GET"): CookieRequest => ({
  url,
  method,
  kind: "navigation",
  initiator: null,
});
/** A navigation a page of `from` starts (link, form, or a redirect chain it began). */
const from = (initiator: string, url: string, method = "GET"): CookieRequest => ({
  url,
  method,
  kind: "navigation",
  initiator,
});
/** The page's fetch/XHR. */
const fetchFrom = (page: string, url: string, method = "GET"): CookieRequest => ({
  url,
  method,
  kind: "subresource",
  initiator: new URL(page).origin,
  topLevel: page,
});

function storeWith(lines: string[], at = `${BFF}/`, now?: () => number): CookieStore {
  const store = new CookieStore(now ? { now } : {});
  for (const line of lines) expect(store.store(typed(at), line), line).toMatchObject({ stored: true });
  return store;
}

const names = (store: CookieStore, request: CookieRequest) => store.cookiesFor(request).map((c) => c.name);

describe("sites (§5.2)", () => {
  it("localhost and IP addresses are their own site; ports never count; schemes do", () => {
    expect(siteOf(`${BFF}/x`)).toBe(siteOf(`${API}/y`));
    expect(siteOf(BFF)).not.toBe(siteOf(IDP));
    expect(siteOf("http://localhost")).not.toBe(siteOf("https://localhost"));
    expect(siteOf("https://app.example.com")).toBe(siteOf("https://idp.example.com:8443"));
    expect(siteOf("http://127.0.0.1:4000")).not.toBe(siteOf("http://127.0.0.2:4000"));
  });

  it("a navigation is same-site when the browser or a same-site page starts it", () => {
    expect(isSameSiteRequest(typed(`${BFF}/`), false)).toBe(true);
    expect(isSameSiteRequest(from(API, `${BFF}/`), false)).toBe(true);
    expect(isSameSiteRequest(from(IDP, `${BFF}/bff/callback`), false)).toBe(false);
  });

  it("with redirectChainCounts, a chain through another site makes the navigation cross-site", () => {
    const backFromIdp = {
      ...typed(`${BFF}/bff/callback`),
      redirectChain: [`${BFF}/bff/login`, `${IDP}/auth`],
    };
    expect(isSameSiteRequest(backFromIdp, true)).toBe(false);
    expect(isSameSiteRequest(backFromIdp, false)).toBe(true);
  });

  it("a subresource is same-site when its page and its initiator are", () => {
    expect(isSameSiteRequest(fetchFrom(`${BFF}/contacts`, `${API}/contacts`), false)).toBe(true);
    expect(isSameSiteRequest(fetchFrom(`${IDP}/x`, `${BFF}/api/contacts`), false)).toBe(false);
  });
});

describe("parsing and storing Set-Cookie (§5.6, §5.7)", () => {
  it("a cookie without Domain is host-only: not sent to another host, sent on any port of its host", () => {
    const store = storeWith(["a=1; Path=/"]);
    expect(names(store, typed(`${API}/`))).toEqual(["a"]);
    expect(names(store, typed("http://127.0.0.1:3000/"))).toEqual([]);
    expect(names(store, typed("http://sub.localhost:3000/"))).toEqual([]);
  });

  it("a Domain cookie goes to the domain and its subdomains; a Domain outside the host is refused", () => {
    const store = new CookieStore();
    expect(store.store(typed("https://app.example.com/"), "d=1; Domain=.example.com").stored).toBe(true);
    expect(names(store, typed("https://idp.example.com/"))).toEqual(["d"]);
    expect(store.store(typed("https://app.example.com/"), "e=1; Domain=other.com").stored).toBe(false);
    // An IP address only matches itself.
    expect(store.store(typed(`${IDP}/`), "f=1; Domain=0.0.1").stored).toBe(false);
  });

  it("the default path is the request path up to its last slash (§5.1.4)", () => {
    expect(defaultPath(new URL(`${BFF}/bff/callback`))).toBe("/bff");
    expect(defaultPath(new URL(`${BFF}/login`))).toBe("/");
    expect(defaultPath(new URL(`${BFF}/a/b/`))).toBe("/a/b");
    const store = storeWith(["p=1"], `${BFF}/bff/callback`);
    expect(names(store, typed(`${BFF}/bff/session`))).toEqual(["p"]);
    expect(names(store, typed(`${BFF}/api/contacts`))).toEqual([]);
  });

  it("Path matches at a slash boundary only", () => {
    const store = storeWith(["p=1; Path=/bff"]);
    expect(names(store, typed(`${BFF}/bff`))).toEqual(["p"]);
    expect(names(store, typed(`${BFF}/bff/login`))).toEqual(["p"]);
    expect(names(store, typed(`${BFF}/bffx`))).toEqual([]);
  });

  it("Max-Age wins over Expires, whatever their order", () => {
    let now = Date.parse("2030-01-01T00:00:00Z");
    const store = storeWith(
      [
        "m=1; Max-Age=60; Expires=Wed, 01 Jan 2031 00:00:00 GMT",
        "n=1; Expires=Wed, 01 Jan 2031 00:00:00 GMT; Max-Age=60",
      ],
      `${BFF}/`,
      () => now,
    );
    now += 61_000;
    expect(names(store, typed(`${BFF}/`))).toEqual([]);
  });

  it("an expiry passes: the cookie is gone; Max-Age=0 or a past Expires deletes at once", () => {
    let now = Date.parse("2030-01-01T00:00:00Z");
    const store = storeWith(["a=1; Max-Age=10", "b=1", "c=1"], `${BFF}/`, () => now);
    store.store(typed(`${BFF}/`), "b=; Max-Age=0");
    store.store(typed(`${BFF}/`), "c=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
    expect(names(store, typed(`${BFF}/`))).toEqual(["a"]);
    now += 10_000;
    expect(names(store, typed(`${BFF}/`))).toEqual([]);
  });

  it("no cookie lives more than 400 days (§5.5)", () => {
    const now = Date.parse("2030-01-01T00:00:00Z");
    const store = storeWith(["a=1; Max-Age=999999999"], `${BFF}/`, () => now);
    expect(store.get("localhost", "a")?.expires).toBe(now + MAX_COOKIE_LIFETIME_MS);
  });

  it("the same name, domain and path replace a cookie and keep its creation time; another path is another cookie", () => {
    let now = 1_000;
    const store = storeWith(["a=1; Path=/"], `${BFF}/`, () => now);
    now = 2_000;
    store.store(typed(`${BFF}/`), "b=1; Path=/");
    now = 3_000;
    store.store(typed(`${BFF}/`), "a=2; Path=/");
    store.store(typed(`${BFF}/`), "a=3; Path=/bff");
    expect(store.header(typed(`${BFF}/bff/x`))).toBe("a=3; a=2; b=1");
    expect(store.get("localhost", "a")?.created).toBe(1_000);
  });

  it("orders the Cookie header by longer path first, then earlier creation (§5.8.3)", () => {
    let now = 1;
    const store = new CookieStore({ now: () => now++ });
    for (const line of ["x=1; Path=/", "y=1; Path=/a/b", "z=1; Path=/a"]) store.store(typed(`${BFF}/`), line);
    expect(names(store, typed(`${BFF}/a/b/c`))).toEqual(["y", "z", "x"]);
  });
});

describe("Secure and the prefixes (§4.1.3, §5.7)", () => {
  it("http://localhost and http://127.0.0.1 may set and receive Secure cookies; another http host may not", () => {
    const store = new CookieStore();
    expect(store.store(typed(`${BFF}/`), "s=1; Secure").stored).toBe(true);
    expect(store.store(typed(`${IDP}/`), "t=1; Secure").stored).toBe(true);
    expect(store.store(typed("http://app.example.com/"), "u=1; Secure").stored).toBe(false);
    expect(names(store, typed(`${BFF}/`))).toEqual(["s"]);
    expect(names(store, typed(`${IDP}/`))).toEqual(["t"]);
  });

  it("a Secure cookie is not sent over http to a host that is not potentially trustworthy", () => {
    const store = new CookieStore();
    store.store(typed("https://app.example.com/"), "s=1; Secure");
    expect(names(store, typed("https://app.example.com/"))).toEqual(["s"]);
    expect(names(store, typed("http://app.example.com/"))).toEqual([]);
  });

  it("a non-secure URL cannot overwrite a Secure cookie", () => {
    const store = new CookieStore();
    store.store(typed("https://app.example.com/"), "s=1; Secure");
    expect(store.store(typed("http://app.example.com/"), "s=2").stored).toBe(false);
    expect(store.get("app.example.com", "s")?.value).toBe("1");
  });

  it("__Secure- needs Secure", () => {
    const store = new CookieStore();
    expect(store.store(typed(`${BFF}/`), "__Secure-a=1").stored).toBe(false);
    expect(store.store(typed(`${BFF}/`), "__Secure-a=1; Secure").stored).toBe(true);
  });

  it("__Host- needs Secure, Path=/ and no Domain (whatever the prefix's case)", () => {
    const store = new CookieStore();
    const at = typed(`${BFF}/bff/login`);
    expect(store.store(at, "__Host-a=1; Path=/").stored).toBe(false);
    expect(store.store(at, "__Host-a=1; Secure").stored).toBe(false);
    expect(store.store(at, "__Host-a=1; Secure; Path=/bff").stored).toBe(false);
    expect(store.store(at, "__Host-a=1; Secure; Path=/; Domain=localhost").stored).toBe(false);
    expect(store.store(at, "__host-a=1; Secure; Path=/bff").stored).toBe(false);
    expect(store.store(at, "__Host-a=1; Secure; Path=/").stored).toBe(true);
  });

  it("HttpOnly changes nothing about what HTTP requests carry", () => {
    const store = storeWith(["h=1; HttpOnly; Path=/"]);
    expect(names(store, fetchFrom(`${BFF}/`, `${BFF}/api/contacts`))).toEqual(["h"]);
  });
});

describe("SameSite (§5.6.7, §5.8.3)", () => {
  const jar = (now: () => number = Date.now) =>
    storeWith(
      [
        "strict=1; SameSite=Strict; Secure; Path=/",
        "lax=1; SameSite=Lax; Secure; Path=/",
        "none=1; SameSite=None; Secure; Path=/",
        "unspecified=1; Path=/",
      ],
      `${BFF}/`,
      now,
    );

  it("same-site requests carry every cookie: navigations, and fetches from the SPA to the BFF and the API", () => {
    const all = ["strict", "lax", "none", "unspecified"];
    expect(names(jar(), typed(`${BFF}/`))).toEqual(all);
    expect(names(jar(), fetchFrom(`${BFF}/contacts`, `${BFF}/api/contacts`, "POST"))).toEqual(all);
    expect(names(jar(), fetchFrom(`${BFF}/contacts`, `${API}/contacts`))).toEqual(all);
  });

  it("a cross-site top-level GET (the IdP's redirect back) carries Lax and unspecified, never Strict", () => {
    expect(names(jar(), from(IDP, `${BFF}/bff/callback`))).toEqual(["lax", "none", "unspecified"]);
  });

  it("a cross-site top-level POST carries None only, and unspecified in its first two minutes (Lax-allowing-unsafe)", () => {
    let now = 1_000_000;
    const store = jar(() => now);
    expect(names(store, from(IDP, `${BFF}/bff/logout`, "POST"))).toEqual(["none", "unspecified"]);
    now += LAX_ALLOWING_UNSAFE_MS;
    expect(names(store, from(IDP, `${BFF}/bff/logout`, "POST"))).toEqual(["none"]);
  });

  it("a cross-site subresource carries None only", () => {
    expect(names(jar(), fetchFrom(`${IDP}/page`, `${BFF}/api/contacts`))).toEqual(["none"]);
  });

  it("an unknown SameSite value is unspecified (Lax by default)", () => {
    const store = storeWith(["odd=1; SameSite=Sometimes"]);
    expect(store.get("localhost", "odd")?.sameSite).toBe("Unspecified");
    expect(names(store, fetchFrom(`${IDP}/page`, `${BFF}/api/contacts`))).toEqual([]);
  });

  it("SameSite=None without Secure is refused", () => {
    expect(new CookieStore().store(typed(`${BFF}/`), "n=1; SameSite=None").stored).toBe(false);
  });

  it("a cross-site subresource cannot set a Lax or Strict cookie; a cross-site navigation can", () => {
    const store = new CookieStore();
    expect(store.store(fetchFrom(`${IDP}/page`, `${BFF}/x`), "l=1; SameSite=Lax").stored).toBe(false);
    expect(store.store(fetchFrom(`${IDP}/page`, `${BFF}/x`), "n=1; SameSite=None; Secure").stored).toBe(true);
    expect(store.store(from(IDP, `${BFF}/bff/callback`), "s=1; SameSite=Strict; Secure").stored).toBe(true);
  });
});

describe("the simulated browser", () => {
  /** A BFF and an IdP in one fetch: a login round trip with the cookies this system sets. */
  const servers = async (url: string, init: RequestInit) => {
    const { origin, pathname } = new URL(url);
    const headers = new Headers();
    if (origin === BFF && pathname === "/") {
      headers.append("set-cookie", "__Host-session=s; Secure; Path=/; SameSite=Strict; HttpOnly");
      return new Response("home", { headers });
    }
    if (origin === BFF && pathname === "/bff/login") {
      headers.append("set-cookie", "__Host-login=l; Secure; Path=/; SameSite=Lax; HttpOnly");
      headers.set("location", `${IDP}/auth`);
      return new Response(null, { status: 302, headers });
    }
    if (origin === IDP && pathname === "/auth") {
      headers.set("location", `${IDP}/interaction/1`);
      return new Response(null, { status: 303, headers });
    }
    if (origin === IDP && pathname === "/interaction/1/login") {
      expect(init.method).toBe("POST");
      headers.set("location", `${BFF}/bff/callback`);
      return new Response(null, { status: 303, headers });
    }
    return new Response("page", { headers: { "content-type": "text/html" } });
  };

  it("records each request's cookies: Strict left out of the redirect back from the IdP after a form there", async () => {
    const browser = new SimulatedBrowser(servers);
    await browser.navigate(`${BFF}/`);
    await browser.navigate(`${BFF}/bff/login`);
    const back = await browser.submitForm("/interaction/1/login", { username: "alice" });
    expect(back.url).toBe(`${BFF}/bff/callback`);
    expect(browser.cookieLog()).toEqual([
      "GET /: ",
      "GET /bff/login: __Host-session",
      "GET /auth: ",
      "GET /interaction/1: ",
      "POST /interaction/1/login: ",
      "GET /bff/callback: __Host-login",
    ]);
    expect(browser.requests.at(-1)).toMatchObject({ kind: "navigation", initiator: IDP });
  });

  it("a fetch with x-csrf is the page's subresource request, a plain one a typed navigation", async () => {
    const browser = new SimulatedBrowser(servers);
    await browser.navigate(`${BFF}/`);
    await browser.fetch(`${BFF}/bff/session`, { headers: { "x-csrf": "1" } });
    await browser.fetch(`${IDP}/elsewhere`);
    expect(browser.requests.slice(1).map((r) => [r.kind, r.initiator, r.cookies])).toEqual([
      ["subresource", BFF, ["__Host-session"]],
      ["navigation", null, []],
    ]);
  });

  it("turns a 303 after a POST into a GET without a body, keeps the method on 307, adds Origin to a POST", async () => {
    const seen: string[] = [];
    const browser = new SimulatedBrowser(async (url, init) => {
      const headers = new Headers(init.headers);
      seen.push(
        `${init.method} ${new URL(url).pathname} ${headers.get("origin") ?? "-"} ${init.body ?? "-"}`,
      );
      const { pathname } = new URL(url);
      if (pathname === "/a") return new Response(null, { status: 303, headers: { location: "/b" } });
      if (pathname === "/c") return new Response(null, { status: 307, headers: { location: "/d" } });
      return new Response("ok");
    });
    await browser.navigate(`${BFF}/`);
    await browser.submitForm("/a", { x: "1" });
    await browser.navigate(`${BFF}/`);
    await browser.submitForm("/c", { x: "1" });
    expect(seen).toEqual([
      "GET / - -",
      `POST /a ${BFF} x=1`,
      "GET /b - -",
      "GET / - -",
      `POST /c ${BFF} x=1`,
      `POST /d ${BFF} x=1`,
    ]);
  });

  it("continues a navigation stopped before a URL when that URL is fetched next", async () => {
    const browser = new SimulatedBrowser(servers);
    await browser.navigate(`${BFF}/`);
    await browser.navigate(`${BFF}/bff/login`);
    await browser.submitForm("/interaction/1/login", {}, `${BFF}/bff/callback`);
    await browser.fetch(`${BFF}/bff/callback`);
    expect(browser.requests.at(-1)).toMatchObject({ initiator: IDP, cookies: ["__Host-login"] });
  });
});
