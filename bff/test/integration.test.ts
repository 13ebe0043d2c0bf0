/**
 * The BFF with a real IdP and a real API, in one process: a person logs in,
 * calls the API through the BFF, has the access token refreshed under them,
 * and logs out — and every way that can go wrong answers clearly.
 */
import type { AuthenticatedSession, Contact } from "@oidc-bff/shared";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { SessionData } from "../src/session/data.ts";
import { createSealer } from "../src/session/seal.ts";
import {
  BFF,
  COOKIE_SECRET,
  IDP,
  logIn,
  startSystem,
  TestBrowser,
  type TestSystem,
  USERS,
} from "./harness.ts";

const SESSION = "__Host-bff-session";
const LOGIN = "__Host-bff-login";
const HOST = new URL(BFF).host;

let system: TestSystem;
beforeEach(async () => {
  system = await startSystem();
});
afterEach(async () => {
  await system.close();
});

const loggedIn = (user: { username: string; password: string } = USERS.alice) => logIn(system, user);

async function contacts(browser: TestBrowser): Promise<Contact[]> {
  const response = await browser.api("/api/contacts");
  expect(response.status).toBe(200);
  return (await response.json()) as Contact[];
}

/** Every token the BFF holds for this browser's session (read with the test's cookie secret), to prove none leaks. */
async function sessionTokens(browser: TestBrowser): Promise<string[]> {
  const sealed = browser.cookie(HOST, SESSION)?.value;
  if (!sealed) return [];
  const unsealed = await createSealer([COOKIE_SECRET]).unseal<SessionData>("session", sealed);
  if (!unsealed.ok) throw new Error(`cannot unseal the session: ${unsealed.reason}`);
  const { accessToken, refreshToken, idToken } = unsealed.value.tokens;
  return [accessToken, refreshToken ?? "", idToken];
}

describe("login", () => {
  it("goes through the IdP's pages and comes back to the page it started from, with a session (B4)", async () => {
    const browser = new TestBrowser(system);
    const landed = await browser.login(USERS.alice, "/contacts?sort=name");
    expect(landed).toBe(`${BFF}/contacts?sort=name`);

    const response = await browser.api("/bff/session");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const session = (await response.json()) as AuthenticatedSession;
    expect(session).toMatchObject({
      authenticated: true,
      user: {
        sub: "user-alice",
        name: expect.stringContaining("Alice"),
        email: expect.stringContaining("@"),
      },
    });
    expect(session.scopes).toEqual(expect.arrayContaining(["contacts:read", "contacts:write"]));
    expect(Date.parse(session.expiresAt)).toBeGreaterThan(Date.now());
    expect(Date.parse(session.accessTokenExpiresAt)).toBeGreaterThan(Date.now());
    expect(session.idTokenClaims).toMatchObject({ sub: "user-alice", iss: IDP, aud: "web-bff" });
    expect(session.claimSources).toMatchObject({
      sub: "id_token",
      name: expect.stringMatching(/id_token|userinfo/),
    });

    const tokens = await sessionTokens(browser);
    expect(tokens.length).toBeGreaterThanOrEqual(3);
    const body = JSON.stringify(session);
    for (const token of tokens) expect(body).not.toContain(token);
  });

  it("sends the authorization request with PKCE S256, state, nonce and the API as resource (C16)", async () => {
    const browser = new TestBrowser(system);
    const response = await browser.fetch(`${BFF}/bff/login?returnTo=/`);
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("location") ?? "");
    expect(location.origin).toBe(IDP);
    const query = location.searchParams;
    expect(query.get("response_type")).toBe("code");
    expect(query.get("code_challenge_method")).toBe("S256");
    expect(query.get("code_challenge")).toMatch(/^[\w-]{43}$/);
    expect(query.get("state")).toMatch(/^[\w-]{20,}$/);
    expect(query.get("nonce")).toMatch(/^[\w-]{20,}$/);
    expect(query.get("resource")).toBe("http://localhost:4001");
    expect(query.get("scope")?.split(" ")).toContain("openid");
  });

  it("sets __Host- cookies: HttpOnly, Secure, Path=/, Strict for the session, Lax for the login (B9)", async () => {
    const browser = new TestBrowser(system);
    await browser.fetch(`${BFF}/bff/login?returnTo=/`);
    const login = browser.cookie(HOST, LOGIN)?.line ?? "";
    expect(login).toMatch(/HttpOnly/i);
    expect(login).toMatch(/Secure/i);
    expect(login).toMatch(/Path=\//);
    expect(login).toMatch(/SameSite=Lax/i);
    expect(login).not.toMatch(/Domain=/i);
    expect(login).toMatch(/Max-Age=600/);

    const fresh = new TestBrowser(system);
    await fresh.login(USERS.alice);
    const session = fresh.cookie(HOST, SESSION)?.line ?? "";
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/Secure/i);
    expect(session).toMatch(/Path=\//);
    expect(session).toMatch(/SameSite=Strict/i);
    expect(session).not.toMatch(/Domain=/i);
    expect(Buffer.byteLength(`${SESSION}=${fresh.cookie(HOST, SESSION)?.value}`)).toBeLessThanOrEqual(4096);
    // The login transaction is spent.
    expect(fresh.cookie(HOST, LOGIN)).toBeUndefined();
  });

  it("replaces a returnTo that leaves the origin with /", async () => {
    for (const returnTo of [
      "//evil.example/",
      "https://evil.example/",
      "/\\evil.example",
      "javascript:alert(1)",
      "/.//evil.example",
      "/%2e//evil.example",
      "/a/..//evil.example/x?y#z",
      `/${"a".repeat(5000)}`,
    ]) {
      const browser = new TestBrowser(system);
      expect(await browser.login(USERS.alice, returnTo)).toBe(`${BFF}/`);
    }
  });

  it("lets two tabs log in at the same time (A20)", async () => {
    const browser = new TestBrowser(system);
    const first = (await browser.fetch(`${BFF}/bff/login?returnTo=/one`)).headers.get("location") ?? "";
    const second = (await browser.fetch(`${BFF}/bff/login?returnTo=/two`)).headers.get("location") ?? "";
    const person = { user: USERS.alice, consent: "allow" as const };
    expect((await browser.navigate(first, person)).url).toBe(`${BFF}/one`);
    expect((await browser.navigate(second, person)).url).toBe(`${BFF}/two`);
  });

  it("refuses scopes beyond the configured ones and an unknown prompt, with a readable page", async () => {
    const browser = new TestBrowser(system);
    const scope = await browser.fetch(`${BFF}/bff/login?scope=openid%20admin`);
    expect(scope.status).toBe(400);
    expect(scope.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await scope.text()).toContain("A requested scope is not available");
    expect((await browser.fetch(`${BFF}/bff/login?prompt=select_account`)).status).toBe(400);
  });
});

describe("a callback that must not create a session", () => {
  it("without a login started in this browser (forged or replayed): 400 page, no session", async () => {
    const victim = new TestBrowser(system);
    const attacker = new TestBrowser(system);
    // The attacker starts a login and gets a code for their own account...
    const start = (await attacker.fetch(`${BFF}/bff/login?returnTo=/`)).headers.get("location") ?? "";
    const atIdp = await attacker.navigate(start, { user: USERS.bob, consent: "allow" });
    expect(atIdp.url.startsWith(BFF)).toBe(true);
    const callback = atIdp.visited.find((url) => url.startsWith(`${BFF}/bff/callback`));
    expect(callback).toBeDefined();
    // ...and makes the victim's browser deliver it: login CSRF.
    const response = await victim.fetch(callback as string);
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await response.text()).toContain("Sign-in failed");
    expect(victim.cookie(HOST, SESSION)).toBeUndefined();
  });

  it("with protocol parameters given twice (A11): 400, no session, no code redeemed", async () => {
    const browser = new TestBrowser(system);
    const { url: callback } = await browser.navigate(`${BFF}/bff/login?returnTo=/`, {
      user: USERS.alice,
      consent: "allow",
      stopBefore: `${BFF}/bff/callback`,
    });
    const tokenRequests = () => system.idpRequests.filter((r) => r === "POST /token").length;
    const before = tokenRequests();
    for (const name of ["code", "state", "iss"]) {
      const doubled = new URL(callback);
      doubled.searchParams.append(name, doubled.searchParams.get(name) ?? "x");
      const response = await browser.fetch(doubled.href);
      expect(response.status, name).toBe(400);
    }
    expect(tokenRequests()).toBe(before);
    expect(browser.cookie(HOST, SESSION)).toBeUndefined();
  });

  it("with a state that does not match: 400, no session", async () => {
    const browser = new TestBrowser(system);
    await browser.fetch(`${BFF}/bff/login?returnTo=/`);
    const response = await browser.fetch(`${BFF}/bff/callback?code=abc&state=not-the-state&iss=${IDP}`);
    expect(response.status).toBe(400);
    expect(browser.cookie(HOST, SESSION)).toBeUndefined();
  });

  it("when the person presses Deny: a page that says so, no session", async () => {
    const browser = new TestBrowser(system);
    const { response, url } = await browser.navigate(`${BFF}/bff/login?returnTo=/`, {
      user: USERS.alice,
      consent: "deny",
    });
    expect(new URL(url).pathname).toBe("/bff/callback");
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("cancelled or access was not allowed");
    expect(browser.cookie(HOST, SESSION)).toBeUndefined();
  });

  it("with an iss that is not the issuer (mix-up, RFC 9207): 400, no session, no code redeemed", async () => {
    const browser = new TestBrowser(system);
    const start = (await browser.fetch(`${BFF}/bff/login?returnTo=/`)).headers.get("location") ?? "";
    const state = new URL(start).searchParams.get("state") ?? "";
    const before = system.idpRequests.filter((r) => r === "POST /token").length;
    const response = await browser.fetch(
      `${BFF}/bff/callback?code=abc&state=${state}&iss=${encodeURIComponent("https://evil.example")}`,
    );
    expect(response.status).toBe(400);
    expect(system.idpRequests.filter((r) => r === "POST /token").length).toBe(before);
    expect(browser.cookie(HOST, SESSION)).toBeUndefined();
  });
});

describe("the API through the BFF", () => {
  it("lists, adds and deletes the person's own contacts", async () => {
    const alice = await loggedIn();
    const before = await contacts(alice);
    expect(before.map((c) => c.name).sort()).toEqual(["Cheshire Cat", "Mad Hatter", "White Rabbit"]);

    const added = await alice.api("/api/contacts", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Dormouse", email: "dormouse@example.com" }),
    });
    expect(added.status).toBe(201);
    const contact = (await added.json()) as Contact;
    expect((await contacts(alice)).map((c) => c.id)).toContain(contact.id);

    const deleted = await alice.api(`/api/contacts/${contact.id}`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    expect(await contacts(alice)).toHaveLength(before.length);

    const bob = await loggedIn(USERS.bob);
    const bobs = await contacts(bob);
    expect(bobs.map((c) => c.name)).not.toContain("Mad Hatter");
  });

  it("never forwards the browser's cookies and never returns the API's (C8)", async () => {
    const alice = await loggedIn();
    const seen: Headers[] = [];
    const original = system.fetch;
    system.fetch = async (input, init) => {
      const request = new Request(input, init);
      if (request.url.startsWith("http://localhost:4001")) seen.push(request.headers);
      return original(request);
    };
    const response = await alice.api("/api/contacts", {
      headers: {
        authorization: "Bearer token-from-the-browser",
        "x-forwarded-for": "203.0.113.9",
        "x-forwarded-host": "evil.example",
        forwarded: "for=203.0.113.9;host=evil.example",
        "x-user": "admin",
      },
    });
    system.fetch = original;
    expect(response.status).toBe(200);
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(seen.length).toBeGreaterThan(0);
    for (const headers of seen) {
      expect(headers.get("cookie")).toBeNull();
      // The BFF's own token, never one the browser sent.
      expect(headers.get("authorization")).toMatch(/^Bearer eyJ/);
      for (const name of ["x-forwarded-for", "x-forwarded-host", "forwarded", "x-user"]) {
        expect(headers.get(name)).toBeNull();
      }
    }
  });

  it("without x-csrf: 403 csrf_check_failed; from another origin: 403 (C2)", async () => {
    const alice = await loggedIn();
    const missing = await alice.fetch(`${BFF}/api/contacts`);
    expect(missing.status).toBe(403);
    expect(await missing.json()).toMatchObject({ code: "csrf_check_failed" });

    const crossSite = await alice.api("/api/contacts", { headers: { "sec-fetch-site": "cross-site" } });
    expect(crossSite.status).toBe(403);
    const otherOrigin = await alice.api("/api/contacts", { headers: { origin: "https://evil.example" } });
    expect(otherOrigin.status).toBe(403);
  });

  it("without a session: 401 not_authenticated problem (C1)", async () => {
    const browser = new TestBrowser(system);
    const response = await browser.api("/api/contacts");
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({ status: 401, code: "not_authenticated" });
  });

  it("refuses encoded slashes and dot segments in the path", async () => {
    const alice = await loggedIn();
    for (const path of ["/api/contacts%2F..%2Fstats", "/api/%2e%2e/stats", "/api/contacts/%5c..%5cstats"]) {
      const response = await alice.api(path);
      expect([400, 404]).toContain(response.status);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
    }
  });

  it("forwards only the configured API routes and methods (C7): others never reach the API", async () => {
    await system.close();
    system = await startSystem({
      apiRoutes: [
        { path: "/contacts", methods: ["GET", "POST"] },
        { path: "/contacts/*", methods: ["DELETE"] },
      ],
    });
    const alice = await loggedIn();
    const seen: string[] = [];
    const original = system.fetch;
    system.fetch = async (input, init) => {
      const request = new Request(input, init);
      if (request.url.startsWith("http://localhost:4001"))
        seen.push(`${request.method} ${new URL(request.url).pathname}`);
      return original(request);
    };
    expect((await alice.api("/api/contacts")).status).toBe(200);
    const put = await alice.api("/api/contacts", { method: "PUT", body: "{}" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, POST");
    const stats = await alice.api("/api/stats");
    expect(stats.status).toBe(404);
    expect(await stats.json()).toMatchObject({ code: "not_found" });
    expect((await alice.api("/api/contacts/some-id/extra", { method: "DELETE" })).status).toBe(404);
    system.fetch = original;
    expect(seen).toEqual(["GET /contacts"]);
  });

  it("answers 502 when the API cannot be reached (C10)", async () => {
    await system.close();
    system = await startSystem({ apiBaseUrl: "http://localhost:4999" });
    const alice = await loggedIn();
    const response = await alice.api("/api/contacts");
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ code: "upstream_unreachable" });
  });
});

describe("refresh", () => {
  it("refreshes an expired access token once, stores the rotated refresh token, and keeps working (C11)", async () => {
    const alice = await loggedIn();
    const refreshesAtLogin = system.refreshCount();
    const oldCookie = alice.cookie(HOST, SESSION)?.value ?? "";
    const [oldAccess, oldRefresh] = await sessionTokens(alice);

    system.advance(10 * 60 * 1000);
    const results = await Promise.all(Array.from({ length: 50 }, () => alice.api("/api/contacts")));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(system.refreshCount()).toBe(refreshesAtLogin + 1);

    const [newAccess, newRefresh] = await sessionTokens(alice);
    expect(newAccess).not.toBe(oldAccess);
    expect(newRefresh).not.toBe(oldRefresh);
    expect(await contacts(alice)).toHaveLength(3);
    expect(system.refreshCount()).toBe(refreshesAtLogin + 1);

    // 5 s later, a request still carrying the pre-refresh cookie gets the new tokens, without
    // replaying the spent one.
    system.advance(5_000);
    const late = new TestBrowser(system);
    late.setCookie(HOST, SESSION, oldCookie);
    expect((await late.api("/api/contacts")).status).toBe(200);
    expect(system.refreshCount()).toBe(refreshesAtLogin + 1);
  });

  it("never lets an older cookie, re-sealed by a parallel request, bring back spent tokens", async () => {
    const alice = await loggedIn();
    const oldCookie = alice.cookie(HOST, SESSION)?.value ?? "";
    system.advance(10 * 60 * 1000);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    const [newAccess, newRefresh] = await sessionTokens(alice);

    // A request sent with the old cookie before the browser stored the new one, to a route that
    // does not refresh but records activity (and so re-seals the cookie): the browser keeps its answer last.
    const straggler = new TestBrowser(system);
    straggler.setCookie(HOST, SESSION, oldCookie);
    expect((await straggler.api("/bff/session")).status).toBe(200);
    const [access, refresh] = await sessionTokens(straggler);
    expect(access).toBe(newAccess);
    expect(refresh).toBe(newRefresh);

    // Long after the refresh outcome is forgotten, that cookie still works without replaying anything.
    const refreshes = system.refreshCount();
    system.advance(3 * 60 * 1000);
    expect((await straggler.api("/api/contacts")).status).toBe(200);
    expect(system.refreshCount()).toBe(refreshes);
  });

  it("ends the session with 401 session_expired when the IdP refuses the refresh token (C13)", async () => {
    const alice = await loggedIn();
    // Revoke the grant behind the BFF's back, as an administrator would.
    const [, refreshToken] = await sessionTokens(alice);
    const revoked = await system.fetch(`${IDP}/token/revocation`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from(`web-bff:${(await import("@oidc-bff/idp")).DEV_WEB_BFF_SECRET}`).toString("base64")}`,
      },
      body: new URLSearchParams({ token: refreshToken ?? "" }).toString(),
    });
    expect(revoked.status).toBe(200);

    system.advance(10 * 60 * 1000);
    const response = await alice.api("/api/contacts");
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: "session_expired" });
    expect(alice.cookie(HOST, SESSION)).toBeUndefined();
  });

  it("answers 503 with Retry-After when the IdP's token endpoint fails with a 5xx, and recovers", async () => {
    const alice = await loggedIn();
    system.advance(10 * 60 * 1000);
    const original = system.fetch;
    system.fetch = async (input, init) => {
      const request = new Request(input, init);
      if (request.url === `${IDP}/token`) {
        return Response.json({ error: "server_error" }, { status: 500 });
      }
      return original(request);
    };
    const failing = await alice.api("/api/contacts");
    system.fetch = original;
    expect(failing.status).toBe(503);
    expect(failing.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await failing.json()).toMatchObject({ code: "idp_unavailable" });
    expect((await alice.api("/api/contacts")).status).toBe(200);
  });

  it("answers 503 with Retry-After while the IdP is down, keeps the session, and recovers", async () => {
    const alice = await loggedIn();
    system.advance(10 * 60 * 1000);
    system.idpDown = true;
    const down = await alice.api("/api/contacts");
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await down.json()).toMatchObject({ code: "idp_unavailable" });
    expect(alice.cookie(HOST, SESSION)).toBeDefined();

    system.idpDown = false;
    expect((await alice.api("/api/contacts")).status).toBe(200);
  });
});

describe("logout", () => {
  it("revokes the refresh token, ends the session for good and sends the browser through the IdP (D2) (D3) (D4)", async () => {
    const alice = await loggedIn();
    const captured = alice.cookie(HOST, SESSION)?.value ?? "";
    const [, refreshToken] = await sessionTokens(alice);

    const response = await alice.api("/bff/logout", { method: "POST" });
    expect(response.status).toBe(200);
    const { redirectTo } = (await response.json()) as { redirectTo: string };
    expect(redirectTo).toMatch(/^\/bff\/logout\/end-session\?ticket=/);
    expect(alice.cookie(HOST, SESSION)).toBeUndefined();
    expect(system.idpRequests).toContain("POST /token/revocation");

    // The refresh token no longer works at the IdP.
    const { DEV_WEB_BFF_SECRET } = await import("@oidc-bff/idp");
    const refresh = await system.fetch(`${IDP}/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from(`web-bff:${DEV_WEB_BFF_SECRET}`).toString("base64")}`,
      },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: refreshToken ?? "",
      }).toString(),
    });
    expect(refresh.status).toBe(400);
    expect(await refresh.json()).toMatchObject({ error: "invalid_grant" });

    // The end-session step goes to the IdP with the ID token hint, never handing it to script.
    const endSession = await alice.fetch(`${BFF}${redirectTo}`);
    expect(endSession.status).toBe(302);
    const location = new URL(endSession.headers.get("location") ?? "");
    expect(location.origin).toBe(IDP);
    expect(location.searchParams.get("id_token_hint")).toBeTruthy();
    expect(location.searchParams.get("post_logout_redirect_uri")).toBe(`${BFF}/`);

    // A captured copy of the cookie is refused.
    const replay = new TestBrowser(system);
    replay.setCookie(HOST, SESSION, captured);
    const replayed = await replay.api("/api/contacts");
    expect(replayed.status).toBe(401);
    expect((await replay.api("/bff/session").then((r) => r.json())) as unknown).toEqual({
      authenticated: false,
    });
  });

  it("the end-session ticket works once, and only in the browser that logged out (X12)", async () => {
    const alice = await loggedIn();
    const { redirectTo } = (await (await alice.api("/bff/logout", { method: "POST" })).json()) as {
      redirectTo: string;
    };
    const toIdp = (response: Response) => (response.headers.get("location") ?? "").startsWith(IDP);

    // Another browser with the copied URL: home, no ID token handed to the IdP, and the ticket not spent.
    const stranger = new TestBrowser(system);
    const copied = await stranger.fetch(`${BFF}${redirectTo}`);
    expect(copied.status).toBe(302);
    expect(copied.headers.get("location")).toBe(`${BFF}/`);

    // The browser that logged out: to the IdP, once.
    const first = await alice.fetch(`${BFF}${redirectTo}`);
    expect(toIdp(first)).toBe(true);
    const again = await alice.fetch(`${BFF}${redirectTo}`);
    expect(toIdp(again)).toBe(false);
    expect(again.headers.get("location")).toBe(`${BFF}/`);
  });

  it("a copy of the logout cookie with the ticket is refused once the ticket was used (X12)", async () => {
    const alice = await loggedIn();
    const { redirectTo } = (await (await alice.api("/bff/logout", { method: "POST" })).json()) as {
      redirectTo: string;
    };
    const logoutCookie = alice.cookie(HOST, "__Host-bff-logout")?.value ?? "";
    expect(logoutCookie).not.toBe("");
    expect((await alice.fetch(`${BFF}${redirectTo}`)).headers.get("location")?.startsWith(IDP)).toBe(true);
    const thief = new TestBrowser(system);
    thief.setCookie(HOST, "__Host-bff-logout", logoutCookie);
    const replay = await thief.fetch(`${BFF}${redirectTo}`);
    expect(replay.headers.get("location")).toBe(`${BFF}/`);
  });

  it("needs x-csrf (D1)", async () => {
    const alice = await loggedIn();
    expect((await alice.fetch(`${BFF}/bff/logout`, { method: "POST" })).status).toBe(403);
    expect(alice.cookie(HOST, SESSION)).toBeDefined();
  });
});

describe("bad input", () => {
  it("a tampered or foreign session cookie is no session: 401, never a 500", async () => {
    const browser = new TestBrowser(system);
    for (const value of ["garbage", "Fe26.2**0**x*y*z**1*w", `${"A".repeat(3000)}`]) {
      browser.setCookie(HOST, SESSION, value);
      expect((await browser.api("/api/contacts")).status).toBe(401);
      browser.setCookie(HOST, SESSION, value);
      expect(await (await browser.api("/bff/session")).json()).toEqual({ authenticated: false });
    }
  });

  it("two session cookies of the same name (one planted by another host) are no session (B6)", async () => {
    const alice = await loggedIn();
    const own = alice.cookie(HOST, SESSION)?.value ?? "";
    const planted = `${SESSION}=${own}; ${SESSION}=Fe26.2**planted`;
    for (const cookie of [planted, `${SESSION}=Fe26.2**planted; ${SESSION}=${own}`]) {
      const response = await system.bff.fetch(
        new Request(`${BFF}/api/contacts`, { headers: { cookie, "x-csrf": "1" } }),
      );
      expect(response.status).toBe(401);
    }
    // Control: the same cookie alone is a session.
    expect((await alice.api("/api/contacts")).status).toBe(200);
  });

  it("a sealed login transaction or logout ticket in the session cookie's place is no session (B12)", async () => {
    const browser = new TestBrowser(system);
    await browser.fetch(`${BFF}/bff/login?returnTo=/`);
    const loginSeal = browser.cookie(HOST, LOGIN)?.value ?? "";
    expect(loginSeal).toMatch(/^Fe26\.2\*/);
    const alice = await loggedIn();
    const { redirectTo } = (await (await alice.api("/bff/logout", { method: "POST" })).json()) as {
      redirectTo: string;
    };
    const ticket = new URL(redirectTo, BFF).searchParams.get("ticket") ?? "";
    for (const sealed of [loginSeal, ticket]) {
      const impostor = new TestBrowser(system);
      impostor.setCookie(HOST, SESSION, sealed);
      expect((await impostor.api("/api/contacts")).status).toBe(401);
      expect(await (await impostor.api("/bff/session")).json()).toEqual({ authenticated: false });
    }
  });

  it("sends nosniff and a same-origin referrer policy, and a strict CSP on its own pages", async () => {
    const browser = new TestBrowser(system);
    const session = await browser.api("/bff/session");
    expect(session.headers.get("x-content-type-options")).toBe("nosniff");
    expect(session.headers.get("referrer-policy")).toBe("same-origin");
    const page = await browser.fetch(`${BFF}/bff/callback?code=x&state=y`);
    expect(page.status).toBe(400);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("script-src");
  });

  it("unknown /bff routes are 404 problems and wrong methods 405 with Allow", async () => {
    const browser = new TestBrowser(system);
    const missing = await browser.api("/bff/nothing");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: "not_found" });
    const wrong = await browser.api("/bff/logout");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
  });
});

describe("hardening", () => {
  it("a second login in the same browser ends the first session: its cookie is refused (A19)", async () => {
    const browser = await loggedIn(USERS.alice);
    const alicesCookie = browser.cookie(HOST, SESSION)?.value ?? "";
    // prompt=login: the IdP still has alice's session and would otherwise sign her in again.
    await browser.navigate(`${BFF}/bff/login?prompt=login&returnTo=/`, { user: USERS.bob, consent: "allow" });
    expect(await (await browser.api("/bff/session")).json()).toMatchObject({ user: { sub: "user-bob" } });
    const copy = new TestBrowser(system);
    copy.setCookie(HOST, SESSION, alicesCookie);
    expect((await copy.api("/api/contacts")).status).toBe(401);
  });

  it.each([
    ["with prompt=login", "prompt=login"],
    ["with prompt=consent", "prompt=consent"],
  ])(
    "logging in again as the same person %s ends the previous session, though its Strict cookie never reaches the callback (A19)",
    async (_, query) => {
      // No account switch, so no back-channel logout from the IdP either: only /bff/login,
      // which the session cookie does reach, can say which session the new login replaces.
      const browser = await loggedIn(USERS.alice);
      const before = browser.cookie(HOST, SESSION)?.value ?? "";
      await browser.navigate(`${BFF}/bff/login?${query}&returnTo=/`, { user: USERS.alice, consent: "allow" });
      const callback = browser.requests.filter((r) => new URL(r.url).pathname === "/bff/callback").at(-1);
      expect(callback?.cookies).toEqual(["__Host-bff-login"]);
      expect(browser.cookie(HOST, SESSION)?.value).not.toBe(before);
      expect((await browser.api("/api/contacts")).status).toBe(200);
      const copy = new TestBrowser(system);
      copy.setCookie(HOST, SESSION, before);
      expect((await copy.api("/api/contacts")).status).toBe(401);
    },
  );

  it("an ID token signed with another algorithm than the one configured is refused: no session (A12j)", async () => {
    await system.close();
    system = await startSystem({ idTokenSigningAlg: "ES256" });
    const browser = new TestBrowser(system);
    const { response, url } = await browser.navigate(`${BFF}/bff/login?returnTo=/`, {
      user: USERS.alice,
      consent: "allow",
    });
    expect(new URL(url).pathname).toBe("/bff/callback");
    expect(response.status).toBe(400);
    expect(browser.cookie(HOST, SESSION)).toBeUndefined();
  });

  it("keeps the login cookie under 4096 bytes however many long logins are pending, newest kept", async () => {
    const browser = new TestBrowser(system);
    const long = `/${"x".repeat(1000)}`;
    const starts: string[] = [];
    for (let i = 0; i < 5; i++) {
      starts.push(
        (await browser.fetch(`${BFF}/bff/login?returnTo=${long}${i}`)).headers.get("location") ?? "",
      );
    }
    const login = browser.cookie(HOST, LOGIN);
    expect(Buffer.byteLength(`${LOGIN}=${login?.value}`)).toBeLessThanOrEqual(4096);
    const newest = await browser.navigate(starts[4] ?? "", { user: USERS.alice, consent: "allow" });
    expect(newest.url).toBe(`${BFF}${long}4`);
  });

  it("/bff/session leaves out protocol-only ID token claims (nonce, sid, hashes)", async () => {
    const browser = await loggedIn();
    const { idTokenClaims } = (await (await browser.api("/bff/session")).json()) as AuthenticatedSession;
    expect(idTokenClaims).toMatchObject({ sub: "user-alice" });
    for (const claim of ["nonce", "sid", "at_hash"]) expect(idTokenClaims).not.toHaveProperty(claim);
  });

  it("passes on only safe API response headers: no CORS grant, cookie or HSTS speaks for our origin", async () => {
    const alice = await loggedIn();
    const original = system.fetch;
    system.fetch = async (input, init) => {
      const response = await original(input, init);
      if (!new Request(input, init).url.startsWith("http://localhost:4001")) return response;
      const headers = new Headers(response.headers);
      headers.set("access-control-allow-origin", "*");
      headers.set("set-cookie", "api=1; Path=/");
      headers.set("strict-transport-security", "max-age=1");
      headers.set("location", "http://internal-api.local/contacts");
      headers.set("etag", '"v1"');
      return new Response(response.body, { status: response.status, headers });
    };
    const response = await alice.api("/api/contacts");
    system.fetch = original;
    expect(response.status).toBe(200);
    for (const name of [
      "access-control-allow-origin",
      "set-cookie",
      "strict-transport-security",
      "location",
    ]) {
      expect(response.headers.get(name)).toBeNull();
    }
    expect(response.headers.get("etag")).toBe('"v1"');
    expect(response.headers.get("content-type")).toMatch(/json/);
  });

  it("JSON answers cannot be framed either: X-Frame-Options DENY and frame-ancestors 'none' on the session, the proxy and problems (X11)", async () => {
    const alice = await loggedIn();
    const answers = [
      await alice.api("/bff/session"),
      await alice.api("/api/contacts"),
      await alice.api("/bff/nowhere"),
      await alice.api("/api/contacts", { method: "POST", body: "{" }),
    ];
    for (const response of answers) {
      expect(response.headers.get("content-type")).toMatch(/json/);
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    }
  });

  it.each([
    ["/\\evil.example/x", null],
    ["//evil.example/x", null],
    ["\\\\evil.example", null],
    ["/\t/evil.example", null],
    ["/%0a/evil", "/%0a/evil"],
    ["https://evil.example/", null],
    ["javascript:alert(1)", null],
    ["contacts/42", null],
    ["/api/contacts/42", "/api/contacts/42"],
  ])(
    "passes an API Location of %j on only when every browser resolves it on our origin (X10)",
    async (sent, kept) => {
      const alice = await loggedIn();
      const original = system.fetch;
      system.fetch = async (input, init) => {
        const response = await original(input, init);
        if (!new Request(input, init).url.startsWith("http://localhost:4001")) return response;
        const headers = new Headers(response.headers);
        headers.set("location", sent);
        return new Response(response.body, { status: response.status, headers });
      };
      const response = await alice.api("/api/contacts");
      system.fetch = original;
      expect(response.status).toBe(200);
      expect(response.headers.get("location")).toBe(kept);
    },
  );
});
