/**
 * Every way a `contacts` command can fail on purpose, each with a sentence for
 * the person and an exit code a script can test.
 */
export const CLI_ERROR_CODES = [
  // No token file, an unreadable one, or one for another IdP or API: `contacts login` first.
  "not_logged_in",
  // The IdP refused the stored refresh token (expired, revoked, logged out elsewhere).
  "session_expired",
  // The person pressed Deny (or Cancel) on the sign-in pages.
  "access_denied",
  // The device code ran out before the person approved.
  "expired_token",
  // The IdP refused the device login for another reason.
  "login_failed",
  // The API refused a request (bad input, unknown id, missing scope).
  "api_refused",
] as const;

export type CliErrorCode = (typeof CLI_ERROR_CODES)[number];

/** Exit codes: 0 success, 1 any other failure, 2 wrong usage, then one per reason below. */
export const EXIT_CODES: Record<CliErrorCode, number> = {
  not_logged_in: 3,
  session_expired: 3,
  access_denied: 4,
  expired_token: 5,
  login_failed: 1,
  api_refused: 1,
};

export class CliError extends Error {
  override name = "CliError";
  readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

export const NOT_LOGGED_IN = "not logged in: run contacts login";
