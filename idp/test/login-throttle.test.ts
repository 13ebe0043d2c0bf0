/**
 * Password guessing on the login page is slowed down without letting anyone
 * lock an account (ADR 022): an address that keeps failing for one account, or
 * for many, is refused (429, Retry-After) without the password being checked;
 * an account that many addresses fail for is only answered later, and the
 * right password from an address that has not failed is never refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createIdp } from "../src/app.ts";
import type { Idp } from "../src/index.ts";
import { createFailureWindow, createLoginThrottle } from "../src/login-throttle.ts";
import { authorizationRequest, Browser, interactionUid, location, testConfig, testIdp } from "./helpers.ts";

let idp: Idp;
beforeAll(async () => {
  idp = await testIdp();
});
afterAll(async () => {
  await idp.close();
});

async function attempt(username: string, password: string, from: string, on = idp) {
  const browser = new Browser(on, { remoteAddress: from });
  const toLogin = location(await browser.get(authorizationRequest().url));
  await browser.get(toLogin);
  return browser.post(`/interaction/${interactionUid(toLogin)}/login`, { username, password });
}

/** The message in a login page's alert. */
const alertOf = (body: string) => /<div id="form-error"[^>]*>(.*?)<\/div>/s.exec(body)?.[1] ?? "";

describe("the login page", () => {
  it("refuses an attacker after five wrong passwords, while the owner signs in from elsewhere (X19)", async () => {
    const attacker = "198.51.100.7";
    const answers: number[] = [];
    for (let i = 0; i < 20; i++) answers.push((await attempt("bob", `guess-${i}`, attacker)).statusCode);
    expect(answers).toEqual([...Array(5).fill(400), ...Array(15).fill(429)]);

    const refused = await attempt("bob", "bob-dev-password", attacker);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(14 * 60);
    expect(refused.headers["content-type"]).toMatch(/^text\/html/);
    expect(refused.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(refused.headers["x-frame-options"]).toBe("DENY");
    expect(refused.headers["cache-control"]).toBe("no-store");
    expect(alertOf(refused.body)).toContain(
      "Too many failed sign-in attempts from here. Try again in 15 minutes.",
    );

    // The owner, from an address that has not failed: the right password works.
    expect((await attempt("bob", "bob-dev-password", "203.0.113.20")).statusCode).toBe(303);
  });

  it("refuses the same way whether the account exists or not", async () => {
    const attacker = "198.51.100.8";
    for (let i = 0; i < 5; i++)
      expect((await attempt("nobody-here", "wrong", attacker)).statusCode).toBe(400);
    for (let i = 0; i < 5; i++) expect((await attempt("carol", "wrong", attacker)).statusCode).toBe(400);
    const unknown = await attempt("nobody-here", "wrong", attacker);
    const known = await attempt("carol", "wrong", attacker);
    expect([unknown.statusCode, known.statusCode]).toEqual([429, 429]);
    expect(alertOf(unknown.body)).toBe(alertOf(known.body));
    // The same wait, give or take the seconds between the two series of attempts.
    expect(
      Math.abs(Number(unknown.headers["retry-after"]) - Number(known.headers["retry-after"])),
    ).toBeLessThan(3);
  });

  it("refuses an address that sprays wrong passwords over many accounts, for every account (X19)", async () => {
    const sprayer = "198.51.100.9";
    for (let i = 0; i < 20; i++)
      expect((await attempt(`user-${i}`, "Summer2026!", sprayer)).statusCode).toBe(400);
    const refused = await attempt("alice", "alice-dev-password", sprayer);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    // Elsewhere, the accounts it tried are untouched.
    expect((await attempt("alice", "alice-dev-password", "203.0.113.21")).statusCode).toBe(303);
    expect((await attempt("user-3", "wrong", "203.0.113.21")).statusCode).toBe(400);
  });

  it("forgets an address's failures for an account once it signs in there", async () => {
    const owner = "203.0.113.22";
    for (let i = 0; i < 4; i++) expect((await attempt("alice", "typo", owner)).statusCode).toBe(400);
    expect((await attempt("alice", "alice-dev-password", owner)).statusCode).toBe(303);
    for (let i = 0; i < 5; i++) expect((await attempt("alice", "typo", owner)).statusCode).toBe(400);
    expect((await attempt("alice", "typo", owner)).statusCode).toBe(429);
  });
});

describe("an account that many addresses fail for (X19)", () => {
  let slowed: Idp;
  beforeAll(async () => {
    // The real delay, scaled down: none for two failures, then 300 ms doubling up to 1.2 s
    // (well above the time a password check takes, so that the wait shows).
    const loginThrottle = createLoginThrottle({ accountDelay: { free: 2, baseMs: 300, maxMs: 1200 } });
    slowed = await createIdp(testConfig(), { loginThrottle });
  });
  afterAll(async () => {
    await slowed.close();
  });

  /** How long a password check for bob took to answer, from an address never seen before. */
  async function timed(password: string, from: string) {
    const browser = new Browser(slowed, { remoteAddress: from });
    const toLogin = location(await browser.get(authorizationRequest().url));
    await browser.get(toLogin);
    const started = performance.now();
    const response = await browser.post(`/interaction/${interactionUid(toLogin)}/login`, {
      username: "bob",
      password,
    });
    return { status: response.statusCode, ms: performance.now() - started };
  }

  it("answers later as the failures grow, and still lets the right password in from a clean address", async () => {
    const expected = [0, 0, 300, 600, 1200, 1200];
    for (const [i, delay] of expected.entries()) {
      const { status, ms } = await timed("wrong", `198.51.100.${100 + i}`);
      expect(status).toBe(400);
      expect(ms).toBeGreaterThanOrEqual(delay);
    }
    const owner = await timed("bob-dev-password", "203.0.113.30");
    expect(owner.status).toBe(303);
    expect(owner.ms).toBeGreaterThanOrEqual(1200);
  });
});

describe("the login throttle", () => {
  it("counts per account and address, and per address, over a sliding window", () => {
    let clock = 0;
    const throttle = createLoginThrottle({
      perAccountAndAddress: 2,
      perAddress: 3,
      windowMs: 1000,
      now: () => clock,
    });
    throttle.recordFailure("Alice", "a1");
    throttle.recordFailure("alice ", "a1");
    expect(throttle.refusalSeconds("ALICE", "a1")).toBe(1);
    expect(throttle.refusalSeconds("alice", "a2")).toBe(0); // another address: never refused
    expect(throttle.refusalSeconds("bob", "a1")).toBe(0);
    throttle.recordFailure("bob", "a1");
    expect(throttle.refusalSeconds("carol", "a1")).toBe(1); // three accounts from a1: spraying
    clock = 1001;
    expect(throttle.refusalSeconds("alice", "a1")).toBe(0);
    expect(throttle.refusalSeconds("carol", "a1")).toBe(0);
  });

  it("delays an account from the eleventh failure on, doubling from 1 s, never past 10 s, from any address", () => {
    const throttle = createLoginThrottle();
    const delays: number[] = [];
    for (let i = 0; i < 20; i++) {
      delays.push(throttle.delayMs("dana"));
      throttle.recordFailure("dana", `10.0.0.${i}`);
    }
    expect(delays).toEqual([...Array(10).fill(0), 1000, 2000, 4000, 8000, ...Array(6).fill(10_000)]);
    expect(throttle.delayMs("erin")).toBe(0);
    throttle.recordSuccess("dana", "10.0.0.99");
    expect(throttle.delayMs("dana")).toBe(0);
  });

  it("forgets an account's failures at one address after a success there, and no one else's", () => {
    const throttle = createLoginThrottle({ perAccountAndAddress: 2 });
    throttle.recordFailure("dana", "x");
    throttle.recordFailure("dana", "x");
    throttle.recordFailure("dana", "y");
    throttle.recordFailure("dana", "y");
    throttle.recordSuccess("dana", "x");
    expect(throttle.refusalSeconds("dana", "x")).toBe(0);
    expect(throttle.refusalSeconds("dana", "y")).toBeGreaterThan(0);
  });

  it("keeps bounded memory: at most maxKeys keys, at most limit times per key", () => {
    const window = createFailureWindow({ limit: 2, windowMs: 60_000, maxKeys: 3 });
    for (let i = 0; i < 1000; i++) window.recordFailure("busy");
    expect(window.failures("busy")).toBe(2);
    for (const key of ["k1", "k2", "k3"]) {
      window.recordFailure(key);
      window.recordFailure(key);
    }
    // "busy" failed longest ago: it is the one forgotten.
    expect(window.failures("busy")).toBe(0);
    expect(["k1", "k2", "k3"].map((key) => window.waitSeconds(key) > 0)).toEqual([true, true, true]);

    const throttle = createLoginThrottle({ perAccountAndAddress: 1, maxKeys: 10 });
    throttle.recordFailure("first", "a0");
    for (let i = 1; i <= 10; i++) throttle.recordFailure(`user-${i}`, `a${i}`);
    expect(throttle.refusalSeconds("first", "a0")).toBe(0);
    expect(throttle.refusalSeconds("user-10", "a10")).toBeGreaterThan(0);
  });
});

describe("the address the login limits count by", () => {
  it("is the connection's: a forged X-Forwarded-For does not give an attacker new addresses (X19)", async () => {
    const answers: number[] = [];
    for (let i = 0; i < 6; i++) {
      const b = new Browser(idp, { remoteAddress: "198.51.100.90" });
      const toLogin = location(await b.get(authorizationRequest().url));
      await b.get(toLogin);
      const forged = { "x-forwarded-for": `203.0.113.${i}` };
      answers.push(
        (
          await b.request("POST", `/interaction/${interactionUid(toLogin)}/login`, {
            form: { username: "frank", password: "wrong" },
            headers: forged,
          })
        ).statusCode,
      );
    }
    expect(answers).toEqual([400, 400, 400, 400, 400, 429]);
  });

  it("behind a trusted proxy, is the one the proxy appended: the owner is not refused for the attacker", async () => {
    const behindProxy = await createIdp({ ...testConfig(), trustedProxies: ["127.0.0.1"] });
    try {
      const via = async (client: string, password: string) => {
        const b = new Browser(behindProxy); // every request comes from the proxy, 127.0.0.1
        const headers = { "x-forwarded-for": client };
        const toLogin = location(await b.request("GET", authorizationRequest().url, { headers }));
        await b.request("GET", toLogin, { headers });
        return (
          await b.request("POST", `/interaction/${interactionUid(toLogin)}/login`, {
            form: { username: "bob", password },
            headers,
          })
        ).statusCode;
      };
      for (let i = 0; i < 5; i++) expect(await via("198.51.100.91", "wrong")).toBe(400);
      expect(await via("198.51.100.91", "bob-dev-password")).toBe(429);
      expect(await via("203.0.113.41", "bob-dev-password")).toBe(303);
    } finally {
      await behindProxy.close();
    }
  });
});
