/**
 * What a BFF session holds, and the rules about its lifetime. The whole
 * session lives in the sealed cookie (no server-side state besides the list of
 * ended sessions), so every rule here is enforced from data inside the seal,
 * never from the cookie's `Max-Age` alone: a browser (or an attacker replaying
 * a captured cookie) can keep a cookie as long as it likes.
 */

/** The tokens the BFF holds for one person. None of them ever leaves the BFF. */
export interface SessionTokens {
  /** The access token sent to the API (with our IdP: an RFC 9068 JWT, `aud` = the API). */
  accessToken: string;
  /** Milliseconds since the epoch. */
  accessTokenExpiresAt: number;
  /** Scopes granted to `accessToken` (RFC 6749 §5.1 `scope`). */
  scopes: string[];
  /** Absent when the provider issued none: then the session ends when the access token does. */
  refreshToken?: string;
  /** The latest ID token: only used as `id_token_hint` at logout (OpenID Connect RP-Initiated Logout §2). */
  idToken: string;
}

export interface SessionData {
  /** Random id of this session: logout marks it ended, so a replayed copy of the cookie is refused. */
  sid: string;
  /** Incremented at every refresh, so the newest tokens can be told from older ones. */
  version: number;
  /** Login time, ms since the epoch: the absolute lifetime counts from here. */
  createdAt: number;
  /** Last request seen, ms since the epoch (updated at most every few minutes): the idle timeout counts from here. */
  lastSeenAt: number;
  tokens: SessionTokens;
  /** The person: the ID token's `sub`, the same for every token of this session. */
  sub: string;
  /** The IdP's session (the ID token's `sid`), when it sent one: back-channel logout may name it. */
  idpSid?: string;
  /**
   * Claims from the UserInfo endpoint (its `sub` checked against the ID token's,
   * OpenID Connect Core §5.3.2), only those the ID token does not already say:
   * the session is carried in cookies, so nothing is kept twice.
   */
  userinfo: Record<string, unknown>;
}

export interface SessionLifetimes {
  absoluteSeconds: number;
  idleSeconds: number;
}

/** Re-seal the cookie to record activity only when `lastSeenAt` is older than this. */
export const TOUCH_INTERVAL_MS = 5 * 60 * 1000;

/** When the session ends at the latest, whatever the activity: ms since the epoch. */
export function absoluteExpiry(session: SessionData, lifetimes: SessionLifetimes): number {
  return session.createdAt + lifetimes.absoluteSeconds * 1000;
}

/** Whether the session is still within both its absolute lifetime and its idle timeout. */
export function isWithinLifetime(session: SessionData, lifetimes: SessionLifetimes, now: number): boolean {
  return now < absoluteExpiry(session, lifetimes) && now < session.lastSeenAt + lifetimes.idleSeconds * 1000;
}

/** A structural check of unsealed data: a seal from an older format is treated as no session. */
export function isSessionData(value: unknown): value is SessionData {
  if (typeof value !== "object" || value === null) return false;
  const s = value as Partial<SessionData>;
  const t = s.tokens as Partial<SessionTokens> | undefined;
  return (
    typeof s.sid === "string" &&
    typeof s.version === "number" &&
    typeof s.createdAt === "number" &&
    typeof s.lastSeenAt === "number" &&
    typeof s.sub === "string" &&
    (s.idpSid === undefined || typeof s.idpSid === "string") &&
    typeof s.userinfo === "object" &&
    s.userinfo !== null &&
    typeof t === "object" &&
    t !== null &&
    typeof t.accessToken === "string" &&
    typeof t.accessTokenExpiresAt === "number" &&
    Array.isArray(t.scopes) &&
    typeof t.idToken === "string" &&
    (t.refreshToken === undefined || typeof t.refreshToken === "string")
  );
}

/**
 * The claims of the session's ID token. It was validated (signature, issuer,
 * audience, nonce) when the BFF received it and has been inside the seal since,
 * so reading its payload again is safe, and cheaper than keeping the claims twice.
 */
export function idTokenClaims(session: SessionData): Record<string, unknown> {
  // Decoded once per ID token: the session of a cookie is read on every request, and its
  // token does not change until a refresh brings a new one.
  let claims = decodedIdTokens.get(session.tokens);
  if (claims === undefined) {
    claims = jwtPayload(session.tokens.idToken);
    decodedIdTokens.set(session.tokens, claims);
  }
  return claims;
}
const decodedIdTokens = new WeakMap<SessionTokens, Record<string, unknown>>();

/** The payload of a JWT the BFF validated before. Never use it on a token from elsewhere. */
export function jwtPayload(jwt: string): Record<string, unknown> {
  const payload = jwt.split(".")[1] ?? "";
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    return typeof claims === "object" && claims !== null ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The userinfo claims worth keeping: those the ID token does not carry with the same value. */
export function userinfoBeyond(userinfo: Record<string, unknown>, claims: Record<string, unknown>) {
  return Object.fromEntries(
    Object.entries(userinfo).filter(
      ([name, value]) => JSON.stringify(claims[name]) !== JSON.stringify(value),
    ),
  );
}
