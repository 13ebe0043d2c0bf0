import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

import type { Context } from "hono";

import { clearCookie, cookieJar, readCookie, writeCookie } from "./cookies.ts";
import type { Sealer } from "./seal.ts";
import type { SessionStore } from "./store.ts";

/**
 * The one-minute ticket of docs/decisions/004: `POST /bff/logout` answers a BFF
 * URL carrying it, and `GET /bff/logout/end-session` turns it into the
 * redirect to the IdP's end-session endpoint. The ID token inside is needed as
 * `id_token_hint` but must never reach script, so it travels sealed.
 *
 * A URL can be copied, so the ticket is also
 * - bound to the browser that logged out: POST sets a one-minute cookie with a random
 *   value whose hash the ticket carries, and the ticket is honoured only with that cookie;
 * - single use: redeeming it records its id in the store (as logout tokens' `jti`s are),
 *   and clears the cookie.
 * Otherwise whoever held the URL could hand the ID token to the IdP as a hint, again and
 * again, from anywhere.
 */
export interface LogoutTicket {
  idToken: string;
  postLogoutRedirectUri: string;
  /** ms since the epoch. */
  expiresAt: number;
}

export const LOGOUT_TICKET_TTL_SECONDS = 60;

export interface LogoutTickets {
  /** The ticket for the URL; sets the browser's half of it as a cookie. */
  issue(c: Context, idToken: string, postLogoutRedirectUri: string): Promise<string>;
  /**
   * The ticket's content, or undefined when it is expired, tampered, not a ticket, used
   * before, or brought by another browser. Clears this browser's half either way.
   */
  redeem(c: Context, ticket: string): Promise<LogoutTicket | undefined>;
}

interface Sealed extends LogoutTicket {
  id: string;
  /** SHA-256 of the cookie's value, base64url. */
  browser: string;
}

const hash = (value: string) => createHash("sha256").update(value).digest("base64url");

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function createLogoutTickets(
  sealer: Sealer,
  store: SessionStore,
  now: () => number,
  cookieName: string,
): LogoutTickets {
  return {
    async issue(c, idToken, postLogoutRedirectUri) {
      const secret = randomBytes(32).toString("base64url");
      // Strict: the end-session URL is opened by our own page, never from another site.
      writeCookie(cookieJar(c), cookieName, secret, "Strict", LOGOUT_TICKET_TTL_SECONDS);
      const ticket: Sealed = {
        id: randomBytes(16).toString("base64url"),
        browser: hash(secret),
        idToken,
        postLogoutRedirectUri,
        expiresAt: now() + LOGOUT_TICKET_TTL_SECONDS * 1000,
      };
      return sealer.seal("logout-ticket", ticket, LOGOUT_TICKET_TTL_SECONDS);
    },

    async redeem(c, ticket) {
      const secret = readCookie(cookieJar(c), cookieName);
      if (secret !== undefined) clearCookie(cookieJar(c), cookieName, "Strict");
      const unsealed = await sealer.unseal<Partial<Sealed>>("logout-ticket", ticket);
      if (!unsealed.ok) return undefined;
      const { id, browser, idToken, postLogoutRedirectUri, expiresAt } = unsealed.value;
      if (typeof idToken !== "string" || typeof postLogoutRedirectUri !== "string") return undefined;
      if (typeof id !== "string" || typeof browser !== "string") return undefined;
      if (typeof expiresAt !== "number" || now() >= expiresAt) return undefined;
      if (secret === undefined || !sameText(hash(secret), browser)) return undefined;
      // Used once. With the store down the browser's cookie, now cleared, still allows only this use.
      const first = await store.claimTokenId(`logout-ticket:${id}`, expiresAt).catch(() => true);
      if (!first) return undefined;
      return { idToken, postLogoutRedirectUri, expiresAt };
    },
  };
}
