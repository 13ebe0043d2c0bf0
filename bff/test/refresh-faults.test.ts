/**
 * Refresh under failure, in one process with a real Redis (bff/test/faults/ repeats
 * these with real processes and signals): once the IdP has answered, its tokens reach
 * the browser even with the store gone; a refresh whose fate is unknown is not sent
 * again by anyone until its lease has run out; and a token that still works is used,
 * whatever the IdP or the refresh is doing.
 */
import type { Hono } from "hono";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { RedisSessionStore } from "../src/index.ts";
import { LOCK_TTL_MS, REFRESH_DEADLINE_MS } from "../src/session/refresh.ts";
import { BFF, IDP, startSystem, TestBrowser, type TestSystem, USERS } from "./harness.ts";
import { startRedis, type TestRedis } from "./redis-server.ts";

const SESSION = "__Host-bff-session";
const HOST = new URL(BFF).host;
/** The embedded IdP's access tokens live 300 s; the BFF refreshes within 30 s of expiry. */
const INTO_LEEWAY_MS = 285_000;
const PAST_EXPIRY_MS = 10 * 60_000;

let redis: TestRedis;
let system: TestSystem | undefined;
const stores: RedisSessionStore[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await system?.close();
  system = undefined;
});

/** Two BFF instances on one Redis key space (two processes, in effect), alice logged in through the first. */
async function twoInstancesOnRedis() {
  const prefix = `faults-${Math.random()}:`;
  const connect = async () => {
    const store = await RedisSessionStore.connect({ url: redis.url, prefix });
    stores.push(store);
    return store;
  };
  const started = await startSystem({}, { store: await connect() });
  system = started;
  const second = started.anotherBff({}, { store: await connect() });
  const alice = new TestBrowser(started);
  await alice.login(USERS.alice);
  return { system: started, second, cookie: alice.cookie(HOST, SESSION)?.value ?? "" };
}

const call = (app: Hono, cookie: string) =>
  app.fetch(
    new Request(`${BFF}/api/contacts`, { headers: { cookie: `${SESSION}=${cookie}`, "x-csrf": "1" } }),
  );

const sessionCookieOf = (response: Response) =>
  /__Host-bff-session=([^;]+)/.exec(response.headers.get("set-cookie") ?? "")?.[1];

const isRefresh = async (request: Request) =>
  new URL(request.url).origin === IDP &&
  new URLSearchParams(await request.clone().text()).get("grant_type") === "refresh_token";

/** Wraps the system's routed fetch: `onRefresh` runs for each refresh request before the IdP gets it. */
function beforeEachRefresh(
  target: TestSystem,
  onRefresh: (request: Request) => Promise<Response | undefined>,
) {
  const inner = target.fetch;
  target.fetch = async (input, init) => {
    const request = new Request(input, init);
    if (await isRefresh(request)) {
      const replaced = await onRefresh(request);
      if (replaced) return replaced;
    }
    return inner(request);
  };
}

async function until(condition: () => Promise<boolean>, ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

describe("refresh when the session store fails", () => {
  it("Redis stops while the IdP rotates the tokens: the new cookie still reaches the browser, and the outcome is stored once Redis is back", async () => {
    const { system, second, cookie } = await twoInstancesOnRedis();
    const before = system.refreshCount();
    let stopped = false;
    beforeEachRefresh(system, async () => {
      if (!stopped) {
        stopped = true;
        await redis.stop(); // the IdP still gets the request and rotates the refresh token
      }
      return undefined;
    });
    system.advance(PAST_EXPIRY_MS); // both instances: they share the system's clock

    const during = await call(system.bff, cookie);
    expect(during.status).toBe(200);
    const rotated = sessionCookieOf(during);
    expect(rotated).toBeDefined();
    expect(system.refreshCount()).toBe(before + 1);

    // Back, empty (no persistence in this test Redis): the outcome kept in the first process is written again.
    await redis.start();
    for (const app of [system.bff, second]) {
      expect(await until(async () => (await call(app, rotated as string)).status === 200, 10_000)).toBe(true);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the first process's next write attempt
    expect(system.refreshCount()).toBe(before + 1);

    // The grant is intact: the next refresh, with the rotated token, succeeds.
    system.advance(PAST_EXPIRY_MS);
    expect((await call(second, rotated as string)).status).toBe(200);
    expect(system.refreshCount()).toBe(before + 2);
  });
});

describe("refresh with a deadline and a lease", () => {
  it("an IdP that does not answer: 503 at the deadline, and nobody sends that refresh token again until the lease has run out", async () => {
    const { system, second, cookie } = await twoInstancesOnRedis();
    const sent: number[] = [];
    let hang = true;
    beforeEachRefresh(system, async (request) => {
      sent.push(Date.now());
      if (!hang) return undefined;
      hang = false;
      // A hung IdP: no answer, ever; only the BFF's own deadline ends the wait.
      return new Promise<Response>((_, reject) =>
        request.signal.addEventListener("abort", () => reject(request.signal.reason)),
      );
    });
    system.advance(PAST_EXPIRY_MS);

    const started = Date.now();
    const first = await call(system.bff, cookie);
    expect(first.status).toBe(503);
    expect(first.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(REFRESH_DEADLINE_MS - 100);
    expect(Date.now() - started).toBeLessThan(LOCK_TTL_MS);

    // The other instance, with the same cookie, waits for the lease instead of sending the token now.
    const second_ = await call(second, cookie);
    expect(second_.status).toBe(200);
    expect(sent).toHaveLength(2);
    expect((sent[1] as number) - (sent[0] as number)).toBeGreaterThanOrEqual(LOCK_TTL_MS - 100);
  }, 30_000);
});

describe("a token that still works is used", () => {
  it("IdP down inside the refresh leeway: served with the token it has; once it has expired, 503 with Retry-After and the session kept", async () => {
    system = await startSystem();
    const alice = new TestBrowser(system);
    await alice.login(USERS.alice);
    // (The API has fetched the IdP's keys by now: only the BFF's refresh needs the IdP below.)
    expect((await alice.api("/api/contacts")).status).toBe(200);
    system.idpDown = true;

    system.advance(INTO_LEEWAY_MS);
    const inLeeway = await alice.api("/api/contacts");
    expect(inLeeway.status).toBe(200);

    system.advance(PAST_EXPIRY_MS);
    const expired = await alice.api("/api/contacts");
    expect(expired.status).toBe(503);
    expect(expired.headers.get("retry-after")).toMatch(/^\d+$/);

    system.idpDown = false;
    expect((await alice.api("/api/contacts")).status).toBe(200);
  });

  it("a slow IdP inside the leeway: served within about a second, and the refresh it finished later is taken by the next request", async () => {
    system = await startSystem();
    const alice = new TestBrowser(system);
    await alice.login(USERS.alice);
    const before = system.refreshCount();
    beforeEachRefresh(system, async () => {
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      return undefined;
    });
    system.advance(INTO_LEEWAY_MS);

    const started = Date.now();
    const response = await alice.api("/api/contacts");
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2_000);

    // The refresh went on; once it is done, the next request carries its tokens home without another one...
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect((await alice.api("/api/contacts")).status).toBe(200);
    expect(system.refreshCount()).toBe(before + 1);
    // ...so the cookie works past the old token's expiry with no further refresh.
    system.advance(60_000);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    expect(system.refreshCount()).toBe(before + 1);
  });
});
