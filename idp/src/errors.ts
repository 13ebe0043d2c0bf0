/**
 * Every way the IdP itself can refuse to start or to load its data.
 * Protocol errors (invalid_grant, access_denied, ...) are not here: oidc-provider
 * answers those itself, as OAuth errors.
 */
export const IDP_ERROR_CODES = [
  // A configuration value (or environment variable) is missing or malformed.
  "invalid_config",
  // Production mode was asked for, but development defaults are still in place.
  "not_production_ready",
  // The users file cannot be read or does not have the expected shape.
  "invalid_users_file",
  // The signing keys file cannot be read or does not hold private signing keys.
  "invalid_keys_file",
  // A stored password hash is not in the `scrypt$N$r$p$salt$hash` format.
  "invalid_password_hash",
] as const;

export type IdpErrorCode = (typeof IDP_ERROR_CODES)[number];

export class IdpError extends Error {
  override name = "IdpError";
  readonly code: IdpErrorCode;

  constructor(code: IdpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
