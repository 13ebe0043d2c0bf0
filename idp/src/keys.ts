import { createHash, generateKeyPairSync, type JsonWebKey } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

import { IdpError } from "./errors.ts";

/** A private signing key in JWK form, as oidc-provider's `jwks` configuration expects. */
export interface SigningJwk extends JsonWebKey {
  kid: string;
  alg: "RS256";
  use: "sig";
}

export interface SigningKeySet {
  keys: SigningJwk[];
}

/**
 * The IdP's signing keys (ID tokens, JWT access tokens).
 *
 * - `keysPath: null` — a fresh key in memory (tests): tokens die with the process.
 * - `keysPath: "<file>"` — read the JWKS file; on first start generate one key and
 *   write it there, readable by the owner only (mode 0600), so that tokens stay
 *   valid across restarts and the API can keep its cached JWKS.
 *
 * To rotate: `pnpm --filter @oidc-bff/idp rotate-keys` (see rotateSigningKeys),
 * then restart the IdP. oidc-provider signs with the first key and publishes all.
 */
export function loadOrCreateSigningKeys(keysPath: string | null): SigningKeySet {
  if (keysPath === null) return { keys: [generateSigningKey()] };

  let text: string | undefined;
  try {
    text = readFileSync(keysPath, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new IdpError("invalid_keys_file", `Cannot read the signing keys file ${keysPath}.`, {
        cause: error,
      });
    }
  }

  if (text === undefined) {
    const jwks: SigningKeySet = { keys: [generateSigningKey()] };
    mkdirSync(dirname(keysPath), { recursive: true, mode: 0o700 });
    // "wx": fail rather than overwrite if another process created the file meanwhile.
    writeFileSync(keysPath, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o600, flag: "wx" });
    return jwks;
  }

  const jwks = parseKeySet(text, keysPath);
  // Private keys: tighten permissions if someone loosened them.
  if ((statSync(keysPath).mode & 0o077) !== 0) chmodSync(keysPath, 0o600);
  return jwks;
}

function parseKeySet(text: string, keysPath: string): SigningKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new IdpError("invalid_keys_file", `The signing keys file ${keysPath} is not JSON.`, { cause });
  }
  const keys = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new IdpError("invalid_keys_file", `The signing keys file ${keysPath} has no "keys" array.`);
  }
  for (const key of keys as Record<string, unknown>[]) {
    if (typeof key !== "object" || key === null || typeof key.kty !== "string" || key.d === undefined) {
      throw new IdpError(
        "invalid_keys_file",
        `The signing keys file ${keysPath} must hold private JWKs only.`,
      );
    }
  }
  return parsed as SigningKeySet;
}

/** A new RSA 2048 key for RS256, with its RFC 7638 thumbprint as `kid`. */
export function generateSigningKey(): SigningJwk {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = privateKey.export({ format: "jwk" });
  // RFC 7638: the thumbprint hashes the required public members, in lexicographic order.
  const thumbprint = createHash("sha256")
    .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
    .digest("base64url");
  return { ...jwk, kid: thumbprint, alg: "RS256", use: "sig" };
}

/** How many earlier keys stay published after a rotation. */
export const RETIRED_KEYS_KEPT = 2;

/**
 * Rotates the signing keys in a JWKS file: a new key goes first and signs from
 * the IdP's next start; the previous keys stay published (the newest
 * RETIRED_KEYS_KEPT of them), so that every token they signed still verifies
 * until it expires, and clients that cached the old JWKS find the new key by
 * fetching it again on an unknown `kid`. Rotate again only after the longest
 * token lifetime has passed. Returns the new key's `kid`.
 */
export function rotateSigningKeys(keysPath: string): { kid: string; published: string[] } {
  const current = loadOrCreateSigningKeys(keysPath);
  const fresh = generateSigningKey();
  const keys = [fresh, ...current.keys.slice(0, RETIRED_KEYS_KEPT)];
  // Write a new file and rename it over the old one: a crash never leaves half a key set.
  const temporary = `${keysPath}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, keysPath);
  return { kid: fresh.kid, published: keys.map((key) => key.kid) };
}
