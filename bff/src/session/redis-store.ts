/**
 * The session store in Redis: the only module that imports `redis`. Several
 * BFF processes pointed at one Redis agree on which sessions ended and on who
 * refreshes a session's tokens (see store.ts); a restarted BFF still knows.
 *
 * Every key expires by itself (PX / PXAT), so Redis never grows with old sessions.
 */
import { createClient, type RedisClientType } from "redis";

import type { SessionIdentity, SessionStore } from "./store.ts";

// Deletes the lock only if we still hold it: after a lock expired, another process may own it.
const RELEASE_IF_OWNER = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;

export interface RedisSessionStoreOptions {
  /** e.g. redis://localhost:6379 */
  url: string;
  /** Prefix of every key, so several apps can share one Redis. Default "bff:". */
  prefix?: string;
  /**
   * Called when, after a reconnection, Redis turns out to have lost its data (it
   * restarted without persistence, or was flushed): the logouts recorded before are
   * forgotten, so a logged-out cookie could work again. Say so loudly.
   */
  onDataLoss?: () => void;
}

/** What Redis keeps on disk: an append-only file, RDB snapshots, nothing, or it will not say. */
export type RedisPersistence = "aof" | "rdb" | "none" | "unknown";

export class RedisSessionStore implements SessionStore {
  readonly #client: RedisClientType;
  readonly #prefix: string;

  private constructor(client: RedisClientType, prefix: string) {
    this.#client = client;
    this.#prefix = prefix;
  }

  /**
   * Connects, or rejects when Redis cannot be reached, so a server fails at
   * start rather than at its first request.
   *
   * @example
   * const store = await RedisSessionStore.connect({ url: "redis://localhost:6379" });
   * const bff = createBff(config, { store });
   */
  static async connect(options: RedisSessionStoreOptions): Promise<RedisSessionStore> {
    const client = createClient({
      url: options.url,
      // Fail a command at once while disconnected, instead of queueing requests behind an outage.
      disableOfflineQueue: true,
      // A Redis that hangs with the connection open would queue every request's command
      // (each abandoned at its deadline, store-deadline.ts): past this many, fail at once.
      commandsQueueMaxLength: 1_000,
      socket: { connectTimeout: 2_000, reconnectStrategy: (retries) => Math.min(retries * 100, 2_000) },
    }) as RedisClientType;
    // Without a listener, a connection error would crash the process; the next command reports it.
    client.on("error", () => {});
    await client.connect();
    const store = new RedisSessionStore(client, options.prefix ?? "bff:");
    await store.#watchForDataLoss(options.onDataLoss);
    return store;
  }

  /**
   * Whether Redis keeps its data across a restart. Ended sessions live only here: a Redis
   * that keeps nothing forgets every logout when it restarts (docs/operations.md). A managed
   * Redis may refuse CONFIG; then "unknown" unless INFO shows the append-only file.
   */
  async persistence(): Promise<RedisPersistence> {
    const info = await this.#client.info("persistence");
    if (/^aof_enabled:1\s*$/m.test(info)) return "aof";
    try {
      const config = await this.#client.configGet("save");
      return (config.save ?? "").trim() === "" ? "none" : "rdb";
    } catch {
      return "unknown";
    }
  }

  /**
   * Whether Redis may evict keys under memory pressure: with a memory limit and any policy
   * but `noeviction`, a full Redis deletes records of ended sessions (they all carry a TTL, so
   * the volatile-* policies pick them too), and a logged-out cookie works again. "unknown"
   * when CONFIG is refused.
   */
  async mayEvict(): Promise<boolean | "unknown"> {
    try {
      const config = await this.#client.configGet(["maxmemory", "maxmemory-policy"]);
      return Number(config.maxmemory ?? 0) > 0 && config["maxmemory-policy"] !== "noeviction";
    } catch {
      return "unknown";
    }
  }

  /**
   * A marker key that never expires: present after every reconnection unless Redis lost
   * its data in between. Detecting the loss cannot bring the forgotten logouts back, but an
   * operator must hear of it (and fix the persistence) rather than find out from an incident.
   */
  async #watchForDataLoss(onDataLoss: (() => void) | undefined) {
    const marker = `${this.#prefix}store-marker`;
    await this.#client.set(marker, "1", { condition: "NX" });
    this.#client.on("ready", () => {
      void (async () => {
        const created = await this.#client.set(marker, "1", { condition: "NX" });
        if (created === "OK") onDataLoss?.();
      })().catch(() => {});
    });
  }

  async markEnded(sid: string, until: number): Promise<void> {
    await this.#client.set(`${this.#prefix}ended:${sid}`, "1", {
      expiration: { type: "PXAT", value: Math.ceil(until) },
    });
  }

  async markIdpSessionEnded(idpSid: string, until: number): Promise<void> {
    await this.#client.set(`${this.#prefix}idp-ended:${idpSid}`, "1", {
      expiration: { type: "PXAT", value: Math.ceil(until) },
    });
  }

  async markSubjectEnded(sub: string, at: number, until: number): Promise<void> {
    // A later logout moves the line forward; never back.
    const key = `${this.#prefix}subject-ended:${sub}`;
    const earlier = Number((await this.#client.get(key)) ?? 0);
    await this.#client.set(key, String(Math.max(at, earlier)), {
      expiration: { type: "PXAT", value: Math.ceil(until) },
    });
  }

  async isEnded(session: SessionIdentity): Promise<boolean> {
    const [ended] = await this.areEnded([session]);
    return ended === true;
  }

  async areEnded(sessions: SessionIdentity[]): Promise<boolean[]> {
    // One round trip for every way each session can have been ended.
    const keys = sessions.flatMap((session) => [
      `${this.#prefix}ended:${session.sid}`,
      `${this.#prefix}idp-ended:${session.idpSid ?? "-"}`,
      `${this.#prefix}subject-ended:${session.sub}`,
    ]);
    const values = await this.#client.mGet(keys);
    return sessions.map((session, i) => {
      const [ended, idpEnded, subjectEndedAt] = values.slice(i * 3, i * 3 + 3);
      if (ended !== null || (session.idpSid !== undefined && idpEnded !== null)) return true;
      return (
        subjectEndedAt !== null && subjectEndedAt !== undefined && session.createdAt < Number(subjectEndedAt)
      );
    });
  }

  async claimTokenId(jti: string, until: number): Promise<boolean> {
    const answer = await this.#client.set(`${this.#prefix}token-id:${jti}`, "1", {
      condition: "NX",
      expiration: { type: "PXAT", value: Math.ceil(until) },
    });
    return answer === "OK";
  }

  async beginRefresh(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const answer = await this.#client.set(`${this.#prefix}refresh-lock:${key}`, owner, {
      condition: "NX",
      expiration: { type: "PX", value: ttlMs },
    });
    return answer === "OK";
  }

  async finishRefresh(key: string, owner: string, outcome: string, ttlMs: number): Promise<void> {
    // The outcome first: a waiter that sees the lock gone must find it.
    await this.#client.set(`${this.#prefix}refresh-outcome:${key}`, outcome, {
      expiration: { type: "PX", value: ttlMs },
    });
    await this.abandonRefresh(key, owner);
  }

  async abandonRefresh(key: string, owner: string): Promise<void> {
    await this.#client.eval(RELEASE_IF_OWNER, {
      keys: [`${this.#prefix}refresh-lock:${key}`],
      arguments: [owner],
    });
  }

  async refreshOutcome(key: string): Promise<string | undefined> {
    return (await this.#client.get(`${this.#prefix}refresh-outcome:${key}`)) ?? undefined;
  }

  async close(): Promise<void> {
    if (this.#client.isOpen) await this.#client.close();
  }
}

/**
 * What the BFF says at start about the Redis it was given. Ended sessions live in
 * Redis only: a Redis that keeps nothing on disk forgets every logout when it
 * restarts, and one that may evict keys forgets some when it is full; either way a
 * copy of a logged-out cookie works again. In production a Redis without
 * persistence is refused unless `allowWithoutPersistence`
 * (BFF_DANGEROUSLY_ALLOW_REDIS_WITHOUT_PERSISTENCE); everything else is a warning.
 */
export async function checkRedisSafety(
  store: RedisSessionStore,
  options: { production: boolean; allowWithoutPersistence: boolean },
): Promise<{ warnings: string[]; refusal?: string }> {
  const warnings: string[] = [];
  if ((await store.mayEvict()) === true) {
    warnings.push(
      "Redis at BFF_REDIS_URL has a memory limit and may evict keys (maxmemory-policy is not noeviction): an evicted record of an ended session lets a logged-out cookie work again. Set maxmemory-policy noeviction (docs/operations.md).",
    );
  }
  const persistence = await store.persistence();
  if (persistence === "aof" || persistence === "rdb") return { warnings };
  const what =
    persistence === "none"
      ? "keeps nothing on disk (no append-only file, no RDB snapshots)"
      : "does not say whether it keeps its data on disk (CONFIG is refused)";
  const message = `Redis at BFF_REDIS_URL ${what}: after a Redis restart every logout would be forgotten and a logged-out cookie would work again. Run it with appendonly yes (docs/operations.md).`;
  if (persistence === "none" && options.production && !options.allowWithoutPersistence) {
    return {
      warnings,
      refusal: `${message} To start anyway, set BFF_DANGEROUSLY_ALLOW_REDIS_WITHOUT_PERSISTENCE=true.`,
    };
  }
  warnings.push(message);
  return { warnings };
}
