import type { Context } from "hono";

import {
  clearCookie,
  cookieJar,
  cookieSize,
  LOGIN_COOKIE,
  MAX_COOKIE_BYTES,
  readCookie,
  writeCookie,
} from "./cookies.ts";
import type { Sealer } from "./seal.ts";

/**
 * The per-login secrets, kept between `/bff/login` and `/bff/callback`. They
 * bind the authorization response to this browser: `state` (RFC 6749 §10.12,
 * CSRF on the callback), `nonce` (OpenID Connect Core §3.1.2.1, binds the ID
 * token) and the PKCE `code_verifier` (RFC 7636 §4.1, binds the code).
 */
export interface LoginTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Same-origin path to return to after login (already validated). */
  returnTo: string;
  /** The scopes asked for (a token response without `scope` grants them, RFC 6749 §5.1). */
  scopes?: string[];
  /** The `prompt` sent, if any: with `none`, "login required" is an answer, not a failure. */
  prompt?: string;
  /** ms since the epoch. */
  createdAt: number;
  /**
   * The session this browser had when the login began, which the callback ends. The
   * callback cannot see it itself: the session cookie is `SameSite=Strict`, and the IdP's
   * redirect to /bff/callback is a cross-site navigation, on which no browser sends it.
   */
  replaces?: { sid: string; until: number };
}

/** Ten minutes to complete a login at the IdP (docs/decisions/003). */
export const LOGIN_TTL_SECONDS = 600;

/**
 * How many logins may be pending at once in one browser. Two tabs pressing
 * "Log in" at the same time must both work, so the cookie holds a list keyed by
 * `state`; the bound keeps the cookie small, dropping the oldest.
 */
export const MAX_PENDING_LOGINS = 5;

export interface LoginTransactions {
  /** The pending, unexpired logins of this browser; an unreadable cookie counts as none. */
  read(c: Context): Promise<LoginTransaction[]>;
  /** Stores the list (newest kept), or deletes the cookie when it is empty. */
  write(c: Context, logins: LoginTransaction[]): Promise<void>;
}

function isLoginTransaction(value: unknown): value is LoginTransaction {
  if (typeof value !== "object" || value === null) return false;
  const t = value as Record<string, unknown>;
  return (
    typeof t.state === "string" &&
    typeof t.nonce === "string" &&
    typeof t.codeVerifier === "string" &&
    typeof t.returnTo === "string" &&
    typeof t.createdAt === "number" &&
    (t.scopes === undefined || (Array.isArray(t.scopes) && t.scopes.every((s) => typeof s === "string"))) &&
    (t.replaces === undefined || isReplaced(t.replaces))
  );
}

function isReplaced(value: unknown): value is LoginTransaction["replaces"] {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  return typeof r.sid === "string" && typeof r.until === "number";
}

/**
 * The login transaction cookie `__Host-bff-login`: `SameSite=Lax`, because it
 * must come back on the IdP's cross-site redirect to /bff/callback, a top-level
 * GET navigation that `Strict` would strip (docs/decisions/003).
 */
export function createLoginTransactions(
  sealer: Sealer,
  now: () => number,
  name: string = LOGIN_COOKIE,
): LoginTransactions {
  const isFresh = (login: LoginTransaction) => now() - login.createdAt < LOGIN_TTL_SECONDS * 1000;

  return {
    async read(c) {
      const raw = readCookie(cookieJar(c), name);
      if (!raw) return [];
      const unsealed = await sealer.unseal<{ logins?: unknown }>("login", raw);
      if (!unsealed.ok || !Array.isArray(unsealed.value.logins)) return [];
      return unsealed.value.logins.filter(isLoginTransaction).filter(isFresh);
    },

    async write(c, logins) {
      let kept = logins
        .filter(isFresh)
        .sort((a, b) => a.createdAt - b.createdAt)
        .slice(-MAX_PENDING_LOGINS);
      while (kept.length > 0) {
        const sealed = await sealer.seal("login", { logins: kept }, LOGIN_TTL_SECONDS);
        // Over the browser's limit the cookie would be dropped silently: drop the oldest login instead.
        if (cookieSize(name, sealed) <= MAX_COOKIE_BYTES) {
          writeCookie(cookieJar(c), name, sealed, "Lax", LOGIN_TTL_SECONDS);
          return;
        }
        kept = kept.slice(1);
      }
      clearCookie(cookieJar(c), name, "Lax");
    },
  };
}
