/**
 * What happens to a session over time and when parts of the system fail:
 * lifetimes, secret rotation, restarts, an IdP or API that is down or slow.
 */
import { hashPassword } from "@oidc-bff/idp";
import { afterEach, describe, expect, it } from "vitest";

import { MemorySessionStore } from "../src/index.ts";
import {
  API,
  BFF,
  COOKIE_SECRET,
  logIn,
  startSystem,
  TestBrowser,
  type TestSystem,
  USERS,
} from "./harness.ts";

const SESSION = "__Host-bff-session";
const HOST = new URL(BFF).host;
const MINUTE = 60_000;

let system: TestSystem;
afterEach(async () => {
  await system.close();
});

const loggedIn = (user: { username: string; password: string } = USERS.alice) => logIn(system, user);

describe("session lifetime, enforced from inside the seal", () => {
  it("ends after the idle timeout without requests, whatever the cookie's Max-Age (B7)", async () => {
    system = await startSystem({ sessionIdleTimeoutSeconds: 15 * 60, sessionAbsoluteLifetimeSeconds: 3600 });
    const alice = await loggedIn();
    system.advance(10 * MINUTE);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    // Activity moved the idle deadline: 10 more minutes is fine...
    system.advance(10 * MINUTE);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    // ...16 minutes of silence is not.
    system.advance(16 * MINUTE);
    const response = await alice.api("/api/contacts");
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: "session_expired" });
  });

  it("calls that carry the same stale cookie share one re-sealed cookie, so a client that ignores Set-Cookie costs one seal, not one per call", async () => {
    // An idle timeout of 8 minutes: activity is written into a new cookie every 2 minutes.
    system = await startSystem({
      sessionIdleTimeoutSeconds: 8 * 60,
      sessionAbsoluteLifetimeSeconds: 12 * 3600,
    });
    const alice = await loggedIn();
    const stale = alice.cookie(HOST, SESSION)?.value ?? "";
    // The login's own token requests.
    const refreshesBefore = system.refreshCount();
    const withStaleCookie = () => {
      const copy = new TestBrowser(system);
      copy.setCookie(HOST, SESSION, stale);
      return copy;
    };
    system.advance(2.05 * MINUTE);
    const parallel = Array.from({ length: 5 }, withStaleCookie);
    const answers = await Promise.all(parallel.map((copy) => copy.api("/api/contacts")));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    const touched = new Set(parallel.map((copy) => copy.cookie(HOST, SESSION)?.value));
    expect(touched.size).toBe(1);
    const [cookie] = [...touched];
    expect(cookie).not.toBe(stale);
    // One after the other, as a client that never stores the new cookie: the same one again.
    system.advance(0.1 * MINUTE);
    const later = withStaleCookie();
    expect((await later.api("/api/contacts")).status).toBe(200);
    expect(later.cookie(HOST, SESSION)?.value).toBe(cookie);
    // Once that touch is itself older than the interval, the stale cookie gets a new one
    // (the access token, 5 minutes, still needs no refresh).
    system.advance(2 * MINUTE);
    const much = withStaleCookie();
    expect((await much.api("/api/contacts")).status).toBe(200);
    expect([stale, cookie]).not.toContain(much.cookie(HOST, SESSION)?.value);
    expect(system.refreshCount() - refreshesBefore).toBe(0);
  });

  it("calls that share one refresh get one new cookie between them", async () => {
    system = await startSystem();
    const alice = await loggedIn();
    const stale = alice.cookie(HOST, SESSION)?.value ?? "";
    const refreshesBefore = system.refreshCount();
    // Past the access token's 5 minutes.
    system.advance(6 * MINUTE);
    const parallel = Array.from({ length: 5 }, () => {
      const copy = new TestBrowser(system);
      copy.setCookie(HOST, SESSION, stale);
      return copy;
    });
    const answers = await Promise.all(parallel.map((copy) => copy.api("/api/contacts")));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(system.refreshCount() - refreshesBefore).toBe(1);
    expect(new Set(parallel.map((copy) => copy.cookie(HOST, SESSION)?.value)).size).toBe(1);
  });

  it("ends at the absolute lifetime even when the person is active all along", async () => {
    system = await startSystem({ sessionIdleTimeoutSeconds: 20 * 60, sessionAbsoluteLifetimeSeconds: 3600 });
    const alice = await loggedIn();
    const captured = alice.cookie(HOST, SESSION)?.value ?? "";
    for (let elapsed = 0; elapsed < 55; elapsed += 11) {
      system.advance(11 * MINUTE);
      expect((await alice.api("/api/contacts")).status).toBe(200);
    }
    system.advance(6 * MINUTE);
    expect((await alice.api("/api/contacts")).status).toBe(401);
    // A copy of the first cookie, kept by someone, is just as dead.
    const keeper = new TestBrowser(system);
    keeper.setCookie(HOST, SESSION, captured);
    expect((await keeper.api("/api/contacts")).status).toBe(401);
  });
});

describe("cookie secret rotation", () => {
  const NEW_SECRET = "a-brand-new-cookie-secret-of-32-characters";

  it("a session sealed with the previous secret still works after a new one is put first", async () => {
    system = await startSystem();
    const alice = await loggedIn();
    system.restartBff({ cookieSecrets: [NEW_SECRET, COOKIE_SECRET] });
    expect((await alice.api("/api/contacts")).status).toBe(200);
    expect(await (await alice.api("/bff/session")).json()).toMatchObject({ authenticated: true });
  });

  it("a session sealed with a removed secret is no session: 401, never a 500", async () => {
    system = await startSystem();
    const alice = await loggedIn();
    system.restartBff({ cookieSecrets: [NEW_SECRET] });
    const response = await alice.api("/api/contacts");
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: "not_authenticated" });
    expect(alice.cookie(HOST, SESSION)).toBeUndefined();
  });
});

describe("restarts", () => {
  it("a session survives a BFF restart (it lives in the cookie)", async () => {
    system = await startSystem();
    const alice = await loggedIn();
    system.restartBff();
    expect((await alice.api("/api/contacts")).status).toBe(200);
  });

  it("a logged-out session stays refused after a restart when the store outlives the process", async () => {
    const store = new MemorySessionStore();
    system = await startSystem({}, { store });
    const alice = await loggedIn();
    const captured = alice.cookie(HOST, SESSION)?.value ?? "";
    expect((await alice.api("/bff/logout", { method: "POST" })).status).toBe(200);
    system.restartBff();
    const replay = new TestBrowser(system);
    replay.setCookie(HOST, SESSION, captured);
    expect((await replay.api("/api/contacts")).status).toBe(401);
  });
});

describe("outages", () => {
  it("IdP down at login: a readable 503 page whose retry link repeats the same login", async () => {
    system = await startSystem();
    system.idpDown = true;
    const browser = new TestBrowser(system);
    const response = await browser.fetch(`${BFF}/bff/login?returnTo=%2Fcontacts`);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await response.text();
    expect(page).toContain("The sign-in service is unavailable");
    expect(page).toContain('href="/bff/login?returnTo=%2Fcontacts"');
    expect(page).not.toMatch(/at \w+ \(|node_modules/);

    system.idpDown = false;
    expect(await browser.login(USERS.alice, "/contacts")).toBe(`${BFF}/contacts`);
  });

  it("IdP down during the callback: no session is written, and a new login works", async () => {
    system = await startSystem();
    const browser = new TestBrowser(system);
    const { url: callback } = await browser.navigate(`${BFF}/bff/login?returnTo=/`, {
      user: USERS.alice,
      consent: "allow",
      stopBefore: `${BFF}/bff/callback`,
    });
    system.idpDown = true;
    const failed = await browser.fetch(callback);
    expect(failed.status).toBe(503);
    expect(failed.headers.get("content-type")).toMatch(/^text\/html/);
    expect(browser.cookie(HOST, SESSION)).toBeUndefined();

    system.idpDown = false;
    // The login transaction was used up by the failed attempt: the same link cannot be replayed.
    expect((await browser.fetch(callback)).status).toBe(400);
    expect(await browser.login(USERS.alice)).toBe(`${BFF}/`);
  });

  it("API slower than the configured timeout: 504 problem, the session kept", async () => {
    system = await startSystem({ apiTimeoutMs: 200 });
    const alice = await loggedIn();
    const original = system.fetch;
    system.fetch = (input, init) => {
      const request = new Request(input, init);
      if (!request.url.startsWith(API)) return original(request);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve(original(request)), 2_000);
        request.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(new DOMException("The operation was aborted.", "AbortError"));
        });
      });
    };
    const response = await alice.api("/api/contacts");
    system.fetch = original;
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ code: "upstream_timeout" });
    expect((await alice.api("/api/contacts")).status).toBe(200);
  });
});

describe("sessions of any size", () => {
  it("a person whose tokens are large (1.5 KB+ claims) logs in and uses the API; every cookie stays ≤ 4096 bytes", async () => {
    const long = "Bartholomew ".repeat(70).trim();
    system = await startSystem(
      {},
      {},
      {
        extraUsers: [
          {
            username: "bart",
            sub: "user-bart",
            passwordHash: await hashPassword("bart-test-password"),
            claims: { name: long, given_name: long, email: "bart@example.com", email_verified: true },
          },
        ],
      },
    );
    const bart = new TestBrowser(system);
    expect(await bart.login({ username: "bart", password: "bart-test-password" }, "/contacts")).toBe(
      `${BFF}/contacts`,
    );
    const cookies = bart.cookies.all(HOST).filter(({ name }) => name.startsWith(SESSION));
    expect(cookies.length).toBeGreaterThan(1);
    for (const { name, value } of cookies)
      expect(Buffer.byteLength(`${name}=${value}`)).toBeLessThanOrEqual(4096);

    const session = (await (await bart.api("/bff/session")).json()) as { user: { name: string } };
    expect(session.user.name).toBe(long);
    expect((await bart.api("/api/contacts")).status).toBe(200);
    // Refreshed tokens are split and stored the same way.
    system.advance(10 * MINUTE);
    expect((await bart.api("/api/contacts")).status).toBe(200);
    expect((await bart.api("/api/contacts")).status).toBe(200);

    const alice = await loggedIn();
    const bytes = (browser: TestBrowser) =>
      browser.cookies
        .all(HOST)
        .filter(({ name }) => name.startsWith(SESSION))
        .reduce((sum, { name, value }) => sum + Buffer.byteLength(`${name}=${value}`) + 2, -2);
    console.info(
      `cookie bytes per proxied request: ${bytes(alice)} (our IdP's tokens), ${bytes(bart)} (large tokens)`,
    );
  });
});
