/**
 * The session store in a SQLite file (node:sqlite, built into Node 24): what
 * one BFF on one machine needs so that a logout is still honoured after a
 * restart, without running Redis. Several BFF processes on the same machine
 * may share the file; across machines use RedisSessionStore.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";

import type { SessionIdentity, SessionStore } from "./store.ts";

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS ended (key TEXT PRIMARY KEY, until INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS ended_subjects (sub TEXT PRIMARY KEY, at INTEGER NOT NULL, until INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS token_ids (jti TEXT PRIMARY KEY, until INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS refresh_locks (key TEXT PRIMARY KEY, owner TEXT NOT NULL, until INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS refresh_outcomes (key TEXT PRIMARY KEY, outcome TEXT NOT NULL, until INTEGER NOT NULL);
`;

export class SqliteSessionStore implements SessionStore {
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  /** Statements are compiled once: `isEnded` runs on every request. */
  readonly #statements = new Map<string, StatementSync>();

  /** `path`: a file (created with its directory), or ":memory:". */
  constructor(path: string, options: { now?: () => number } = {}) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    // WAL lets readers and one writer work at once; busy_timeout makes a second process wait, not fail.
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 2000;");
    this.#db.exec(SCHEMA);
    this.#now = options.now ?? Date.now;
  }

  async markEnded(sid: string, until: number): Promise<void> {
    this.#put("ended", `bff:${sid}`, until);
  }

  async markIdpSessionEnded(idpSid: string, until: number): Promise<void> {
    this.#put("ended", `idp:${idpSid}`, until);
  }

  async markSubjectEnded(sub: string, at: number, until: number): Promise<void> {
    this.#prune();
    this.#sql(
      `INSERT INTO ended_subjects (sub, at, until) VALUES (?, ?, ?)
         ON CONFLICT (sub) DO UPDATE SET at = max(at, excluded.at), until = max(until, excluded.until)`,
    ).run(sub, at, until);
  }

  async isEnded(session: SessionIdentity): Promise<boolean> {
    const now = this.#now();
    // One statement for every way a session can have been ended (NULL matches no key).
    const row = this.#sql(
      `SELECT EXISTS (SELECT 1 FROM ended WHERE key IN (?, ?) AND until > ?)
           OR EXISTS (SELECT 1 FROM ended_subjects WHERE sub = ? AND until > ? AND at > ?) AS ended`,
    ).get(
      `bff:${session.sid}`,
      session.idpSid === undefined ? null : `idp:${session.idpSid}`,
      now,
      session.sub,
      now,
      session.createdAt,
    ) as { ended: number };
    return row.ended === 1;
  }

  async claimTokenId(jti: string, until: number): Promise<boolean> {
    this.#prune();
    const result = this.#sql("INSERT OR IGNORE INTO token_ids (jti, until) VALUES (?, ?)").run(jti, until);
    return result.changes === 1;
  }

  async beginRefresh(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = this.#now();
    // Take the lock if nobody holds it, or if its holder's time ran out.
    const result = this.#sql(
      `INSERT INTO refresh_locks (key, owner, until) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, until = excluded.until WHERE refresh_locks.until <= ?`,
    ).run(key, owner, now + ttlMs, now);
    return result.changes === 1;
  }

  async finishRefresh(key: string, owner: string, outcome: string, ttlMs: number): Promise<void> {
    this.#sql("INSERT OR REPLACE INTO refresh_outcomes (key, outcome, until) VALUES (?, ?, ?)").run(
      key,
      outcome,
      this.#now() + ttlMs,
    );
    await this.abandonRefresh(key, owner);
  }

  async abandonRefresh(key: string, owner: string): Promise<void> {
    this.#sql("DELETE FROM refresh_locks WHERE key = ? AND owner = ?").run(key, owner);
  }

  async refreshOutcome(key: string): Promise<string | undefined> {
    const row = this.#sql("SELECT outcome FROM refresh_outcomes WHERE key = ? AND until > ?").get(
      key,
      this.#now(),
    ) as { outcome: string } | undefined;
    return row?.outcome;
  }

  close(): void {
    this.#db.close();
  }

  #sql(text: string): StatementSync {
    let statement = this.#statements.get(text);
    if (!statement) {
      statement = this.#db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  #put(table: "ended", key: string, until: number) {
    this.#prune();
    this.#sql(`INSERT OR REPLACE INTO ${table} (key, until) VALUES (?, ?)`).run(key, until);
  }

  /** Drops what has expired; cheap enough to do on every write. */
  #prune() {
    const now = this.#now();
    for (const table of ["ended", "ended_subjects", "token_ids", "refresh_locks", "refresh_outcomes"]) {
      this.#sql(`DELETE FROM ${table} WHERE until <= ?`).run(now);
    }
  }
}
