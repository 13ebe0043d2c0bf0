import type { Context } from "hono";

import {
  clearCookie,
  cookieSize,
  MAX_COOKIE_BYTES,
  readCookie,
  SESSION_COOKIE,
  writeCookie,
} from "./cookies.ts";
import { absoluteExpiry, isSessionData, type SessionData, type SessionLifetimes } from "./data.ts";
import type { Sealer } from "./seal.ts";

export type SessionCookieRead =
  | { state: "absent" }
  /** Present but unusable: tampered, garbage, sealed with a removed secret, or an older format. */
  | { state: "unreadable"; reason: string }
  | { state: "present"; session: SessionData };

/** Thrown when a session does not fit in one cookie (splitting it is future work). */
export class SessionTooLargeError extends Error {
  override name = "SessionTooLargeError";
  readonly bytes: number;

  constructor(bytes: number) {
    super(
      `the sealed session is ${bytes} bytes, over the ${MAX_COOKIE_BYTES}-byte cookie limit: ` +
        "the provider's tokens are too large to keep in one cookie",
    );
    this.bytes = bytes;
  }
}

export interface SessionCookie {
  read(c: Context): Promise<SessionCookieRead>;
  /** Seals the session into `__Host-bff-session`. Throws SessionTooLargeError rather than set a cookie browsers drop. */
  write(c: Context, session: SessionData): Promise<void>;
  clear(c: Context): void;
  /** The sealed size of a session in bytes (name=value), for tests and diagnostics. */
  measure(session: SessionData): Promise<number>;
}

/**
 * The session cookie: `SameSite=Strict` (docs/decisions/003) — the SPA's own
 * `fetch` calls are same-site, and no request started by another site, not even
 * a top-level link, carries the session.
 */
export function createSessionCookie(
  sealer: Sealer,
  lifetimes: SessionLifetimes,
  now: () => number,
): SessionCookie {
  const remainingSeconds = (session: SessionData) => (absoluteExpiry(session, lifetimes) - now()) / 1000;

  const sealSession = (session: SessionData) =>
    // The seal expires with the session's absolute lifetime too: a second, independent limit.
    sealer.seal("session", session, Math.max(1, remainingSeconds(session)));

  return {
    async read(c) {
      const raw = readCookie(c, SESSION_COOKIE);
      if (raw === undefined || raw === "") return { state: "absent" };
      const unsealed = await sealer.unseal<unknown>("session", raw);
      if (!unsealed.ok) return { state: "unreadable", reason: unsealed.reason };
      if (!isSessionData(unsealed.value)) return { state: "unreadable", reason: "unknown format" };
      return { state: "present", session: unsealed.value };
    },

    async write(c, session) {
      const sealed = await sealSession(session);
      const bytes = cookieSize(SESSION_COOKIE, sealed);
      if (bytes > MAX_COOKIE_BYTES) throw new SessionTooLargeError(bytes);
      writeCookie(c, SESSION_COOKIE, sealed, "Strict", remainingSeconds(session));
    },

    clear(c) {
      clearCookie(c, SESSION_COOKIE, "Strict");
    },

    async measure(session) {
      return cookieSize(SESSION_COOKIE, await sealSession(session));
    },
  };
}
