/**
 * Counts failed attempts per key (a username, a client address) over a
 * sliding window. Past the limit, the caller refuses further attempts without
 * checking them, until the window has moved on. Shared by the login page and
 * the device flow's code entry page (RFC 8628 §5.1).
 */
export interface FailureWindow {
  /** Seconds to wait before trying again, or 0 when an attempt is allowed now. */
  waitSeconds(key: string): number;
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

export function createFailureWindow(options: FailureWindowOptions): FailureWindow {
  const { limit, windowMs } = options;
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? 100_000;
  /** key → failure times (ms), oldest first. */
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
    recordFailure(key) {
      failures.set(key, [...recent(key), now()]);
      while (failures.size > maxKeys) failures.delete(failures.keys().next().value as string);
    },
    forget(key) {
      failures.delete(key);
    },
  };
}

/**
 * Slows down password guessing on the login page. Failed attempts are counted
 * per username and per client address; past either limit, further attempts
 * are refused without checking the password. The refusal reads the same
 * whether the username exists or not, so it reveals nothing either.
 */
export interface LoginThrottle {
  /** Seconds to wait before trying again, or 0 when an attempt is allowed now. */
  waitSeconds(username: string, address: string): number;
  recordFailure(username: string, address: string): void;
  recordSuccess(username: string): void;
}

export interface LoginThrottleOptions {
  /** Failures allowed within the window, per username and per address. Default 5 and 20. */
  perUsername?: number;
  perAddress?: number;
  /** Default 15 minutes. */
  windowMs?: number;
  now?: () => number;
}

export function createLoginThrottle(options: LoginThrottleOptions = {}): LoginThrottle {
  const windowMs = options.windowMs ?? 15 * 60 * 1000;
  const clock = options.now ? { now: options.now } : {};
  const byUsername = createFailureWindow({ limit: options.perUsername ?? 5, windowMs, ...clock });
  const byAddress = createFailureWindow({ limit: options.perAddress ?? 20, windowMs, ...clock });
  const userKey = (username: string) => username.trim().toLowerCase();

  return {
    waitSeconds(username, address) {
      return byUsername.waitSeconds(userKey(username)) || byAddress.waitSeconds(address);
    },
    recordFailure(username, address) {
      byUsername.recordFailure(userKey(username));
      byAddress.recordFailure(address);
    },
    recordSuccess(username) {
      byUsername.forget(userKey(username));
    },
  };
}
