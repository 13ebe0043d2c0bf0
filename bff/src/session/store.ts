/**
 * The little server-side state a cookie session needs. The session itself
 * lives in the sealed cookie; what a cookie cannot do is *stop* being valid
 * before it expires. So logout records the session id here as ended, and every
 * request checks it: a captured copy of the cookie, replayed after logout, is
 * refused.
 *
 * An implementation shared by several BFF processes (Redis) makes that hold
 * across processes and restarts; the in-memory default holds for one process.
 */
export interface SessionStore {
  /** Records that session `sid` has ended. `until` (ms since the epoch) is when its cookie expires anyway. */
  markEnded(sid: string, until: number): Promise<void>;
  isEnded(sid: string): Promise<boolean>;
}

/**
 * The default store: a Map in this process. Entries are dropped once the
 * session they name could no longer be used anyway.
 *
 * @example
 * const store = new MemorySessionStore();
 * const bff = createBff(config, { store });
 */
export class MemorySessionStore implements SessionStore {
  readonly #ended = new Map<string, number>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async markEnded(sid: string, until: number): Promise<void> {
    this.#prune();
    this.#ended.set(sid, until);
  }

  async isEnded(sid: string): Promise<boolean> {
    const until = this.#ended.get(sid);
    return until !== undefined && until > this.#now();
  }

  #prune() {
    const now = this.#now();
    for (const [sid, until] of this.#ended) if (until <= now) this.#ended.delete(sid);
  }
}
