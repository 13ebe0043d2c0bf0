import { createHash, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";

import { BffError } from "../errors.ts";
import type { SessionData, SessionTokens } from "./data.ts";
import type { Sealer } from "./seal.ts";
import type { SessionStore } from "./store.ts";

/**
 * Refresh-token rotation is strict at our IdP: each refresh token works once,
 * and presenting a spent one revokes the whole grant (RFC 9700 §4.14.2). A page
 * that fires fifty API calls with an expiring access token, spread over several
 * BFF processes, must therefore cause one refresh, not fifty. And a failure in
 * the middle of a refresh — the store goes away, this process dies, the IdP
 * hangs — must not make us, or another process, present a token the IdP may
 * already have spent. The rules:
 *
 * 1. Single flight in this process: while a refresh with refresh token R runs,
 *    every other request here holding R waits for that same promise.
 * 2. Single flight across processes: a lock (a lease) in the shared store,
 *    keyed by R, lets one process refresh; the others wait for its outcome.
 * 3. A deadline shorter than the lease: the call to the IdP is abandoned after
 *    REFRESH_DEADLINE_MS, well inside LOCK_TTL_MS, so no other process can take
 *    the lease over while our request may still be on its way.
 * 4. Once the IdP has answered, its tokens are used, whatever happens to the
 *    store: the outcome is kept in this process first, written to the store when
 *    the store can take it (retried until it has, within its memory), and the
 *    caller gets the tokens either way. The cookie is the session.
 * 5. An attempt whose fate is unknown (deadline passed, connection lost after
 *    the request went out, a 5xx) keeps its lease until the lease runs out: a
 *    retry comes only after that, and the IdP's refresh-token grace period (see
 *    docs/decisions/014) answers it instead of revoking the grant. An attempt
 *    that never reached the IdP (connection refused) releases the lease at once.
 * 6. Short memory: the outcome stays for `rememberMs`, so a request that still
 *    carries the old cookie (sent before the browser stored the new one) gets
 *    the new tokens instead of replaying R.
 *
 * The key is a SHA-256 of R and the session's version (see keyOf) and the
 * outcome is sealed, so the store never holds a usable token.
 */
export interface RefreshResult {
  tokens: SessionTokens;
  /** The session's version after the refresh (the old version + 1): an older cookie never wins. */
  version: number;
}

/** Performs the refresh at the IdP; `signal` aborts it at the deadline. */
export type DoRefresh = (
  refreshToken: string,
  signal: AbortSignal,
) => Promise<Omit<RefreshResult, "version">>;

/** How a caller got tokens it did not refresh itself: "joined" a refresh in flight here, or took a "stored" outcome. */
export type SharedRefresh = "joined" | "stored";

export interface Refresher {
  /**
   * Refreshes `session`'s tokens, sharing the work with every concurrent caller holding the same
   * refresh token. `onShared` hears when this caller used someone else's refresh (the flow inspector).
   */
  refresh(
    session: SessionData,
    doRefresh: DoRefresh,
    onShared?: (how: SharedRefresh) => void,
  ): Promise<RefreshResult>;
  /**
   * The newer tokens that replaced this session's, if a refresh already
   * happened (within the outcome's memory). Used before re-sealing an old
   * cookie for another reason, so that it never brings spent tokens back.
   */
  newer(session: SessionData): Promise<RefreshResult | undefined>;
}

/**
 * Two minutes rather than a few seconds: the browser stores the new cookie only
 * when it receives the response that carries it, and a fetch aborted by a
 * navigation never does. Until this passes, the old cookie still gets the new tokens.
 */
export const REMEMBER_REFRESH_MS = 120_000;
/** How long one refresh may hold the lock (its lease). A process that dies holding it blocks others this long. */
export const LOCK_TTL_MS = 10_000;
/** The IdP's answer normally takes milliseconds; past this the attempt is abandoned (and its fate unknown). */
export const REFRESH_DEADLINE_MS = 5_000;
/** Longest a request waits for another process's refresh: past a lease, so a dead holder's lease can be taken over. */
const WAIT_LIMIT_MS = LOCK_TTL_MS + 2_000;
const POLL_INTERVAL_MS = 20;
/** How often outcomes the store could not take are offered to it again. */
const OUTBOX_RETRY_MS = 500;
/** Outcomes kept in this process at most (oldest first out); each is a sealed token set of a few KiB. */
const MAX_RECENT = 10_000;

type Outcome = { ok: true; result: RefreshResult } | { ok: false; message: string };

/**
 * The refresh's key: the token and the session version it belongs to. With rotation each token
 * belongs to one version anyway; a provider that never rotates (Google, Entra) keeps one token
 * for every version, and without the version the next refresh would find the last one's outcome.
 */
const keyOf = (refreshToken: string, version: number) =>
  createHash("sha256").update(`${version}:${refreshToken}`).digest("base64url");

export interface RefresherOptions {
  store: SessionStore;
  sealer: Sealer;
  /**
   * Whether a failed refresh certainly never reached the IdP (the connection was refused), so the
   * same token may be sent again at once. Anything else that fails without an answer — a deadline,
   * a connection lost mid-way, a 5xx — may have spent the token. Default: nothing is certain.
   */
  neverReachedIdp?: (error: unknown) => boolean;
  /** Hears about store writes that failed and were kept for later (the log). */
  onStoreError?: (error: unknown) => void;
  rememberMs?: number;
  deadlineMs?: number;
}

export function createRefresher(options: RefresherOptions): Refresher {
  const { store, sealer } = options;
  const rememberMs = options.rememberMs ?? REMEMBER_REFRESH_MS;
  const deadlineMs = Math.min(options.deadlineMs ?? REFRESH_DEADLINE_MS, LOCK_TTL_MS / 2);
  const neverReachedIdp = options.neverReachedIdp ?? (() => false);
  const inFlight = new Map<string, Promise<RefreshResult>>();
  const owner = randomUUID();

  /**
   * Outcomes this process produced, for `rememberMs`: read before the store (a request that
   * comes back here needs no round trip) and, while `written` is false, offered to the store
   * again until it takes them. Bounded by the number of sessions refreshed in two minutes.
   */
  const recent = new Map<string, { sealed: string; until: number; written: boolean }>();
  let outboxTimer: NodeJS.Timeout | undefined;

  const seal = (outcome: Outcome) => sealer.seal("refresh-outcome", outcome, rememberMs / 1000 + 5);

  function recentOutcome(key: string): string | undefined {
    const entry = recent.get(key);
    if (entry === undefined) return undefined;
    if (entry.until > Date.now()) return entry.sealed;
    recent.delete(key);
    return undefined;
  }

  /** Keeps the outcome here, then writes it to the store; a store failure is retried later, never thrown. */
  async function record(key: string, outcome: Outcome): Promise<void> {
    const sealed = await seal(outcome);
    const entry = { sealed, until: Date.now() + rememberMs, written: false };
    pruneRecent();
    recent.set(key, entry);
    try {
      await store.finishRefresh(key, owner, sealed, rememberMs);
      entry.written = true;
    } catch (error) {
      options.onStoreError?.(error);
      scheduleOutbox();
    }
  }

  /** Entries are added in time order with one lifetime: the expired ones are at the front. */
  function pruneRecent() {
    for (const [key, entry] of recent) {
      if (entry.until > Date.now() && recent.size < MAX_RECENT) break;
      recent.delete(key);
    }
  }

  function scheduleOutbox() {
    if (outboxTimer !== undefined) return;
    outboxTimer = setTimeout(flushOutbox, OUTBOX_RETRY_MS);
    // A pending write never keeps the process alive on shutdown.
    outboxTimer.unref();
  }

  async function flushOutbox() {
    outboxTimer = undefined;
    let pending = false;
    for (const [key, entry] of recent) {
      const left = entry.until - Date.now();
      if (left <= 0) {
        recent.delete(key);
        continue;
      }
      if (entry.written) continue;
      try {
        await store.finishRefresh(key, owner, entry.sealed, left);
        entry.written = true;
      } catch {
        pending = true;
      }
    }
    if (pending) scheduleOutbox();
  }

  async function open(sealed: string): Promise<RefreshResult> {
    const unsealed = await sealer.unseal<Outcome>("refresh-outcome", sealed);
    if (!unsealed.ok)
      throw new BffError("session_store_unavailable", "A stored refresh outcome cannot be read.");
    if (!unsealed.value.ok) throw new BffError("session_expired", unsealed.value.message);
    return unsealed.value.result;
  }

  async function findOutcome(key: string): Promise<string | undefined> {
    return recentOutcome(key) ?? (await store.refreshOutcome(key));
  }

  /** Calls the IdP under the lease, with the deadline; records what it answered. */
  async function refreshUnderLease(
    session: SessionData,
    refreshToken: string,
    key: string,
    doRefresh: DoRefresh,
  ): Promise<RefreshResult> {
    let answer: Omit<RefreshResult, "version">;
    // A controller and a timer of our own rather than AbortSignal.timeout(): that signal may be
    // garbage-collected while only a derived signal is still referenced, and then it never fires.
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new DOMException("The refresh passed its deadline.", "TimeoutError")),
      deadlineMs,
    );
    try {
      answer = await doRefresh(refreshToken, deadline.signal);
    } catch (error) {
      if (error instanceof BffError && error.code === "session_expired") {
        // The grant is gone: every holder of this refresh token must hear it, not retry it.
        await record(key, { ok: false, message: error.message });
      } else if (neverReachedIdp(error)) {
        // The token was never sent: the next request may try again at once.
        await store.abandonRefresh(key, owner).catch(() => {});
      }
      // Otherwise the IdP may have spent the token: the lease stays until it runs out (rule 5).
      throw error;
    } finally {
      clearTimeout(timer);
    }
    const result: RefreshResult = { ...answer, version: session.version + 1 };
    await record(key, { ok: true, result });
    return result;
  }

  async function shared(session: SessionData, refreshToken: string, key: string, doRefresh: DoRefresh) {
    const waitUntil = performance.now() + WAIT_LIMIT_MS;
    for (;;) {
      const stored = await findOutcome(key);
      if (stored !== undefined) return open(stored);

      if (await store.beginRefresh(key, owner, LOCK_TTL_MS)) {
        // Another process may have finished between our read and our lock.
        const late = await store.refreshOutcome(key);
        if (late !== undefined) {
          await store.abandonRefresh(key, owner);
          return open(late);
        }
        return refreshUnderLease(session, refreshToken, key, doRefresh);
      }

      if (performance.now() > waitUntil) {
        throw new BffError("idp_unavailable", "A token refresh under way elsewhere did not finish in time.");
      }
      await sleep(POLL_INTERVAL_MS);
    }
  }

  return {
    async newer(session) {
      const refreshToken = session.tokens.refreshToken;
      if (refreshToken === undefined) return undefined;
      const stored = await findOutcome(keyOf(refreshToken, session.version));
      if (stored === undefined) return undefined;
      const unsealed = await sealer.unseal<Outcome>("refresh-outcome", stored);
      if (!unsealed.ok || !unsealed.value.ok) return undefined;
      return unsealed.value.result.version > session.version ? unsealed.value.result : undefined;
    },

    refresh(session, doRefresh, onShared) {
      const refreshToken = session.tokens.refreshToken;
      if (refreshToken === undefined) throw new Error("refresh called on a session without a refresh token");
      const key = keyOf(refreshToken, session.version);
      const running = inFlight.get(key);
      if (running) {
        onShared?.("joined");
        return running;
      }
      let refreshedHere = false;
      const started = shared(session, refreshToken, key, (token, signal) => {
        refreshedHere = true;
        return doRefresh(token, signal);
      })
        .catch((error: unknown) => {
          if (error instanceof BffError) throw error;
          // The store itself failed (Redis down) before anything was sent: say so, keep the session.
          throw new BffError("session_store_unavailable", "The session store cannot be reached.", {
            cause: error,
          });
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, started);
      if (!onShared) return started;
      // An outcome this call did not produce came from the store: another process, or an earlier request.
      return started.then((result) => {
        if (!refreshedHere) onShared("stored");
        return result;
      });
    },
  };
}
