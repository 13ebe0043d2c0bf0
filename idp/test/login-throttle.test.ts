/**
 * Password guessing on the login page is slowed down: after five failures for
 * one username, the next attempts are refused (429, Retry-After) without the
 * password being checked, whether the username exists or not.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Idp } from "../src/index.ts";
import { createLoginThrottle } from "../src/login-throttle.ts";
import { authorizationRequest, Browser, interactionUid, location, testIdp } from "./helpers.ts";

let idp: Idp;
beforeAll(async () => {
  idp = await testIdp();
});
afterAll(async () => {
  await idp.close();
});

async function attempt(username: string, password: string) {
  const browser = new Browser(idp);
  const toLogin = location(await browser.get(authorizationRequest().url));
  await browser.get(toLogin);
  return browser.post(`/interaction/${interactionUid(toLogin)}/login`, { username, password });
}

describe("the login page", () => {
  it("refuses a sixth try after five wrong passwords, even the right one, the same way for any username", async () => {
    for (let i = 0; i < 5; i++) expect((await attempt("bob", "wrong")).statusCode).toBe(400);
    const blocked = await attempt("bob", "bob-dev-password");
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
    expect(blocked.body).toContain("Too many failed sign-in attempts");

    for (let i = 0; i < 5; i++) expect((await attempt("nobody-here", "wrong")).statusCode).toBe(400);
    const unknown = await attempt("nobody-here", "wrong");
    expect(unknown.statusCode).toBe(429);
    expect(unknown.body).toContain("Too many failed sign-in attempts");

    // Another person is not locked out by it.
    expect((await attempt("alice", "alice-dev-password")).statusCode).toBe(303);
  });
});

describe("the throttle", () => {
  it("counts per username and per address over a sliding window", () => {
    let clock = 0;
    const throttle = createLoginThrottle({ perUsername: 2, perAddress: 3, windowMs: 1000, now: () => clock });
    throttle.recordFailure("Alice", "a1");
    throttle.recordFailure("alice ", "a1");
    expect(throttle.waitSeconds("ALICE", "a2")).toBe(1);
    expect(throttle.waitSeconds("bob", "a1")).toBe(0);
    throttle.recordFailure("bob", "a1");
    expect(throttle.waitSeconds("carol", "a1")).toBeGreaterThan(0);
    clock = 1001;
    expect(throttle.waitSeconds("alice", "a1")).toBe(0);
  });

  it("forgets a username's failures after a successful login", () => {
    const throttle = createLoginThrottle({ perUsername: 2 });
    throttle.recordFailure("dana", "x");
    throttle.recordSuccess("dana");
    throttle.recordFailure("dana", "x");
    expect(throttle.waitSeconds("dana", "y")).toBe(0);
  });
});
