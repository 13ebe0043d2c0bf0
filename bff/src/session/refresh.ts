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
 * BFF processes, must therefore cause one refresh, not fifty. Three rules:
 *
 * 1. Single flight in this process: while a refresh with refresh token R runs,
 *    every other request here holding R waits for that same promise.
 * 2. Single flight across processes: a lock in the shared store, keyed by R,
 *    lets one process refresh; the others wait for its outcome.
 * 3. Short memory: the outcome stays in the store for `rememberMs`, so a
 *    request that still carries the old cookie (sent before the browser stored
 *    the new one) gets the new tokens instead of replaying R.
 *
 * The key is a SHA-256 of R and the session's version (see keyOf) and the
 * outcome is sealed, so the store never holds a usable token.
 */
export interface RefreshResult {
  tokens: SessionTokens;
  /** The session's version after the refresh (the old version + 1): an older cookie never wins. */
  version: number;
}

export type DoRefresh = (refreshToken: string) => Promise<Omit<RefreshResult, "version">>;

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
/** Longest a refresh may hold the lock: the IdP's answer normally takes milliseconds. */
const LOCK_TTL_MS = 10_000;
/** Longest a request waits for another process's refresh before giving up with a 503. */
const WAIT_LIMIT_MS = 12_000;
const POLL_INTERVAL_MS = 20;

type Outcome = { ok: true; result: RefreshResult } | { ok: false; message: string };

/**
 * The refresh's key: the token and the session version it belongs to. With rotation each token
 * belongs to one version anyway; a provider that never rotates (Google, Entra) keeps one token
 * for every version, and without the version the next refresh would find the last one's outcome.
 */
const keyOf = (refreshToken: string, version: number) =>
  createHash("sha256").update(`${version}:${refreshToken}`).digest("base64url");

export function createRefresher(options: {
  store: SessionStore;
  sealer: Sealer;
  rememberMs?: number;
}): Refresher {
  const { store, sealer } = options;
  const rememberMs = options.rememberMs ?? REMEMBER_REFRESH_MS;
  const inFlight = new Map<string, Promise<RefreshResult>>();
  const owner = randomUUID();

  const seal = (outcome: Outcome) => sealer.seal("refresh-outcome", outcome, rememberMs / 1000 + 5);

  async function open(sealed: string): Promise<RefreshResult> {
    const unsealed = await sealer.unseal<Outcome>("refresh-outcome", sealed);
    if (!unsealed.ok)
      throw new BffError("session_store_unavailable", "A stored refresh outcome cannot be read.");
    if (!unsealed.value.ok) throw new BffError("session_expired", unsealed.value.message);
    return unsealed.value.result;
  }

  async function shared(session: SessionData, refreshToken: string, key: string, doRefresh: DoRefresh) {
    const waitUntil = performance.now() + WAIT_LIMIT_MS;
    for (;;) {
      const stored = await store.refreshOutcome(key);
      if (stored !== undefined) return open(stored);

      if (await store.beginRefresh(key, owner, LOCK_TTL_MS)) {
        // Another process may have finished between our read and our lock.
        const late = await store.refreshOutcome(key);
        if (late !== undefined) {
          await store.abandonRefresh(key, owner);
          return open(late);
        }
        try {
          const result: RefreshResult = { ...(await doRefresh(refreshToken)), version: session.version + 1 };
          await store.finishRefresh(key, owner, await seal({ ok: true, result }), rememberMs);
          return result;
        } catch (error) {
          if (error instanceof BffError && error.code === "session_expired") {
            // The grant is gone: every holder of this refresh token must hear it, not retry it.
            await store.finishRefresh(
              key,
              owner,
              await seal({ ok: false, message: error.message }),
              rememberMs,
            );
          } else {
            // The IdP is down or slow: let the next request try again.
            await store.abandonRefresh(key, owner);
          }
          throw error;
        }
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
      const stored = await store.refreshOutcome(keyOf(refreshToken, session.version));
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
      const started = shared(session, refreshToken, key, (token) => {
        refreshedHere = true;
        return doRefresh(token);
      })
        .catch((error: unknown) => {
          if (error instanceof BffError) throw error;
          // The store itself failed (Redis down): say so, keep the session.
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
