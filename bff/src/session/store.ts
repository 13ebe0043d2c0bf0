/**
 * The little server-side state a cookie session needs, shared by every BFF
 * process that serves the same users.
 *
 * 1. Ended sessions. The session lives in the sealed cookie; what a cookie
 *    cannot do is *stop* being valid before it expires. Logout records the
 *    session id as ended, and every request checks it: a captured copy of the
 *    cookie, replayed after logout, is refused.
 * 2. Refreshes under way, and their results for a short while (see
 *    refresh.ts). With strict refresh-token rotation, two processes that
 *    refresh the same session at once would replay a spent token and get the
 *    whole grant revoked; the store lets exactly one of them refresh and the
 *    others pick up its result.
 *
 * `MemorySessionStore` holds this for one process; `RedisSessionStore`
 * (redis-store.ts) for several processes and across restarts. Values are
 * opaque strings: the refresher seals them, so no store ever holds a token in clear.
 */
/** What the store needs to know about a session to tell whether it was ended. */
export interface SessionIdentity {
  /** The BFF's own session id. */
  sid: string;
  /** The IdP's session id (the ID token's `sid`), when it sent one. */
  idpSid?: string | undefined;
  /** The person. */
  sub: string;
  /** Login time, ms since the epoch. */
  createdAt: number;
}

export interface SessionStore {
  /** Records that session `sid` has ended. `until` (ms since the epoch) is when its cookie expires anyway. */
  markEnded(sid: string, until: number): Promise<void>;
  /** Back-channel logout by IdP session: every BFF session that came from IdP session `idpSid` has ended. */
  markIdpSessionEnded(idpSid: string, until: number): Promise<void>;
  /** Back-channel logout by person: every session of `sub` that began before `at` has ended. */
  markSubjectEnded(sub: string, at: number, until: number): Promise<void>;
  /** Whether any of the above applies to this session. */
  isEnded(session: SessionIdentity): Promise<boolean>;
  /**
   * `isEnded` for several sessions at once, in order. Optional: a store over the network
   * answers many in one round trip (the BFF asks for the requests that arrived together).
   */
  areEnded?(sessions: SessionIdentity[]): Promise<boolean[]>;
  /**
   * `isEnded`, answered at once. Optional: a store in this process's memory has nothing to
   * wait for, so the BFF asks it directly instead of batching requests (ended-sessions.ts).
   * When present it is asked instead of `isEnded`, and must give the same answer.
   */
  isEndedNow?(session: SessionIdentity): boolean;
  /** Records a logout token's `jti`; false when it was seen before (a replay). */
  claimTokenId(jti: string, until: number): Promise<boolean>;

  /** Takes the refresh lock for `key` for `ttlMs` unless someone holds it. True when taken. */
  beginRefresh(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Stores the outcome of a refresh for `ttlMs` and releases the lock. */
  finishRefresh(key: string, owner: string, outcome: string, ttlMs: number): Promise<void>;
  /** Releases the lock without an outcome (the refresh failed in a way that may be retried). */
  abandonRefresh(key: string, owner: string): Promise<void>;
  /** The stored outcome of a finished refresh, if it is still kept. */
  refreshOutcome(key: string): Promise<string | undefined>;
}

/**
 * The default store: Maps in this process. Entries are dropped once they
 * expire. Share one instance between several `createBff` apps in one process,
 * or keep it across a restart of the app, and they see the same state.
 *
 * @example
 * const store = new MemorySessionStore();
 * const bff = createBff(config, { store });
 */
export class MemorySessionStore implements SessionStore {
  /** "bff:<sid>" or "idp:<sid>" → until. */
  readonly #ended = new Map<string, number>();
  readonly #subjects = new Map<string, { at: number; until: number }>();
  readonly #tokenIds = new Map<string, number>();
  readonly #locks = new Map<string, { owner: string; until: number }>();
  readonly #outcomes = new Map<string, { outcome: string; until: number }>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async markEnded(sid: string, until: number): Promise<void> {
    this.#prune();
    this.#ended.set(`bff:${sid}`, until);
  }

  async markIdpSessionEnded(idpSid: string, until: number): Promise<void> {
    this.#prune();
    this.#ended.set(`idp:${idpSid}`, until);
  }

  async markSubjectEnded(sub: string, at: number, until: number): Promise<void> {
    this.#prune();
    const earlier = this.#subjects.get(sub);
    this.#subjects.set(sub, {
      at: Math.max(at, earlier?.at ?? 0),
      until: Math.max(until, earlier?.until ?? 0),
    });
  }

  async isEnded(session: SessionIdentity): Promise<boolean> {
    return this.#isEnded(session);
  }

  isEndedNow(session: SessionIdentity): boolean {
    return this.#isEnded(session);
  }

  #isEnded(session: SessionIdentity): boolean {
    const now = this.#now();
    const live = (until: number | undefined) => until !== undefined && until > now;
    if (live(this.#ended.get(`bff:${session.sid}`))) return true;
    if (session.idpSid !== undefined && live(this.#ended.get(`idp:${session.idpSid}`))) return true;
    const subject = this.#subjects.get(session.sub);
    return subject !== undefined && live(subject.until) && session.createdAt < subject.at;
  }

  async claimTokenId(jti: string, until: number): Promise<boolean> {
    this.#prune();
    if (this.#tokenIds.has(jti)) return false;
    this.#tokenIds.set(jti, until);
    return true;
  }

  async beginRefresh(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const lock = this.#locks.get(key);
    if (lock && lock.until > this.#now()) return false;
    this.#locks.set(key, { owner, until: this.#now() + ttlMs });
    return true;
  }

  async finishRefresh(key: string, owner: string, outcome: string, ttlMs: number): Promise<void> {
    this.#prune();
    this.#outcomes.set(key, { outcome, until: this.#now() + ttlMs });
    await this.abandonRefresh(key, owner);
  }

  async abandonRefresh(key: string, owner: string): Promise<void> {
    if (this.#locks.get(key)?.owner === owner) this.#locks.delete(key);
  }

  async refreshOutcome(key: string): Promise<string | undefined> {
    const entry = this.#outcomes.get(key);
    return entry && entry.until > this.#now() ? entry.outcome : undefined;
  }

  #prune() {
    const now = this.#now();
    for (const [key, until] of this.#ended) if (until <= now) this.#ended.delete(key);
    for (const [sub, entry] of this.#subjects) if (entry.until <= now) this.#subjects.delete(sub);
    for (const [jti, until] of this.#tokenIds) if (until <= now) this.#tokenIds.delete(jti);
    for (const [key, entry] of this.#outcomes) if (entry.until <= now) this.#outcomes.delete(key);
    for (const [key, lock] of this.#locks) if (lock.until <= now) this.#locks.delete(key);
  }
}

/** `areEnded` when the store has it, otherwise one `isEnded` per session. */
export function askEnded(store: SessionStore, sessions: SessionIdentity[]): Promise<boolean[]> {
  return store.areEnded
    ? store.areEnded(sessions)
    : Promise.all(sessions.map((session) => store.isEnded(session)));
}
