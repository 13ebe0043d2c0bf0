import {
  type CookieJar,
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

/**
 * A sealed session larger than one cookie is split over several
 * (docs/decisions/007): `__Host-bff-session` holds "<count>~<first part>", and
 * `__Host-bff-session-1` … the rest. Three cookies hold ~12 KB, more than
 * any provider's tokens need, and keep the request's Cookie header under the
 * 16 KB most servers (Node's included) accept for all headers together.
 */
export const MAX_SESSION_CHUNKS = 3;
const chunkName = (name: string, index: number) => (index === 0 ? name : `${name}-${index}`);
// Room for the name, "=", the "<count>~" prefix, and a margin.
const chunkChars = (name: string) => MAX_COOKIE_BYTES - `${name}-9=9~`.length - 16;

/** Thrown when a session does not fit even in MAX_SESSION_CHUNKS cookies. */
export class SessionTooLargeError extends Error {
  override name = "SessionTooLargeError";
  readonly bytes: number;

  constructor(bytes: number) {
    super(
      `the sealed session is ${bytes} bytes, more than ${MAX_SESSION_CHUNKS} cookies can hold: ` +
        "the provider's tokens are too large to keep in cookies",
    );
    this.bytes = bytes;
  }
}

export interface SessionCookie {
  read(jar: CookieJar): Promise<SessionCookieRead>;
  /** Seals the session into one cookie, or several when it is large. */
  write(jar: CookieJar, session: SessionData): Promise<void>;
  clear(jar: CookieJar): void;
  /** The bytes the browser sends back for a session: every `name=value` of its cookies. */
  measure(session: SessionData): Promise<number>;
}

/** Splits a sealed value into cookie values; sealed values are ASCII, so characters are bytes. */
export function splitSealed(sealed: string, name: string = SESSION_COOKIE): string[] {
  if (cookieSize(name, sealed) <= MAX_COOKIE_BYTES) return [sealed];
  const parts: string[] = [];
  const size = chunkChars(name);
  for (let start = 0; start < sealed.length; start += size) parts.push(sealed.slice(start, start + size));
  if (parts.length > MAX_SESSION_CHUNKS) throw new SessionTooLargeError(sealed.length);
  return parts.map((part, index) => (index === 0 ? `${parts.length}~${part}` : part));
}

/** Whether any of the session's cookie names appears more than once in the request. */
function sentMoreThanOnce(jar: CookieJar, sessionCookie: string): boolean {
  return jar.repeatedNames().some((name) => name === sessionCookie || name.startsWith(`${sessionCookie}-`));
}

/** Joins the request's session cookies back into the sealed value, or undefined when parts are missing. */
function joinSealed(jar: CookieJar, name: string): string | undefined {
  const first = readCookie(jar, name);
  if (first === undefined || first === "") return undefined;
  // Two cookies of one name mean someone planted one (a sibling host, a parent Domain): rather
  // than guess which is ours, treat the request as having no readable session.
  if (sentMoreThanOnce(jar, name)) return "";
  const split = /^(\d)~(.*)$/s.exec(first);
  if (!split) return first;
  const count = Number(split[1]);
  if (count < 2 || count > MAX_SESSION_CHUNKS) return "";
  let sealed = split[2] ?? "";
  for (let index = 1; index < count; index++) {
    const part = readCookie(jar, chunkName(name, index));
    if (part === undefined) return "";
    sealed += part;
  }
  return sealed;
}

/**
 * The session cookie: `SameSite=Strict` (docs/decisions/003) — the SPA's own
 * `fetch` calls are same-site, and no request started by another site, not even
 * a top-level link, carries the session.
 */
/**
 * Unsealing (AES-256-CBC + HMAC, with key derivation) costs more than a whole
 * proxy hop, and a browser sends the same sealed value with every request
 * until the session changes. So the last few thousand unsealed sessions are
 * kept, matched on the exact sealed text. Nothing here can go stale: a sealed
 * value always unseals to the same data, an entry is dropped when its seal
 * would expire, and whether a session was ended (logout, back-channel) is
 * checked in the store on every request, never cached.
 */
const UNSEALED_CACHE_SIZE = 5_000;

export function createSessionCookie(
  sealer: Sealer,
  lifetimes: SessionLifetimes,
  now: () => number,
  name: string = SESSION_COOKIE,
): SessionCookie {
  // Keyed by the seal's last characters (its MAC), and matched on the whole text: hashing
  // 3 KB on every request cost more than the rest of the lookup.
  const unsealed = new Map<string, { sealed: string; session: SessionData; until: number }>();
  const keyOf = (sealed: string) => sealed.slice(-48);

  /** The session of a seal unsealed before, if it is still kept. */
  function alreadyUnsealed(sealed: string): SessionData | undefined {
    const key = keyOf(sealed);
    const cached = unsealed.get(key);
    if (cached === undefined || cached.sealed !== sealed || cached.until <= now()) return undefined;
    // Re-insert: a Map iterates in insertion order, so the least recently used entry goes first.
    unsealed.delete(key);
    unsealed.set(key, cached);
    return cached.session;
  }

  /** Unseals under way: parallel requests with a cookie not seen before share one (and get one session object). */
  const unsealing = new Map<string, { sealed: string; read: Promise<SessionCookieRead> }>();

  function unsealSession(sealed: string): Promise<SessionCookieRead> | SessionCookieRead {
    const cached = alreadyUnsealed(sealed);
    if (cached !== undefined) return { state: "present", session: cached };
    const key = keyOf(sealed);
    const pending = unsealing.get(key);
    if (pending !== undefined && pending.sealed === sealed) return pending.read;
    const read = unsealNow(sealed);
    const entry = { sealed, read };
    unsealing.set(key, entry);
    const done = () => {
      if (unsealing.get(key) === entry) unsealing.delete(key);
    };
    read.then(done, done);
    return read;
  }

  async function unsealNow(sealed: string): Promise<SessionCookieRead> {
    const result = await sealer.unseal<unknown>("session", sealed);
    if (!result.ok) return { state: "unreadable", reason: result.reason };
    if (!isSessionData(result.value)) return { state: "unreadable", reason: "unknown format" };
    remember(sealed, result.value);
    return { state: "present", session: result.value };
  }

  function remember(sealed: string, session: SessionData) {
    const key = keyOf(sealed);
    unsealed.delete(key);
    unsealed.set(key, { sealed, session, until: absoluteExpiry(session, lifetimes) });
    if (unsealed.size > UNSEALED_CACHE_SIZE) unsealed.delete(unsealed.keys().next().value as string);
  }

  const remainingSeconds = (session: SessionData) => (absoluteExpiry(session, lifetimes) - now()) / 1000;

  const sealSession = (session: SessionData) =>
    // The seal expires with the session's absolute lifetime too: a second, independent limit.
    sealer.seal("session", session, Math.max(1, remainingSeconds(session)));

  /**
   * Each session object is sealed once: the requests that write the same one (parallel calls
   * that share one touch, sessions.ts) send the same cookie. What this process sealed it knows
   * the content of, so the browser's next request with it needs no unsealing either.
   */
  const sealing = new WeakMap<SessionData, Promise<string>>();
  function sealOnce(session: SessionData): Promise<string> {
    let sealed = sealing.get(session);
    if (sealed === undefined) {
      sealed = sealSession(session).then((text) => {
        remember(text, session);
        return text;
      });
      sealed.catch(() => sealing.delete(session));
      sealing.set(session, sealed);
    }
    return sealed;
  }

  /** Deletes the chunk cookies from `from` on that this request carried. */
  const clearChunksFrom = (jar: CookieJar, from: number) => {
    for (let index = Math.max(1, from); index <= MAX_SESSION_CHUNKS; index++) {
      if (jar.get(chunkName(name, index)) !== undefined) clearCookie(jar, chunkName(name, index), "Strict");
    }
  };

  return {
    async read(jar) {
      // The common case, first: the browser sent, as it is, a one-cookie seal unsealed here
      // before. A seal is made of characters a cookie value may hold and that need no decoding,
      // so reading the cookie the long way (joinSealed) would give this same text; skipping it
      // skips checking 3 KB of characters on every request.
      const sent = jar.firstSent(name);
      const known = sent === undefined ? undefined : alreadyUnsealed(sent);
      if (known !== undefined && !sentMoreThanOnce(jar, name)) return { state: "present", session: known };
      const sealed = joinSealed(jar, name);
      if (sealed === undefined) return { state: "absent" };
      if (sealed === "") return { state: "unreadable", reason: "missing parts" };
      return unsealSession(sealed);
    },

    async write(jar, session) {
      const parts = splitSealed(await sealOnce(session), name);
      const maxAge = remainingSeconds(session);
      parts.forEach((part, index) => {
        writeCookie(jar, chunkName(name, index), part, "Strict", maxAge);
      });
      clearChunksFrom(jar, parts.length);
    },

    clear(jar) {
      clearCookie(jar, name, "Strict");
      clearChunksFrom(jar, 1);
    },

    async measure(session) {
      const parts = splitSealed(await sealSession(session), name);
      return parts.reduce((sum, part, index) => sum + cookieSize(chunkName(name, index), part), 0);
    },
  };
}
