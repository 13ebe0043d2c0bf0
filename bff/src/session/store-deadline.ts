import { askEnded, type SessionStore } from "./store.ts";

/**
 * A deadline on every call to the session store. A store that is down fails at once (the
 * connection is refused); a store that hangs (a stopped process, a full network buffer, a
 * failover in progress) would hold every request that asks it for as long as it hangs. Past the
 * deadline the call counts as failed, which the callers already handle as "the store cannot be
 * reached" (docs/decisions/016): a valid access token is served, an ended-session record waits
 * in the outbox, a refresh answers 503.
 *
 * A call abandoned at its deadline may still be carried out by the store later, exactly as a call
 * whose connection broke after it was sent; the refresh rules (refresh.ts) are written for that.
 */
export const STORE_DEADLINE_MS = 1_000;

export class StoreDeadlineExceeded extends Error {
  override name = "StoreDeadlineExceeded";
}

function withinDeadline<T>(call: () => Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new StoreDeadlineExceeded(`the session store did not answer ${what} within ${ms} ms`)),
      ms,
    );
    call().then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** The same store, every call bounded by `ms`. */
export function storeWithDeadline(store: SessionStore, ms = STORE_DEADLINE_MS): SessionStore {
  const bounded = <A extends unknown[], T>(what: string, call: (...args: A) => Promise<T>) => {
    return (...args: A) => withinDeadline(() => call(...args), ms, what);
  };
  return {
    markEnded: bounded("markEnded", (sid, until) => store.markEnded(sid, until)),
    markIdpSessionEnded: bounded("markIdpSessionEnded", (idpSid, until) =>
      store.markIdpSessionEnded(idpSid, until),
    ),
    markSubjectEnded: bounded("markSubjectEnded", (sub, at, until) => store.markSubjectEnded(sub, at, until)),
    isEnded: bounded("isEnded", (session) => store.isEnded(session)),
    areEnded: bounded("areEnded", (sessions) => askEnded(store, sessions)),
    // A call that answers at once has no wait to bound.
    ...(store.isEndedNow ? { isEndedNow: (session) => store.isEndedNow?.(session) === true } : {}),
    claimTokenId: bounded("claimTokenId", (jti, until) => store.claimTokenId(jti, until)),
    beginRefresh: bounded("beginRefresh", (key, owner, ttlMs) => store.beginRefresh(key, owner, ttlMs)),
    finishRefresh: bounded("finishRefresh", (key, owner, outcome, ttlMs) =>
      store.finishRefresh(key, owner, outcome, ttlMs),
    ),
    abandonRefresh: bounded("abandonRefresh", (key, owner) => store.abandonRefresh(key, owner)),
    refreshOutcome: bounded("refreshOutcome", (key) => store.refreshOutcome(key)),
  };
}
