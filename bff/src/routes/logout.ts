/**
 * Logging out everywhere, in two steps (docs/decisions/004):
 *
 * POST /bff/logout               ends the BFF session (a replayed cookie is refused
 *                                from now on), revokes the refresh token at the IdP
 *                                (RFC 7009) and answers where the browser goes next.
 * GET  /bff/logout/end-session   sends the browser to the IdP's end-session endpoint
 *                                (OpenID Connect RP-Initiated Logout 1.0) so the IdP's
 *                                own session ends too, then back to our home page.
 */
import { BFF_ROUTES } from "@oidc-bff/shared";
import { Hono } from "hono";

import { requireSameOriginScript } from "../csrf.ts";
import { describeError } from "../logger.ts";
import type { BffServices } from "../services.ts";
import { cookieJar } from "../session/cookies.ts";

export const END_SESSION_ROUTE = "/bff/logout/end-session";

export function logoutRoutes({ config, oidc, sessions, tickets, logger, flow }: BffServices): Hono {
  const routes = new Hono();

  routes.post(BFF_ROUTES.logout, requireSameOriginScript(config.ownOrigin), async (c) => {
    c.header("cache-control", "no-store");
    const session = await sessions.require(cookieJar(c));
    // First end it here: whatever happens at the IdP next, this session is over.
    await sessions.end(cookieJar(c), session);
    flow.record(session.sid, (steps) => steps.logoutRequested());

    const refreshToken = session.tokens.refreshToken;
    if (refreshToken) {
      try {
        const outcome = await oidc.revoke(refreshToken);
        flow.record(session.sid, (steps) => steps.revocation(refreshToken, outcome));
        if (outcome === "no endpoint") {
          // LemonLDAP::NG has none: the refresh token stays valid at the provider until it
          // expires. One bound to the provider's session ends with it (end-session, next);
          // an offline_access one outlives it, which is worth a warning and a remedy.
          if (config.scopes.includes("offline_access")) {
            logger.warn(
              "logout: the provider has no revocation_endpoint, so this session's offline_access refresh token stays valid at the provider, beyond its own session, until it expires; drop offline_access from scopes (BFF_SCOPES) with this provider",
            );
          } else {
            logger.info(
              "logout: the provider has no revocation_endpoint; the refresh token ends with the provider's session",
            );
          }
        }
      } catch (error) {
        flow.record(session.sid, (steps) => steps.revocation(refreshToken, "failed"));
        // The session is already over for the BFF; the token expires on its own at the IdP.
        logger.warn(`logout: could not revoke the refresh token: ${describeError(error)}`);
      }
    }

    const ticket = await tickets.issue(c, session.tokens.idToken, config.postLogoutRedirectUri);
    flow.link({ ticket }, session.sid);
    flow.record(session.sid, (steps) => steps.logoutAnswer());
    // Flow inspector only (a no-op when it is off): the steps above and those still to come
    // (end-session, back-channel) stay readable by this browser after its session cookie is gone.
    await flow.keepReadableAfterLogout(c, session.sid);
    return c.json({ redirectTo: `${END_SESSION_ROUTE}?ticket=${encodeURIComponent(ticket)}` });
  });

  routes.get(END_SESSION_ROUTE, async (c) => {
    c.header("cache-control", "no-store");
    const ticket = await tickets.redeem(c, c.req.query("ticket") ?? "");
    // An expired, forged, spent or copied ticket changes nothing: the BFF session ended at POST already.
    if (!ticket) return c.redirect(config.postLogoutRedirectUri, 302);
    let endSession: URL | undefined;
    try {
      endSession = await oidc.endSessionUrl(ticket.idToken, ticket.postLogoutRedirectUri);
      if (!endSession) {
        // Google and others publish no end_session_endpoint: the BFF session is over, the
        // provider's own session is not, and the next login may skip its password page.
        logger.info(
          "logout: the provider has no end_session_endpoint; the BFF session ended, the provider's session stays open",
        );
      }
    } catch (error) {
      logger.warn(`logout: the IdP's end-session endpoint is unknown: ${describeError(error)}`);
    }
    const ticketKey = { ticket: c.req.query("ticket") ?? "" };
    flow.record(ticketKey, (steps) => steps.endSessionRedirect(endSession, ticket.postLogoutRedirectUri));
    return c.redirect(endSession?.href ?? ticket.postLogoutRedirectUri, 302);
  });

  return routes;
}
