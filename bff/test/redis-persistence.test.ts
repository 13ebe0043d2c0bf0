/**
 * Ended sessions live in Redis only, so Redis must keep them across its own restart
 * (docs/operations.md, ADR 015). The store tells what Redis keeps on disk, and says
 * when Redis came back without its data; a logout survives a crash of a Redis run
 * as documented.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { afterEach, describe, expect, it } from "vitest";

import { checkRedisSafety, RedisSessionStore } from "../src/index.ts";

import { startRedis, type TestRedis } from "./redis-server.ts";

const running: TestRedis[] = [];
const stores: RedisSessionStore[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const redis of running.splice(0)) await redis.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function redisWith(options: { persistent: boolean }) {
  const dir = mkdtempSync(join(tmpdir(), "bff-redis-"));
  dirs.push(dir);
  const redis = await startRedis(options.persistent ? { appendOnlyDir: dir } : {});
  running.push(redis);
  return redis;
}

async function connect(redis: TestRedis, onDataLoss?: () => void) {
  const store = await RedisSessionStore.connect({
    url: redis.url,
    prefix: "p:",
    ...(onDataLoss ? { onDataLoss } : {}),
  });
  stores.push(store);
  return store;
}

async function eventually(condition: () => Promise<boolean>) {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      if (await condition()) return true;
    } catch {
      // still reconnecting
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

const session = { sid: "s1", sub: "alice", createdAt: Date.now() };

describe("Redis persistence and the ended sessions", () => {
  it("reports a Redis that keeps nothing on disk, and one with an append-only file", async () => {
    expect(await (await connect(await redisWith({ persistent: false }))).persistence()).toBe("none");
    expect(await (await connect(await redisWith({ persistent: true }))).persistence()).toBe("aof");
  });

  it("a logout survives a crash (SIGKILL) and restart of a Redis run with appendonly yes", async () => {
    const redis = await redisWith({ persistent: true });
    let lost = 0;
    const store = await connect(redis, () => lost++);
    await store.markEnded(session.sid, Date.now() + 60_000);
    await redis.stop();
    await redis.start();
    expect(await eventually(() => store.isEnded(session))).toBe(true);
    expect(lost).toBe(0);
  });

  it("says so when Redis comes back without its data, which forgets the logouts", async () => {
    const redis = await redisWith({ persistent: false });
    let lost = 0;
    const store = await connect(redis, () => lost++);
    await store.markEnded(session.sid, Date.now() + 60_000);
    await redis.stop();
    await redis.start();
    expect(await eventually(async () => lost === 1)).toBe(true);
    expect(await store.isEnded(session)).toBe(false);
  });

  it("at start: a production BFF refuses a Redis that keeps nothing, unless told so loudly; elsewhere it warns", async () => {
    const bare = await connect(await redisWith({ persistent: false }));
    const production = await checkRedisSafety(bare, { production: true, allowWithoutPersistence: false });
    expect(production.refusal).toMatch(
      /keeps nothing on disk.*BFF_DANGEROUSLY_ALLOW_REDIS_WITHOUT_PERSISTENCE/,
    );
    const allowed = await checkRedisSafety(bare, { production: true, allowWithoutPersistence: true });
    expect(allowed.refusal).toBeUndefined();
    expect(allowed.warnings.join()).toMatch(/appendonly yes/);
    const development = await checkRedisSafety(bare, { production: false, allowWithoutPersistence: false });
    expect(development.refusal).toBeUndefined();
    expect(development.warnings).toHaveLength(1);

    const persistent = await connect(await redisWith({ persistent: true }));
    expect(await checkRedisSafety(persistent, { production: true, allowWithoutPersistence: false })).toEqual({
      warnings: [],
    });
  });

  it("warns when a full Redis may evict the records of ended sessions (maxmemory-policy other than noeviction)", async () => {
    const redis = await redisWith({ persistent: true });
    const store = await connect(redis);
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      await admin.configSet({ maxmemory: "100mb", "maxmemory-policy": "volatile-lru" });
      expect(await store.mayEvict()).toBe(true);
      const { warnings } = await checkRedisSafety(store, {
        production: true,
        allowWithoutPersistence: false,
      });
      expect(warnings.join()).toMatch(/noeviction/);
      await admin.configSet("maxmemory-policy", "noeviction");
      expect(await store.mayEvict()).toBe(false);
    } finally {
      await admin.close();
    }
  });
});
