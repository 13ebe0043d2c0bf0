import { setTimeout as sleep } from "node:timers/promises";

import { askEnded, type SessionIdentity, type SessionStore } from "./store.ts";

/**
 * The ended-session records (store.ts, point 1) as the routes write and read them.
 * Every record goes to the store, which every replica shares and which outlives a
 * restart, and to this process's own memory, so that a store outage forgets no logout:
 *
 * - a record the store cannot take now (Redis down) is kept in an outbox and written
 *   as soon as it can be, retried every half second;
 * - while the store cannot be asked, this process still knows what it ended itself.
 *
 * What a store outage can still let through, and why that is the trade: docs/decisions/016.
 */
export interface EndedSessions {
  /** Session `sid` ended (logout, refused refresh). `until`: when its cookie expires anyway. */
  markEnded(sid: string, until: number): Promise<Recorded>;
  /** Back-channel logout by IdP session. */
  markIdpSessionEnded(idpSid: string, until: number): Promise<Recorded>;
  /** Back-channel logout by person: every session of `sub` begun before `at`. */
  markSubjectEnded(sub: string, at: number, until: number): Promise<Recorded>;
  /**
   * Whether the session ended: true or false, or "unknown" when the store cannot be asked
   * and this process has no record of it.
   */
  isEnded(session: SessionIdentity): Promise<boolean | "unknown">;
  /** Records not yet in the store (for tests and operators). */
  pending(): number;
}

/** "stored": in the store now. "queued": in this process's memory and outbox, written to the store later. */
export type Recorded = "stored" | "queued";

/** How often the outbox tries the store again. */
const RETRY_INTERVAL_MS = 500;
/** Far more records than one process writes during an outage; past it the oldest are dropped. */
const MAX_QUEUED = 10_000;
/** Sessions asked about in one store lookup at most (three keys each, with Redis). */
const MAX_BATCH = 256;
/** What this process remembers of its own records; past it the oldest go (the store keeps them all). */
const MAX_REMEMBERED = 50_000;

/** The records this process wrote, by the same rules as the stores' (store.ts). */
class RememberedHere {
  /** "bff:<sid>" or "idp:<sid>" → until. */
  readonly #ended = new Map<string, number>();
  readonly #subjects = new Map<string, { at: number; until: number }>();

  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  add(key: string, until: number) {
    this.#ended.delete(key);
    this.#ended.set(key, until);
    if (this.#ended.size > MAX_REMEMBERED) this.#ended.delete(this.#ended.keys().next().value as string);
  }

  addSubject(sub: string, at: number, until: number) {
    const earlier = this.#subjects.get(sub);
    this.#subjects.delete(sub);
    this.#subjects.set(sub, {
      at: Math.max(at, earlier?.at ?? 0),
      until: Math.max(until, earlier?.until ?? 0),
    });
    if (this.#subjects.size > MAX_REMEMBERED)
      this.#subjects.delete(this.#subjects.keys().next().value as string);
  }

  has(session: SessionIdentity): boolean {
    const live = (until: number | undefined) => until !== undefined && until > this.#now();
    if (live(this.#ended.get(`bff:${session.sid}`))) return true;
    if (session.idpSid !== undefined && live(this.#ended.get(`idp:${session.idpSid}`))) return true;
    const subject = this.#subjects.get(session.sub);
    return subject !== undefined && live(subject.until) && session.createdAt < subject.at;
  }
}

interface Queued {
  write: (store: SessionStore) => Promise<void>;
  until: number;
}

export function createEndedSessions(
  store: SessionStore,
  options: {
    now: () => number;
    onStoreError?: (error: unknown) => void;
    /** A record dropped from a full outbox (it stays in this process's memory, not in the store). */
    onDropped?: (dropped: number) => void;
  },
): EndedSessions {
  const { now } = options;
  const here = new RememberedHere(now);
  const outbox: Queued[] = [];
  let draining = false;
  // Drops are reported once a minute at most, with how many since the last report.
  let dropped = 0;
  let lastDropSaid = Number.NEGATIVE_INFINITY;

  async function drain() {
    if (draining) return;
    draining = true;
    try {
      while (outbox.length > 0) {
        const next = outbox[0] as Queued;
        if (next.until <= now()) {
          outbox.shift();
          continue;
        }
        try {
          await next.write(store);
          outbox.shift();
        } catch {
          await sleep(RETRY_INTERVAL_MS);
        }
      }
    } finally {
      draining = false;
    }
  }

  /**
   * Requests that arrive together share one store lookup (with a shared store, one round trip
   * for all of them). Sharing must not make an answer older than the request: a lookup already
   * on its way left before this request came, and would miss a logout recorded since. So a
   * request that finds a lookup in flight waits for the next one, which leaves when the first is
   * back and asks for every request that came meanwhile.
   */
  let inFlight = false;
  const waiting: {
    session: SessionIdentity;
    answer: (ended: boolean) => void;
    fail: (error: unknown) => void;
  }[] = [];

  function lookUp(session: SessionIdentity): Promise<boolean> {
    return new Promise((answer, fail) => {
      waiting.push({ session, answer, fail });
      if (!inFlight) void send();
    });
  }

  async function send() {
    inFlight = true;
    while (waiting.length > 0) {
      const batch = waiting.splice(0, MAX_BATCH);
      try {
        const answers = await askEnded(
          store,
          batch.map((entry) => entry.session),
        );
        for (const [i, entry] of batch.entries()) {
          entry.answer(answers[i] === true);
        }
      } catch (error) {
        for (const entry of batch) entry.fail(error);
      }
    }
    inFlight = false;
  }

  async function record(write: (target: SessionStore) => Promise<void>, until: number): Promise<Recorded> {
    // Records queued earlier go first: the store never holds a newer record without the older ones.
    if (outbox.length === 0) {
      try {
        await write(store);
        return "stored";
      } catch (error) {
        options.onStoreError?.(error);
      }
    }
    outbox.push({ write, until });
    if (outbox.length > MAX_QUEUED) {
      outbox.shift();
      dropped++;
      if (now() - lastDropSaid >= 60_000) {
        options.onDropped?.(dropped);
        dropped = 0;
        lastDropSaid = now();
      }
    }
    void drain();
    return "queued";
  }

  return {
    markEnded(sid, until) {
      here.add(`bff:${sid}`, until);
      return record((target) => target.markEnded(sid, until), until);
    },
    markIdpSessionEnded(idpSid, until) {
      here.add(`idp:${idpSid}`, until);
      return record((target) => target.markIdpSessionEnded(idpSid, until), until);
    },
    markSubjectEnded(sub, at, until) {
      here.addSubject(sub, at, until);
      return record((target) => target.markSubjectEnded(sub, at, until), until);
    },
    async isEnded(session) {
      if (here.has(session)) return true;
      // A store in this process's memory answers at once: there is no round trip to share.
      if (store.isEndedNow) {
        try {
          return store.isEndedNow(session);
        } catch {
          return "unknown";
        }
      }
      try {
        return await lookUp(session);
      } catch {
        return "unknown";
      }
    },
    pending: () => outbox.length,
  };
}
