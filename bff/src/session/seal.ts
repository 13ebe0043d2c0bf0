/**
 * Sealing: the only module that imports iron-session. A seal is the data
 * encrypted (AES-256-CBC) and authenticated (HMAC-SHA-256) with a key derived
 * from one of our secrets ("Fe26.2" iron format): the browser can carry it but
 * can neither read nor change it.
 */
import { createHash } from "node:crypto";

import { sealData, type UnsealErrorReason, unsealData } from "iron-session";

export type UnsealResult<T> = { ok: true; value: T } | { ok: false; reason: UnsealErrorReason };

/**
 * What a seal is for. It is sealed with the data and checked on unsealing, so a
 * seal made for one purpose (a logout ticket in a URL) can never be replayed as
 * another (a session cookie), although the same secrets seal both.
 */
export type SealPurpose = "session" | "login" | "logout-ticket" | "refresh-outcome" | "ended-flow-log";

export interface Sealer {
  /** Encrypts and authenticates `data`; the seal itself stops being accepted after `ttlSeconds`. */
  seal(purpose: SealPurpose, data: object, ttlSeconds: number): Promise<string>;
  /** Never throws: a tampered, expired, foreign, mis-purposed or garbage value is `{ ok: false }`. */
  unseal<T>(purpose: SealPurpose, sealed: string): Promise<UnsealResult<T>>;
}

/**
 * A stable numeric id per secret, written (in clear) into every seal so that
 * unsealing knows which secret to use. iron-session's own convention numbers
 * the secrets by position, which breaks every session the day the oldest
 * secret is removed; deriving the id from the secret keeps it stable however
 * the list is reordered or trimmed. 48 bits of SHA-256 say nothing useful about
 * a secret of 32+ characters.
 */
function passwordId(secret: string): number {
  return Number.parseInt(createHash("sha256").update(secret).digest("hex").slice(0, 12), 16);
}

/** "Fe26.2*…" as iron seals it, then iron-session's "~2" and nothing else. */
const SEAL_SHAPE = /^Fe26\.2\*[^~]+~2$/;

/**
 * @param secrets The first seals; all of them unseal. Rotate by putting a new
 *   secret first, and drop an old one once every seal made with it has expired.
 */
export function createSealer(secrets: string[]): Sealer {
  const [current] = secrets;
  if (current === undefined) throw new Error("at least one cookie secret is required");
  const all: Record<number, string> = {};
  for (const secret of secrets) {
    const id = passwordId(secret);
    if (all[id] !== undefined && all[id] !== secret) throw new Error("two cookie secrets share an id");
    all[id] = secret;
  }
  // Only the current secret is offered for sealing (iron-session seals with the highest id it is given).
  const sealingPassword = { [passwordId(current)]: current };

  return {
    seal(purpose, data, ttlSeconds) {
      return sealData(
        { purpose, data },
        { password: sealingPassword, ttl: Math.max(1, Math.ceil(ttlSeconds)) },
      );
    },
    async unseal<T>(purpose: SealPurpose, sealed: string): Promise<UnsealResult<T>> {
      // iron-session ends every seal with "~2", outside the HMAC, and on unsealing ignores
      // whatever follows the "~". Only the exact ending it writes is accepted here, so that a
      // seal has one spelling and nothing unsigned rides along with it.
      if (!SEAL_SHAPE.test(sealed)) return { ok: false, reason: "invalid" };
      let reason: UnsealErrorReason | undefined;
      const value = await unsealData<{ purpose?: unknown; data?: unknown }>(sealed, {
        password: all,
        onUnsealError: (why) => {
          reason = why;
        },
      });
      if (reason !== undefined) return { ok: false, reason };
      // iron-session answers `{}` instead of throwing; a seal for another purpose is not ours either.
      if (value.purpose !== purpose || typeof value.data !== "object" || value.data === null) {
        return { ok: false, reason: "invalid" };
      }
      return { ok: true, value: value.data as T };
    },
  };
}
