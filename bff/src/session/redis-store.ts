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
}

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
      socket: { connectTimeout: 2_000, reconnectStrategy: (retries) => Math.min(retries * 100, 2_000) },
    }) as RedisClientType;
    // Without a listener, a connection error would crash the process; the next command reports it.
    client.on("error", () => {});
    await client.connect();
    return new RedisSessionStore(client, options.prefix ?? "bff:");
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
    // One round trip for every way a session can have been ended.
    const [ended, idpEnded, subjectEndedAt] = await this.#client.mGet([
      `${this.#prefix}ended:${session.sid}`,
      `${this.#prefix}idp-ended:${session.idpSid ?? "-"}`,
      `${this.#prefix}subject-ended:${session.sub}`,
    ]);
    if (ended !== null || (session.idpSid !== undefined && idpEnded !== null)) return true;
    return (
      subjectEndedAt !== null && subjectEndedAt !== undefined && session.createdAt < Number(subjectEndedAt)
    );
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
