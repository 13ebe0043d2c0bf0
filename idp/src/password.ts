import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

import { IdpError } from "./errors.ts";

/**
 * Password hashing with scrypt (node:crypto), stored as one self-describing string:
 *
 *     scrypt$<N>$<r>$<p>$<salt, base64>$<derived key, base64>
 *
 * Keeping the cost parameters in the string means they can be raised later
 * without breaking the hashes already stored: each hash is verified with the
 * parameters it was made with.
 */

/** Cost parameters for new hashes: N = 2^15, r = 8, p = 1 (about 32 MiB and ~50 ms per hash). */
export const SCRYPT_DEFAULTS = { N: 2 ** 15, r: 8, p: 1, keyLength: 32, saltLength: 16 } as const;

// Upper bounds accepted when reading a stored hash, so that a corrupted or
// hostile users file cannot make one login attempt eat gigabytes of memory.
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

export interface ScryptHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function deriveKey(
  password: string,
  salt: Buffer,
  params: { N: number; r: number; p: number },
  keyLength: number,
): Promise<Buffer> {
  // scrypt needs about 128 * N * r bytes; Node refuses to go over `maxmem`.
  const maxmem = 128 * params.N * params.r * 2;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, { ...params, maxmem }, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    });
  });
}

/**
 * Hashes a password with a fresh random salt.
 *
 * @example
 * const stored = await hashPassword("correct horse battery staple");
 * // "scrypt$32768$8$1$…$…"
 */
export async function hashPassword(password: string): Promise<string> {
  const { N, r, p, keyLength, saltLength } = SCRYPT_DEFAULTS;
  const salt = randomBytes(saltLength);
  const key = await deriveKey(password, salt, { N, r, p }, keyLength);
  return ["scrypt", N, r, p, salt.toString("base64"), key.toString("base64")].join("$");
}

/** Parses a stored hash, throwing `IdpError("invalid_password_hash")` when it is malformed. */
export function parsePasswordHash(stored: string): ScryptHash {
  const parts = stored.split("$");
  const invalid = (why: string) =>
    new IdpError("invalid_password_hash", `Password hash is not valid: ${why}.`);
  if (parts.length !== 6 || parts[0] !== "scrypt") {
    throw invalid("expected scrypt$N$r$p$salt$hash");
  }
  const [N, r, p] = parts
    .slice(1, 4)
    .map((value) => (/^\d+$/.test(value ?? "") ? Number(value) : Number.NaN));
  if (N === undefined || !Number.isSafeInteger(N) || N < 2 || N > MAX_N || (N & (N - 1)) !== 0) {
    throw invalid(`N must be a power of two between 2 and ${MAX_N}`);
  }
  if (r === undefined || !Number.isSafeInteger(r) || r < 1 || r > MAX_R) {
    throw invalid(`r must be between 1 and ${MAX_R}`);
  }
  if (p === undefined || !Number.isSafeInteger(p) || p < 1 || p > MAX_P) {
    throw invalid(`p must be between 1 and ${MAX_P}`);
  }
  const salt = Buffer.from(parts[4] ?? "", "base64");
  const key = Buffer.from(parts[5] ?? "", "base64");
  if (salt.length < 8) throw invalid("salt is too short");
  if (key.length < 16) throw invalid("derived key is too short");
  return { N, r, p, salt, key };
}

/**
 * Checks a password against a stored hash. The comparison of the derived keys
 * is constant-time (`timingSafeEqual`), so the answer does not leak how many
 * leading bytes matched.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const { N, r, p, salt, key } = parsePasswordHash(stored);
  const candidate = await deriveKey(password, salt, { N, r, p }, key.length);
  return timingSafeEqual(candidate, key);
}
