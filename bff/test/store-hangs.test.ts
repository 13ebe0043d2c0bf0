/**
 * A session store that hangs rather than fails: a real Redis stopped with SIGSTOP keeps its
 * connections open and answers nothing. Every call to it has a deadline
 * (session/store-deadline.ts), after which the BFF does what it does when the store is down
 * (docs/decisions/016); when Redis resumes it carries out what it was sent in the meantime.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Hono } from "hono";
import { createClient } from "redis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { RedisSessionStore } from "../src/index.ts";
import { STORE_DEADLINE_MS } from "../src/session/store-deadline.ts";
import { BFF, startSystem, TestBrowser, type TestSystem, USERS } from "./harness.ts";
import { idpSigningKey, signLogoutToken } from "./logout-tokens.ts";
import { startRedis, type TestRedis } from "./redis-server.ts";

const SESSION = "__Host-bff-session";
const HOST = new URL(BFF).host;
const dir = mkdtempSync(join(tmpdir(), "bff-store-hangs-"));
const keysPath = join(dir, "jwks.json");

let redis: TestRedis;
let system: TestSystem;
const stores: RedisSessionStore[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  const pid = redis.pid();
  if (pid) process.kill(pid, "SIGCONT");
  for (const store of stores.splice(0)) await store.close();
  await system.close();
});

const connect = async (prefix: string) => {
  const store = await RedisSessionStore.connect({ url: redis.url, prefix });
  stores.push(store);
  return store;
};

const call = async (app: Hono, cookie: string) =>
  app.fetch(
    new Request(`${BFF}/api/contacts`, { headers: { cookie: `${SESSION}=${cookie}`, "x-csrf": "1" } }),
  );
const health = async (app: Hono) => (await app.fetch(new Request(`${BFF}/bff/health`))).status;
const postLogoutToken = async (app: Hono, token: string) =>
  app.fetch(
    new Request(`${BFF}/bff/backchannel-logout`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ logout_token: token }).toString(),
    }),
  );

/** Runs `step` and returns its result with how long it took. */
async function timed<T>(step: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await step();
  return { value, ms: performance.now() - started };
}

async function until(condition: () => Promise<boolean>, what: string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting until ${what}`);
}

/** Two BFF replicas on one Redis key prefix, and alice logged in through the first. */
async function twoReplicasAndAlice() {
  const prefix = `test-${Math.random()}:`;
  system = await startSystem({}, { store: await connect(prefix) }, { keysPath });
  const second = system.anotherBff({}, { store: await connect(prefix) });
  const alice = new TestBrowser(system);
  await alice.login(USERS.alice);
  return { second, alice, cookie: alice.cookie(HOST, SESSION)?.value ?? "" };
}

describe("the session store hangs (Redis stopped with SIGSTOP)", () => {
  it("valid tokens are served within the deadline, a logout is honoured here and retried by the IdP, nothing is refused as a replay", async () => {
    const { second, cookie } = await twoReplicasAndAlice();
    expect((await call(system.bff, cookie)).status).toBe(200);
    expect(await health(system.bff)).toBe(200);

    process.kill(redis.pid() as number, "SIGSTOP");

    // One store call per request (the ended-session check), abandoned at its deadline.
    const served = await timed(() => call(system.bff, cookie));
    expect(served.value.status).toBe(200);
    expect(served.ms).toBeLessThan(STORE_DEADLINE_MS * 3);
    const probed = await timed(() => health(system.bff));
    expect(probed.value).toBe(503);
    expect(probed.ms).toBeLessThan(STORE_DEADLINE_MS * 3);

    // The IdP ends alice's sessions: honoured here at once, 503 so that the IdP sends it again.
    const token = await signLogoutToken(idpSigningKey(keysPath), { claims: { sub: "user-alice" } });
    const first = await timed(() => postLogoutToken(system.bff, token));
    expect(first.value.status).toBe(503);
    expect(first.value.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(first.ms).toBeLessThan(STORE_DEADLINE_MS * 3);
    expect((await call(system.bff, cookie)).status).toBe(401);

    process.kill(redis.pid() as number, "SIGCONT");
    // Redis now carries out what it was sent while stopped; this replica is healthy again once
    // its queued record is written.
    await until(async () => (await health(system.bff)) === 200, "the ended-session record is in the store");

    // The IdP's retry reaches the other replica: accepted, not refused as a replay of the first.
    const retried = await postLogoutToken(second, token);
    expect(retried.status).toBe(200);
    // A replay after that is refused (D8m), and alice's cookie is refused by both replicas.
    expect((await postLogoutToken(second, token)).status).toBe(400);
    expect((await call(second, cookie)).status).toBe(401);
    expect((await call(system.bff, cookie)).status).toBe(401);
  });
});

describe("the session store answers but refuses writes (Redis with min-replicas-to-write and no replica)", () => {
  it("/bff/health answers 503 until the ended-session records waiting here are in the store", async () => {
    const { second, alice, cookie } = await twoReplicasAndAlice();
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      await admin.configSet("min-replicas-to-write", "1");
      expect((await alice.api("/bff/logout", { method: "POST" })).status).toBe(200);
      // The store answers reads, so only the waiting record says this replica is not yet healthy.
      expect(await health(second)).toBe(200);
      expect(await health(system.bff)).toBe(503);
      // The other replica does not know of the logout yet: exactly what the 503 warns of.
      expect((await call(second, cookie)).status).toBe(200);

      await admin.configSet("min-replicas-to-write", "0");
      await until(async () => (await health(system.bff)) === 200, "the queued record is written");
      expect((await call(second, cookie)).status).toBe(401);
    } finally {
      await admin.configSet("min-replicas-to-write", "0").catch(() => {});
      await admin.quit();
    }
  });
});
