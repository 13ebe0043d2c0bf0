/**
 * One contract, three stores: the in-memory default, SQLite (one machine) and
 * Redis (several machines) must behave the same, or the BFF's guarantees
 * would depend on how it is deployed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { MemorySessionStore, RedisSessionStore, type SessionStore } from "../src/index.ts";
import { SqliteSessionStore } from "../src/session/sqlite-store.ts";
import { startRedis, type TestRedis } from "./redis-server.ts";

let redis: TestRedis;
const dir = mkdtempSync(join(tmpdir(), "bff-stores-"));
const opened: { close(): unknown }[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const store of opened) await store.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

const factories: [string, () => Promise<SessionStore>][] = [
  ["memory", async () => new MemorySessionStore()],
  [
    "sqlite",
    async () => {
      const store = new SqliteSessionStore(join(dir, `${Math.random()}.sqlite`));
      opened.push(store);
      return store;
    },
  ],
  [
    "redis",
    async () => {
      const store = await RedisSessionStore.connect({ url: redis.url, prefix: `${Math.random()}:` });
      opened.push(store);
      return store;
    },
  ],
];

const HOUR = 3_600_000;
const session = (
  overrides: Partial<{ sid: string; idpSid: string; sub: string; createdAt: number }> = {},
) => ({
  sid: "s1",
  sub: "user-alice",
  createdAt: Date.now() - 1000,
  ...overrides,
});

describe.each(factories)("the %s session store", (_, open) => {
  it("remembers an ended session until its time is up, and only that one", async () => {
    const store = await open();
    expect(await store.isEnded(session())).toBe(false);
    await store.markEnded("s1", Date.now() + HOUR);
    expect(await store.isEnded(session())).toBe(true);
    expect(await store.isEnded(session({ sid: "s2" }))).toBe(false);
    await store.markEnded("s3", Date.now() - 1);
    expect(await store.isEnded(session({ sid: "s3" }))).toBe(false);
  });

  it("ends every session of a person begun before a back-channel logout, not those begun after", async () => {
    const store = await open();
    const now = Date.now();
    await store.markSubjectEnded("user-alice", now, now + HOUR);
    expect(await store.isEnded(session({ createdAt: now - 10 }))).toBe(true);
    expect(await store.isEnded(session({ createdAt: now + 10 }))).toBe(false);
    expect(await store.isEnded(session({ sub: "user-bob", createdAt: now - 10 }))).toBe(false);
    // An earlier logout arriving late does not move the line back.
    await store.markSubjectEnded("user-alice", now - 5000, now + HOUR);
    expect(await store.isEnded(session({ createdAt: now - 10 }))).toBe(true);
  });

  it("ends the sessions of one IdP session", async () => {
    const store = await open();
    await store.markIdpSessionEnded("idp-1", Date.now() + HOUR);
    expect(await store.isEnded(session({ idpSid: "idp-1" }))).toBe(true);
    expect(await store.isEnded(session({ idpSid: "idp-2" }))).toBe(false);
    expect(await store.isEnded(session())).toBe(false);
  });

  it("accepts a logout token id once", async () => {
    const store = await open();
    expect(await store.claimTokenId("jti-1", Date.now() + HOUR)).toBe(true);
    expect(await store.claimTokenId("jti-1", Date.now() + HOUR)).toBe(false);
    expect(await store.claimTokenId("jti-2", Date.now() + HOUR)).toBe(true);
  });

  it("lets one owner hold a refresh lock, keeps the outcome, and frees the lock", async () => {
    const store = await open();
    expect(await store.beginRefresh("k", "a", 10_000)).toBe(true);
    expect(await store.beginRefresh("k", "b", 10_000)).toBe(false);
    // Only the holder can release it.
    await store.abandonRefresh("k", "b");
    expect(await store.beginRefresh("k", "b", 10_000)).toBe(false);
    await store.finishRefresh("k", "a", "sealed-outcome", 30_000);
    expect(await store.refreshOutcome("k")).toBe("sealed-outcome");
    expect(await store.beginRefresh("k", "b", 10_000)).toBe(true);
    expect(await store.refreshOutcome("other")).toBeUndefined();
  });

  it("frees a lock whose holder never came back once it expires", async () => {
    const store = await open();
    expect(await store.beginRefresh("k2", "a", 30)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await store.beginRefresh("k2", "b", 10_000)).toBe(true);
  });
});
