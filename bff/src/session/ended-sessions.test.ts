/**
 * Ended-session records across a store outage (ended-sessions.ts), with a real Redis
 * killed by SIGKILL and started again. The same through whole BFFs:
 * bff/test/shared-store.test.ts and the fault suite (scripts/faults/).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startRedis, type TestRedis } from "../../test/redis-server.ts";
import { createEndedSessions } from "./ended-sessions.ts";
import { RedisSessionStore } from "./redis-store.ts";
import { MemorySessionStore, type SessionIdentity } from "./store.ts";

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis({ appendOnlyDir: mkdtempSync(join(tmpdir(), "ended-sessions-")) });
});
afterAll(async () => {
  await redis.stop();
});

const identity = (sid: string, extra: { idpSid?: string; sub?: string; createdAt?: number } = {}) => ({
  sid,
  sub: extra.sub ?? "alice",
  createdAt: extra.createdAt ?? Date.now() - 1_000,
  ...(extra.idpSid ? { idpSid: extra.idpSid } : {}),
});

async function until(condition: () => boolean | Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error("timed out");
    await sleep(100);
  }
}

describe("ended sessions across a store outage", () => {
  it("a logout while Redis is down is honoured here at once, queued, and in Redis once it is back", async () => {
    const prefix = `ended-${Math.random()}:`;
    const storeErrors: unknown[] = [];
    const store = await RedisSessionStore.connect({ url: redis.url, prefix });
    const other = await RedisSessionStore.connect({ url: redis.url, prefix });
    const ended = createEndedSessions(store, {
      now: Date.now,
      onStoreError: (error) => storeErrors.push(error),
    });
    const later = Date.now() + 60_000;
    try {
      expect(await ended.markEnded("before", later)).toBe("stored");

      await redis.stop();
      expect(await ended.markEnded("during", later)).toBe("queued");
      expect(await ended.markIdpSessionEnded("idp-during", later)).toBe("queued");
      expect(storeErrors.length).toBeGreaterThan(0);
      expect(ended.pending()).toBe(2);
      // This process knows its own records without the store; of anyone else's it cannot say.
      expect(await ended.isEnded(identity("during"))).toBe(true);
      expect(await ended.isEnded(identity("x", { idpSid: "idp-during" }))).toBe(true);
      expect(await ended.isEnded(identity("someone-else"))).toBe("unknown");

      await redis.start();
      await until(() => ended.pending() === 0);
      // Another replica, which never saw these logouts, finds them in Redis.
      await until(async () => {
        try {
          return await other.isEnded(identity("during"));
        } catch {
          return false;
        }
      });
      expect(await other.isEnded(identity("x", { idpSid: "idp-during" }))).toBe(true);
      expect(await other.isEnded(identity("before"))).toBe(true);
      expect(await other.isEnded(identity("someone-else"))).toBe(false);
    } finally {
      await store.close();
      await other.close();
    }
  });

  it("a person's back-channel logout ends only the sessions begun before it, here as in the store", async () => {
    const store = await RedisSessionStore.connect({ url: redis.url, prefix: `ended-${Math.random()}:` });
    const ended = createEndedSessions(store, { now: Date.now });
    try {
      const at = Date.now();
      await redis.stop();
      expect(await ended.markSubjectEnded("bob", at, at + 60_000)).toBe("queued");
      expect(await ended.isEnded(identity("old", { sub: "bob", createdAt: at - 1 }))).toBe(true);
      expect(await ended.isEnded(identity("new", { sub: "bob", createdAt: at + 1 }))).toBe("unknown");
      await redis.start();
      await until(() => ended.pending() === 0);
      expect(await store.isEnded(identity("old", { sub: "bob", createdAt: at - 1 }))).toBe(true);
      expect(await store.isEnded(identity("new", { sub: "bob", createdAt: at + 1 }))).toBe(false);
    } finally {
      await store.close();
    }
  });
});

/** A store whose answers take 20 ms to come back, as of when they were asked (a network store's round trip). */
class DistantStore extends MemorySessionStore {
  roundTrips = 0;
  constructor() {
    super();
    // Over the network nothing is answered at once: hide the memory store's isEndedNow.
    Object.defineProperty(this, "isEndedNow", { value: undefined });
  }
  async areEnded(sessions: SessionIdentity[]): Promise<boolean[]> {
    this.roundTrips++;
    const answers = await Promise.all(sessions.map((session) => super.isEnded(session)));
    await sleep(20);
    return answers;
  }
}

describe("requests that arrive together", () => {
  it("share one store lookup, and none gets an answer from before it came", async () => {
    const store = new DistantStore();
    const ended = createEndedSessions(store, { now: Date.now });

    const first = ended.isEnded(identity("one"));
    // Another replica ends session "one" while the first lookup is on its way back.
    await store.markEnded("one", Date.now() + 60_000);
    const later = ["one", "two", "three"].flatMap((sid) => [1, 2, 3].map(() => ended.isEnded(identity(sid))));

    expect(await first).toBe(false);
    expect(await Promise.all(later)).toEqual([true, true, true, false, false, false, false, false, false]);
    expect(store.roundTrips).toBe(2);

    // With no lookup in flight, a request asks at once.
    expect(await ended.isEnded(identity("two"))).toBe(false);
    expect(store.roundTrips).toBe(3);
  });

  it("a store in this process is asked directly: each answer as of its own question", async () => {
    const store = new MemorySessionStore();
    const ended = createEndedSessions(store, { now: Date.now });
    const before = ended.isEnded(identity("one"));
    // Another app sharing the store ends "one" (the memory store records it at once).
    void store.markEnded("one", Date.now() + 60_000);
    const after = ended.isEnded(identity("one"));
    expect([await before, await after, await ended.isEnded(identity("two"))]).toEqual([false, true, false]);
  });
});
