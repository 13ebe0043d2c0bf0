/**
 * Slows down password guessing on the login page. Failed attempts are counted
 * per username and per client address over a sliding window; past the limit,
 * further attempts are refused without checking the password, until the
 * window has moved on. The refusal reads the same whether the username exists
 * or not, so it reveals nothing either.
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
  const perUsername = options.perUsername ?? 5;
  const perAddress = options.perAddress ?? 20;
  const windowMs = options.windowMs ?? 15 * 60 * 1000;
  const now = options.now ?? Date.now;
  /** key → failure times (ms), oldest first. */
  const failures = new Map<string, number[]>();

  const recent = (key: string): number[] => {
    const since = now() - windowMs;
    const kept = (failures.get(key) ?? []).filter((time) => time > since);
    if (kept.length === 0) failures.delete(key);
    else failures.set(key, kept);
    return kept;
  };
  const userKey = (username: string) => `user:${username.trim().toLowerCase()}`;
  const addressKey = (address: string) => `addr:${address}`;

  return {
    waitSeconds(username, address) {
      for (const [key, limit] of [
        [userKey(username), perUsername],
        [addressKey(address), perAddress],
      ] as const) {
        const times = recent(key);
        if (times.length >= limit) {
          const oldest = times[times.length - limit] ?? now();
          return Math.max(1, Math.ceil((oldest + windowMs - now()) / 1000));
        }
      }
      return 0;
    },
    recordFailure(username, address) {
      for (const key of [userKey(username), addressKey(address)]) failures.set(key, [...recent(key), now()]);
      // Bounded memory whatever an attacker sends: forget the oldest keys first.
      while (failures.size > 100_000) failures.delete(failures.keys().next().value as string);
    },
    recordSuccess(username) {
      failures.delete(userKey(username));
    },
  };
}
