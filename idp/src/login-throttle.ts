/**
 * Counts failed attempts per key (a username, a client address) over a
 * sliding window. Past the limit, the caller refuses further attempts without
 * checking them, until the window has moved on. Shared by the login page, the
 * device flow's code entry page (RFC 8628 §5.1) and client authentication.
 */
export interface FailureWindow {
  /** Seconds to wait before trying again, or 0 when an attempt is allowed now. */
  waitSeconds(key: string): number;
  /** Failures within the window, counted up to the limit (no further: only that many are kept). */
  failures(key: string): number;
  recordFailure(key: string): void;
  forget(key: string): void;
}

export interface FailureWindowOptions {
  /** Failures allowed within the window, per key. */
  limit: number;
  windowMs: number;
  now?: () => number;
  /** Bounded memory whatever an attacker sends: past this many keys, the oldest are forgotten. */
  maxKeys?: number;
}

export const DEFAULT_MAX_KEYS = 100_000;

export function createFailureWindow(options: FailureWindowOptions): FailureWindow {
  const { limit, windowMs } = options;
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
  /** key → the latest failure times (ms), oldest first, at most `limit` of them. */
  const failures = new Map<string, number[]>();

  const recent = (key: string): number[] => {
    const since = now() - windowMs;
    const kept = (failures.get(key) ?? []).filter((time) => time > since);
    if (kept.length === 0) failures.delete(key);
    else failures.set(key, kept);
    return kept;
  };

  return {
    waitSeconds(key) {
      const times = recent(key);
      if (times.length < limit) return 0;
      const oldest = times[times.length - limit] ?? now();
      return Math.max(1, Math.ceil((oldest + windowMs - now()) / 1000));
    },
    failures(key) {
      return recent(key).length;
    },
    recordFailure(key) {
      // Only the last `limit` times decide anything; older ones are dropped, so a
      // key that is only ever delayed (never refused) cannot grow without end.
      const times = [...recent(key), now()].slice(-limit);
      failures.delete(key); // re-inserted last: the Map's order is the eviction order
      failures.set(key, times);
      while (failures.size > maxKeys) failures.delete(failures.keys().next().value as string);
    },
    forget(key) {
      failures.delete(key);
    },
  };
}

/**
 * A wait that grows with the failures: none for the first `free` ones, then
 * `baseMs`, doubling with each further failure, never more than `maxMs`.
 */
export interface GrowingDelay {
  free: number;
  baseMs: number;
  maxMs: number;
}

export function delayAfter(failures: number, { free, baseMs, maxMs }: GrowingDelay): number {
  if (failures < free) return 0;
  return Math.min(maxMs, baseMs * 2 ** Math.min(failures - free, 30));
}

/** How many failures a window must remember for the delay to reach its maximum. */
export function failuresToReachMax({ free, baseMs, maxMs }: GrowingDelay): number {
  return free + Math.max(0, Math.ceil(Math.log2(maxMs / baseMs))) + 1;
}

/**
 * Slows down password guessing on the login page without letting anyone lock
 * an account (NIST SP 800-63B §5.2.2; ADR 022). Three counts, over one window:
 *
 * - per account and address: an address that keeps getting one account's password
 *   wrong is refused (429) for that account, without the password being checked;
 * - per address: an address that gets many accounts wrong (password spraying) is
 *   refused for every account;
 * - per account, whatever the address: only a delay before the password is
 *   checked, growing with the failures and capped. It slows every guesser, on
 *   every address, but never refuses the right password from an address that
 *   has not failed, so nobody can lock the owner out by failing on purpose.
 *
 * Every count reads the same whether the username exists or not: a refusal or a
 * delay reveals nothing about which accounts exist.
 */
export interface LoginThrottle {
  /** Seconds until this address may try this username again, or 0 when it may now. */
  refusalSeconds(username: string, address: string): number;
  /** How long to wait before checking a password for this username (ms). */
  delayMs(username: string): number;
  recordFailure(username: string, address: string): void;
  recordSuccess(username: string, address: string): void;
}

// Why these numbers: five tries per account from one place covers typing
// mistakes and a forgotten password; twenty per address lets a shared address
// (an office behind NAT) make mistakes on several accounts; fifteen minutes is
// long enough to make guessing slow. Ten failures on one account (two
// addresses' worth) before it is slowed; then 1 s, doubling to 10 s at most,
// which an owner can sit through while an attack goes on.
export const LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS = 5;
export const LOGIN_FAILURES_PER_ADDRESS = 20;
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
export const LOGIN_ACCOUNT_DELAY: GrowingDelay = { free: 10, baseMs: 1000, maxMs: 10_000 };

/** Usernames are short; a longer one is cut, so that no key holds 16 KB of form. */
const MAX_USERNAME_KEY_LENGTH = 256;

export interface LoginThrottleOptions {
  perAccountAndAddress?: number;
  perAddress?: number;
  windowMs?: number;
  accountDelay?: GrowingDelay;
  maxKeys?: number;
  now?: () => number;
}

export function createLoginThrottle(options: LoginThrottleOptions = {}): LoginThrottle {
  const windowMs = options.windowMs ?? LOGIN_WINDOW_MS;
  const accountDelay = options.accountDelay ?? LOGIN_ACCOUNT_DELAY;
  const shared = {
    windowMs,
    ...(options.now ? { now: options.now } : {}),
    ...(options.maxKeys ? { maxKeys: options.maxKeys } : {}),
  };
  const byAccountAndAddress = createFailureWindow({
    limit: options.perAccountAndAddress ?? LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS,
    ...shared,
  });
  const byAddress = createFailureWindow({
    limit: options.perAddress ?? LOGIN_FAILURES_PER_ADDRESS,
    ...shared,
  });
  const byAccount = createFailureWindow({ limit: failuresToReachMax(accountDelay), ...shared });

  const account = (username: string) => username.trim().toLowerCase().slice(0, MAX_USERNAME_KEY_LENGTH);
  // An address never contains a space, so "<address> <account>" names one pair only.
  const pair = (username: string, address: string) => `${address} ${account(username)}`;

  return {
    refusalSeconds(username, address) {
      return Math.max(
        byAccountAndAddress.waitSeconds(pair(username, address)),
        byAddress.waitSeconds(address),
      );
    },
    delayMs(username) {
      return delayAfter(byAccount.failures(account(username)), accountDelay);
    },
    recordFailure(username, address) {
      byAccountAndAddress.recordFailure(pair(username, address));
      byAddress.recordFailure(address);
      byAccount.recordFailure(account(username));
    },
    recordSuccess(username, address) {
      // NIST SP 800-63B: after a successful authentication, earlier failures on the
      // account are disregarded. The address's count stays: a person with an
      // account of their own must not be able to wipe their spraying count.
      byAccountAndAddress.forget(pair(username, address));
      byAccount.forget(account(username));
    },
  };
}

/** "40 seconds", "1 minute", "15 minutes": how long a refusal lasts, for a page. */
export function waitInWords(seconds: number): string {
  if (seconds < 60) return seconds === 1 ? "1 second" : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}
