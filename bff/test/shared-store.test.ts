/**
 * Several BFF instances, one Redis, one IdP: the session behaves as if there
 * were one BFF. Each instance has its own in-process state (its own refresher),
 * exactly as separate processes would; only Redis is shared.
 * (bff/test/processes.test.ts repeats the central case with real processes.)
 */
import type { Hono } from "hono";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { RedisSessionStore } from "../src/index.ts";
import { BFF, startSystem, TestBrowser, type TestSystem, USERS } from "./harness.ts";
import { startRedis, type TestRedis } from "./redis-server.ts";

const SESSION = "__Host-bff-session";
const HOST = new URL(BFF).host;

let redis: TestRedis;
let system: TestSystem;
const stores: RedisSessionStore[] = [];
const newStore = async () => {
  const store = await RedisSessionStore.connect({ url: redis.url, prefix: `test-${Math.random()}:` });
  stores.push(store);
  return store;
};

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await system.close();
});

/** Two BFFs sharing one key prefix in Redis; the browser logs in through the first. */
let second: Hono;
let cookie: string;
let connect: () => Promise<RedisSessionStore>;
beforeEach(async () => {
  const prefix = `test-${Math.random()}:`;
  connect = async () => {
    const store = await RedisSessionStore.connect({ url: redis.url, prefix });
    stores.push(store);
    return store;
  };
  system = await startSystem({}, { store: await connect() });
  second = system.anotherBff({}, { store: await connect() });
  const alice = new TestBrowser(system);
  await alice.login(USERS.alice);
  cookie = alice.cookie(HOST, SESSION)?.value ?? "";
});

const call = (app: Hono, sessionCookie = cookie) =>
  app.fetch(
    new Request(`${BFF}/api/contacts`, { headers: { cookie: `${SESSION}=${sessionCookie}`, "x-csrf": "1" } }),
  );

describe("two BFF instances sharing Redis", () => {
  it("50 parallel calls on an expired access token, spread over both: one refresh, 50 successes, grant intact (C12)", async () => {
    const refreshesAtLogin = system.refreshCount();
    system.advance(10 * 60_000);
    const apps = [system.bff, second];
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => call(apps[i % 2] as Hono)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(system.refreshCount()).toBe(refreshesAtLogin + 1);

    // Each answer carries a cookie with the new tokens; any of them works, on either instance.
    const newCookie = /__Host-bff-session=([^;]+)/.exec(responses[7]?.headers.get("set-cookie") ?? "")?.[1];
    expect(newCookie).toBeDefined();
    expect((await call(second, newCookie)).status).toBe(200);

    // 5 s later the pre-refresh cookie still works: the outcome is kept, the spent token not replayed.
    system.advance(5_000);
    expect((await call(second)).status).toBe(200);
    expect((await call(system.bff)).status).toBe(200);
    expect(system.refreshCount()).toBe(refreshesAtLogin + 1);

    // The grant was never revoked: the next refresh, with the rotated token, succeeds too.
    system.advance(10 * 60_000);
    expect((await call(second, newCookie)).status).toBe(200);
    expect(system.refreshCount()).toBe(refreshesAtLogin + 2);
  });

  it("a logout on one instance is honoured by the other, and by a restarted one", async () => {
    const logout = await system.bff.fetch(
      new Request(`${BFF}/bff/logout`, {
        method: "POST",
        headers: { cookie: `${SESSION}=${cookie}`, "x-csrf": "1" },
      }),
    );
    expect(logout.status).toBe(200);
    const replay = await call(second);
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ code: "session_expired" });
    const restarted = system.anotherBff({}, { store: await connect() });
    expect((await call(restarted)).status).toBe(401);
    // Control: an instance on other keys knows nothing of the logout, so the refusals above come from Redis.
    const unrelated = system.anotherBff({}, { store: await newStore() });
    expect((await call(unrelated)).status).toBe(200);
  });

  it("Redis down: a valid access token is served, a cookie this instance logged out is still refused, an expired one gets 503 with Retry-After; back up: works again", async () => {
    const bob = new TestBrowser(system);
    await bob.login(USERS.bob);
    const bobCookie = bob.cookie(HOST, SESSION)?.value ?? "";
    const logout = await system.bff.fetch(
      new Request(`${BFF}/bff/logout`, {
        method: "POST",
        headers: { cookie: `${SESSION}=${bobCookie}`, "x-csrf": "1" },
      }),
    );
    expect(logout.status).toBe(200);

    const health = async () => (await second.fetch(new Request(`${BFF}/bff/health`))).status;
    expect(await health()).toBe(200);
    await redis.stop();
    // A balancer's readiness check hears of it; the replica still serves what it can.
    expect(await health()).toBe(503);
    // The access token still works: nothing needs the store but the ended-session check (ADR 016).
    expect((await call(second)).status).toBe(200);
    expect((await call(system.bff)).status).toBe(200);
    // The instance that ended bob's session remembers it without asking Redis.
    const replay = await call(system.bff, bobCookie);
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ code: "session_expired" });

    // Past the access token's expiry, a refresh needs the store to stay single: 503, session kept.
    system.advance(10 * 60_000);
    const response = await call(second);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await response.json()).toMatchObject({ code: "session_store_unavailable" });
    await redis.start();
    // The client reconnects by itself; give it a moment.
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = (await call(second)).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
    expect(await health()).toBe(200);
    // And the logout recorded before the outage is still there, on both instances.
    expect((await call(second, bobCookie)).status).toBe(401);
  });
  it("Redis down: someone whose access token expired can still log in again, and the new session works", async () => {
    const carol = new TestBrowser(system);
    await carol.login(USERS.alice);
    const before = carol.cookie(HOST, SESSION)?.value ?? "";
    await redis.stop();
    try {
      system.advance(10 * 60_000);
      // The old session needs a refresh, which needs the store: 503, as above.
      expect((await carol.api("/api/contacts")).status).toBe(503);
      // Logging in does not ask the store whether the old session ended: it ends it anyway.
      const landed = await carol.login(USERS.alice);
      expect(new URL(landed).origin).toBe(BFF);
      const after = carol.cookie(HOST, SESSION)?.value ?? "";
      expect(after).not.toBe(before);
      expect((await carol.api("/api/contacts")).status).toBe(200);
      // The old cookie was ended by this instance, which remembers it while the store is away.
      expect((await call(system.bff, before)).status).toBe(401);
    } finally {
      await redis.start();
    }
  });
});
