import type { Sealer } from "./seal.ts";

/**
 * The one-minute ticket of docs/decisions/004: `POST /bff/logout` answers a BFF
 * URL carrying it, and `GET /bff/logout/end-session` turns it into the
 * redirect to the IdP's end-session endpoint. The ID token inside is needed as
 * `id_token_hint` but must never reach script, so it travels sealed.
 */
export interface LogoutTicket {
  idToken: string;
  postLogoutRedirectUri: string;
  /** ms since the epoch. */
  expiresAt: number;
}

export const LOGOUT_TICKET_TTL_SECONDS = 60;

export interface LogoutTickets {
  issue(idToken: string, postLogoutRedirectUri: string): Promise<string>;
  /** The ticket's content, or undefined when it is expired, tampered or not a ticket. */
  redeem(ticket: string): Promise<LogoutTicket | undefined>;
}

export function createLogoutTickets(sealer: Sealer, now: () => number): LogoutTickets {
  return {
    issue(idToken, postLogoutRedirectUri) {
      const ticket: LogoutTicket = {
        idToken,
        postLogoutRedirectUri,
        expiresAt: now() + LOGOUT_TICKET_TTL_SECONDS * 1000,
      };
      return sealer.seal("logout-ticket", ticket, LOGOUT_TICKET_TTL_SECONDS);
    },

    async redeem(ticket) {
      const unsealed = await sealer.unseal<Partial<LogoutTicket>>("logout-ticket", ticket);
      if (!unsealed.ok) return undefined;
      const { idToken, postLogoutRedirectUri, expiresAt } = unsealed.value;
      if (typeof idToken !== "string" || typeof postLogoutRedirectUri !== "string") return undefined;
      if (typeof expiresAt !== "number" || now() >= expiresAt) return undefined;
      return { idToken, postLogoutRedirectUri, expiresAt };
    },
  };
}
