import { createHash } from "node:crypto";

import type { SessionData, SessionTokens } from "./data.ts";

/**
 * Refresh-token rotation is strict at our IdP: each refresh token works once,
 * and presenting a spent one revokes the whole grant (RFC 9700 §4.14.2). A page
 * that fires ten API calls with an expiring access token must therefore cause
 * one refresh, not ten. Two rules make that true within one BFF process:
 *
 * 1. Single flight: while a refresh with refresh token R is under way, every
 *    other request holding R waits for that same refresh.
 * 2. Short memory: for `rememberMs` afterwards the result stays available under
 *    a key derived from R, so a request that still carries the old cookie
 *    (sent before the browser stored the new one) gets the new tokens instead
 *    of replaying R.
 *
 * The key is a SHA-256 of R, so this map never holds a usable refresh token.
 */
export interface RefreshResult {
  tokens: SessionTokens;
  /** The session's version after the refresh (the old version + 1). */
  version: number;
  /** Present when the refresh brought a new ID token. */
  idTokenClaims?: Record<string, unknown>;
}

export interface Refresher {
  /** Refreshes `session`'s tokens, sharing the work with every concurrent caller holding the same refresh token. */
  refresh(
    session: SessionData,
    doRefresh: (refreshToken: string) => Promise<Omit<RefreshResult, "version">>,
  ): Promise<RefreshResult>;
}

export const REMEMBER_REFRESH_MS = 30_000;

const keyOf = (refreshToken: string) => createHash("sha256").update(refreshToken).digest("base64url");

export function createRefresher(now: () => number, rememberMs = REMEMBER_REFRESH_MS): Refresher {
  const inFlight = new Map<string, Promise<RefreshResult>>();
  const recent = new Map<string, { result: RefreshResult; until: number }>();

  const forgetOld = () => {
    const time = now();
    for (const [key, entry] of recent) if (entry.until <= time) recent.delete(key);
  };

  return {
    refresh(session, doRefresh) {
      const refreshToken = session.tokens.refreshToken;
      if (refreshToken === undefined) throw new Error("refresh called on a session without a refresh token");
      const key = keyOf(refreshToken);

      const remembered = recent.get(key);
      if (remembered && remembered.until > now()) return Promise.resolve(remembered.result);
      const running = inFlight.get(key);
      if (running) return running;

      const started = (async () => {
        try {
          const refreshed = await doRefresh(refreshToken);
          const result: RefreshResult = { ...refreshed, version: session.version + 1 };
          forgetOld();
          recent.set(key, { result, until: now() + rememberMs });
          return result;
        } finally {
          inFlight.delete(key);
        }
      })();
      inFlight.set(key, started);
      return started;
    },
  };
}
