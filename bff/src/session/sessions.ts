import { randomBytes } from "node:crypto";

import { BffError } from "../errors.ts";
import { disabledFlowLog, type FlowLog } from "../inspector/flow-log.ts";
import { type BffLogger, describeError } from "../logger.ts";
import type { OidcClient, TokenSet } from "../oidc/client.ts";
import type { CookieJar } from "./cookies.ts";
import {
  absoluteExpiry,
  idTokenClaims,
  isWithinLifetime,
  type SessionData,
  type SessionLifetimes,
  type SessionTokens,
  TOUCH_INTERVAL_MS,
} from "./data.ts";
import type { EndedSessions } from "./ended-sessions.ts";
import type { Refresher } from "./refresh.ts";
import { type SessionCookie, SessionTooLargeError } from "./session-cookie.ts";

/**
 * The session of a request, from its sealed cookie to a usable access token:
 * every route goes through here, so the rules (ended sessions, lifetimes,
 * refresh) are written once.
 */
export interface Sessions {
  /** The request's live session, or undefined. A dead or unreadable cookie is deleted on the way. */
  current(jar: CookieJar): Promise<SessionData | undefined>;
  /**
   * The session the cookie holds, without asking whether it was ended: for a login, which ends
   * it anyway, and which must not fail because the store cannot be asked (docs/decisions/016).
   */
  toReplace(jar: CookieJar): Promise<SessionData | undefined>;
  /** Like `current`, but a missing session is a 401 problem (`not_authenticated` or `session_expired`). */
  require(jar: CookieJar): Promise<SessionData>;
  /**
   * The session with an access token that is valid for at least the refresh
   * leeway, refreshing it first when needed (single flight, see refresh.ts).
   */
  withFreshAccessToken(jar: CookieJar, session: SessionData): Promise<SessionData>;
  /** Creates the session cookie after a login. */
  start(
    jar: CookieJar,
    login: {
      tokens: SessionTokens;
      sub: string;
      idpSid?: string;
      userinfo: Record<string, unknown>;
    },
  ): Promise<SessionData>;
  /** Ends the session: recorded as ended in the store (so a replayed cookie is refused), cookie deleted. */
  end(jar: CookieJar, session: SessionData): Promise<void>;
  /** Ends a session this request has no cookie of (a login's `replaces`): recorded as ended. */
  endById(sid: string, until: number): Promise<void>;
  /** Writes the session as given. Only the test controls use it (routes/test-controls.ts). */
  overwrite(jar: CookieJar, session: SessionData): Promise<void>;
}

export interface SessionsOptions {
  cookie: SessionCookie;
  ended: EndedSessions;
  refresher: Refresher;
  oidc: OidcClient;
  lifetimes: SessionLifetimes;
  refreshLeewaySeconds: number;
  logger: BffLogger;
  now: () => number;
  /**
   * The configured issuer. A session whose ID token another issuer signed is no session here:
   * a `sub` is only unique per issuer, so after moving to another provider with the same
   * cookie secrets, an old cookie would name someone else. Default: not checked.
   */
  issuer?: string;
  /** Where refreshes are recorded for the flow inspector. Default: nowhere. */
  flow?: FlowLog;
}

/** Tokens to keep from a token response; a response without a new refresh token keeps the old one. */
export function sessionTokens(tokens: TokenSet, previous?: SessionTokens): SessionTokens {
  const idToken = tokens.idToken ?? previous?.idToken;
  if (idToken === undefined) throw new BffError("login_failed", "The identity provider sent no ID token.");
  const refreshToken = tokens.refreshToken ?? previous?.refreshToken;
  return {
    accessToken: tokens.accessToken,
    accessTokenExpiresAt: tokens.accessTokenExpiresAt,
    scopes: tokens.scopes.length > 0 ? tokens.scopes : (previous?.scopes ?? []),
    ...(refreshToken === undefined ? {} : { refreshToken }),
    idToken,
  };
}

/**
 * How long a request whose access token still works waits for its refresh before it is
 * served with the token it has: a refresh takes milliseconds when all is well, and a slow
 * or unreachable IdP must not slow down (or fail) requests that need nothing from it.
 */
const STILL_VALID_WAIT_MS = 1_000;
/** Refreshed sessions remembered for the requests that share them (their session objects are held until pushed out). */
const SHARED_WRITES_KEPT = 5_000;

/** The promise's value, or "still waiting" after `ms`; the promise goes on either way. */
async function withinBudget<T>(promise: Promise<T>, ms: number): Promise<T | "still waiting"> {
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<"still waiting">((resolve) => {
    timer = setTimeout(() => resolve("still waiting"), ms);
  });
  try {
    return await Promise.race([promise, budget]);
  } finally {
    clearTimeout(timer);
  }
}

/** Failures that pass: the session is kept and the person may try again shortly. */
const RETRYABLE = new Set<BffError["code"]>(["idp_unavailable", "session_store_unavailable"]);

export function createSessions(options: SessionsOptions): Sessions {
  const { refresher, oidc, lifetimes, logger, now } = options;
  const flow = options.flow ?? disabledFlowLog;
  const cookie = {
    ...options.cookie,
    /** Writes the session, turning "too large for cookies" into a readable refusal. */
    async write(jar: CookieJar, session: SessionData) {
      try {
        await options.cookie.write(jar, session);
      } catch (error) {
        if (!(error instanceof SessionTooLargeError)) throw error;
        throw new BffError(
          "login_failed",
          "The identity provider's tokens are too large to keep in cookies.",
          {
            cause: error,
          },
        );
      }
    },
  };
  // Said once a minute at most, with how many, so that an outage is seen in the log but does not flood it.
  let servedUnchecked = 0;
  let lastSaid = Number.NEGATIVE_INFINITY;
  const noteServedUnchecked = () => {
    servedUnchecked++;
    if (now() - lastSaid < 60_000) return;
    logger.warn(
      `session store unreachable: ${servedUnchecked} request(s) served on a valid access token without the ended-session check`,
    );
    servedUnchecked = 0;
    lastSaid = now();
  };
  const store = {
    /**
     * Whether the session was ended. With the store unreachable and no record here
     * (docs/decisions/016), a cookie whose access token still works is served: refusing it
     * would fail every signed-in person for the length of the outage, while what it could let
     * through is a copy of a cookie logged out on another replica, for no longer than its
     * access token works at the API anyway. A cookie that needs a refresh cannot be served
     * without the store (the refresh must stay single): 503, session kept.
     */
    async isEnded(session: SessionData): Promise<boolean> {
      const ended = await options.ended.isEnded(session);
      if (ended !== "unknown") return ended;
      if (session.tokens.accessTokenExpiresAt > now()) {
        noteServedUnchecked();
        return false;
      }
      throw new BffError("session_store_unavailable", "The session store cannot be reached.");
    },
    /** Recorded here at once and in the store as soon as it can take it (ended-sessions.ts). */
    markEnded: (sid: string, until: number) => options.ended.markEnded(sid, until),
  };

  /** Reads the cookie and checks what needs no store: "none", "ended" (by its lifetimes), or the session. */
  async function unseal(jar: CookieJar): Promise<SessionData | "none" | "ended"> {
    const read = await cookie.read(jar);
    if (read.state === "absent") return "none";
    if (read.state === "unreadable") {
      // Tampered, foreign, or sealed with a secret that was since removed: as if there were none.
      cookie.clear(jar);
      return "none";
    }
    const { session } = read;
    if (options.issuer !== undefined && idTokenClaims(session).iss !== options.issuer) {
      cookie.clear(jar);
      return "none";
    }
    if (!isWithinLifetime(session, lifetimes, now())) {
      cookie.clear(jar);
      return "ended";
    }
    return session;
  }

  /** Reads and checks the cookie: "none" (never had one), "ended" (had one that is over), or the session. */
  async function load(jar: CookieJar): Promise<SessionData | "none" | "ended"> {
    const session = await unseal(jar);
    if (typeof session === "string") return session;
    if (await store.isEnded(session)) {
      cookie.clear(jar);
      return "ended";
    }
    return session;
  }

  /** Records activity for the idle timeout, re-sealing the cookie at most every few minutes. */
  // Often enough that an active person never reaches a short idle timeout.
  const touchIntervalMs = Math.min(TOUCH_INTERVAL_MS, (lifetimes.idleSeconds * 1000) / 4);

  /**
   * The touch each stale session got: requests that carry the same stale cookie (parallel
   * calls, a client that ignores Set-Cookie) share it, and with it one seal (session-cookie.ts),
   * instead of sealing a new cookie each. Keyed by the unsealed session object, which is one
   * object per sealed text.
   */
  const touches = new WeakMap<SessionData, SessionData>();
  /**
   * The same for refreshes: by session id and the version the refresh made, the stale session
   * it was applied to and the session written. Requests that joined the refresh, and those that
   * came with the same cookie just after and took its outcome, write one cookie between them.
   */
  const refreshes = new Map<string, { from: SessionData; to: SessionData }>();

  async function touch(jar: CookieJar, session: SessionData): Promise<SessionData> {
    if (now() - session.lastSeenAt < touchIntervalMs) return session;
    // This cookie may predate a refresh made by a parallel request. Re-sealing it as it is
    // would hand the browser spent tokens again, overwriting the newer cookie: adopt the newer ones.
    let newer: Awaited<ReturnType<Refresher["newer"]>>;
    try {
      newer = await refresher.newer(session);
    } catch {
      // The store cannot say whether a newer cookie exists: re-sealing this one could hand the
      // browser spent tokens again. The touch waits for a request that finds the store back.
      return session;
    }
    const earlier = touches.get(session);
    const touched =
      earlier !== undefined &&
      earlier.version === (newer?.version ?? session.version) &&
      earlier.tokens.accessToken === (newer?.tokens ?? session.tokens).accessToken &&
      now() - earlier.lastSeenAt < touchIntervalMs
        ? earlier
        : {
            ...session,
            ...(newer ? { version: newer.version, tokens: newer.tokens } : {}),
            lastSeenAt: now(),
          };
    touches.set(session, touched);
    await cookie.write(jar, touched);
    return touched;
  }

  return {
    async current(jar) {
      const loaded = await load(jar);
      return typeof loaded === "string" ? undefined : touch(jar, loaded);
    },

    async toReplace(jar) {
      const session = await unseal(jar);
      return typeof session === "string" ? undefined : session;
    },

    async require(jar) {
      const loaded = await load(jar);
      if (loaded === "none") throw new BffError("not_authenticated", "You are not logged in.");
      if (loaded === "ended")
        throw new BffError("session_expired", "Your session has ended. Please log in again.");
      return touch(jar, loaded);
    },

    async withFreshAccessToken(jar, session) {
      const validFor = session.tokens.accessTokenExpiresAt - now();
      if (validFor > options.refreshLeewaySeconds * 1000) return session;
      if (session.tokens.refreshToken === undefined) {
        if (validFor > 0) return session;
        cookie.clear(jar);
        throw new BffError("session_expired", "Your session has ended. Please log in again.");
      }

      const refreshing = refresher.refresh(
        session,
        async (refreshToken, signal) => {
          flow.record(session.sid, (steps) => steps.refreshRequest(refreshToken, "expiring"));
          const tokens = await oidc.refresh(refreshToken, session.sub, { signal });
          flow.record(session.sid, (steps) => steps.refreshResponse(tokens));
          // One line per token request: with single flight, one per session and expiry, whatever the load.
          logger.info(`session ${session.sid.slice(0, 8)}: tokens refreshed`);
          return { tokens: sessionTokens(tokens, session.tokens) };
        },
        (how) => flow.record(session.sid, (steps) => steps.refreshShared(how)),
      );
      // If this request stops waiting, a later failure is heard by whoever asks next, not here.
      refreshing.catch(() => {});

      let result: Awaited<typeof refreshing> | "still waiting";
      try {
        // Refreshing early is a courtesy while the token still works: the request never waits
        // long for it, nor fails because of it. The refresh goes on; a later request takes its outcome.
        result = validFor > 0 ? await withinBudget(refreshing, STILL_VALID_WAIT_MS) : await refreshing;
      } catch (error) {
        if (error instanceof BffError && RETRYABLE.has(error.code)) {
          flow.record(session.sid, (steps) => steps.refreshFailed(error, false));
          // The IdP or the store is down for now: the session stays. With a token that still
          // works the request is served; without one, the answer is a 503 with Retry-After.
          if (validFor > 0) return session;
          throw error;
        }
        // Refused (invalid_grant), or an answer that failed validation: the refresh token may be
        // spent, and trying it again would make the IdP revoke the grant. The session is over.
        logger.info(`session ${session.sid.slice(0, 8)} ended: refresh failed (${describeError(error)})`);
        flow.record(session.sid, (steps) => steps.refreshFailed(error, true));
        await store.markEnded(session.sid, absoluteExpiry(session, lifetimes));
        cookie.clear(jar);
        throw new BffError("session_expired", "Your session has ended. Please log in again.", {
          cause: error,
        });
      }
      if (result === "still waiting") return session;

      // Never go back: a session already newer than this result (another request stored it) wins.
      if (result.version <= session.version) return session;
      // The requests that shared this refresh send one new cookie (one seal), as with a touch.
      const key = `${session.sid}:${result.version}`;
      const earlier = refreshes.get(key);
      const refreshed: SessionData =
        earlier?.from === session && now() - earlier.to.lastSeenAt < touchIntervalMs
          ? earlier.to
          : { ...session, version: result.version, tokens: result.tokens, lastSeenAt: now() };
      refreshes.delete(key);
      refreshes.set(key, { from: session, to: refreshed });
      if (refreshes.size > SHARED_WRITES_KEPT) refreshes.delete(refreshes.keys().next().value as string);
      await cookie.write(jar, refreshed);
      return refreshed;
    },

    async start(jar, login) {
      const time = now();
      const session: SessionData = {
        sid: randomBytes(16).toString("base64url"),
        version: 1,
        createdAt: time,
        lastSeenAt: time,
        ...login,
      };
      await cookie.write(jar, session);
      return session;
    },

    async end(jar, session) {
      await store.markEnded(session.sid, absoluteExpiry(session, lifetimes));
      cookie.clear(jar);
    },

    async endById(sid, until) {
      await store.markEnded(sid, until);
    },

    async overwrite(jar, session) {
      await cookie.write(jar, session);
    },
  };
}
