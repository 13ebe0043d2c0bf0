/**
 * Why this cookie exists: the last steps of a session — logout, revocation of
 * the refresh token, the end-session redirect, the IdP's back-channel logout —
 * are recorded after the session cookie is deleted, so the Inspector page,
 * which reads the log through that cookie, could never show them. While the
 * flow inspector is on (development only), `POST /bff/logout` therefore also
 * sets `__Host-bff-inspector`: a sealed, HttpOnly cookie that names the ended
 * session's log for 15 minutes, and `GET /bff/inspector` falls back to it when
 * there is no live session.
 *
 * It grants nothing but reading that one log: no route other than the
 * inspector's GET reads it, it cannot be forged or altered (sealed, with a
 * purpose of its own, so no other seal of the BFF passes for it), and it names
 * only the session this browser itself logged out of. With the inspector off,
 * it is never set and never read.
 */
import type { Context } from "hono";

import { clearCookie, cookieJar, INSPECTOR_COOKIE, readCookie, writeCookie } from "../session/cookies.ts";
import type { Sealer } from "../session/seal.ts";

/** Long enough to look at a logout and the back-channel call that follows; short enough to be forgotten. */
export const ENDED_LOG_TTL_SECONDS = 15 * 60;

interface EndedLogPass {
  /** The ended session's id (the key of its log). */
  sid: string;
  /** ms since the epoch, on the BFF's clock. */
  expiresAt: number;
}

export interface EndedLogCookie {
  /** Lets this browser read the log of session `sid`, which it has just logged out of. */
  grant(c: Context, sid: string): Promise<void>;
  /** The ended session whose log this browser may read, or undefined (none, expired, tampered). */
  read(c: Context): Promise<string | undefined>;
  /** A new login in this browser: the previous person's ended log is no longer this browser's to read. */
  forget(c: Context): void;
}

export function createEndedLogCookie(sealer: Sealer, now: () => number): EndedLogCookie {
  return {
    async grant(c, sid) {
      const pass: EndedLogPass = { sid, expiresAt: now() + ENDED_LOG_TTL_SECONDS * 1000 };
      const sealed = await sealer.seal("ended-flow-log", pass, ENDED_LOG_TTL_SECONDS);
      // Strict, like the session cookie: only the SPA's own same-origin fetch ever needs it.
      writeCookie(cookieJar(c), INSPECTOR_COOKIE, sealed, "Strict", ENDED_LOG_TTL_SECONDS);
    },

    async read(c) {
      const sealed = readCookie(cookieJar(c), INSPECTOR_COOKIE);
      if (!sealed) return undefined;
      const unsealed = await sealer.unseal<Partial<EndedLogPass>>("ended-flow-log", sealed);
      if (!unsealed.ok) return undefined;
      const { sid, expiresAt } = unsealed.value;
      if (typeof sid !== "string" || typeof expiresAt !== "number" || now() >= expiresAt) return undefined;
      return sid;
    },

    forget(c) {
      // Called by /bff/callback, the end of the IdP's cross-site redirect: browsers leave this
      // Strict cookie out of that request, so whether it was sent says nothing. Clear it always.
      clearCookie(cookieJar(c), INSPECTOR_COOKIE, "Strict");
    },
  };
}
