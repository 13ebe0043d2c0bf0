/**
 * Test controls: put the current session into the states an end-to-end suite
 * must cover, through the real IdP, without waiting for clocks. Mounted only
 * when `dangerouslyEnableTestControls` is set, which validateConfig refuses in
 * production mode.
 *
 * POST /bff/test/expire-access-token   the access token counts as expired, so the
 *                                      next API call makes a real refresh at the IdP.
 * POST /bff/test/revoke-refresh-token  the BFF revokes its own refresh token at the
 *                                      IdP (RFC 7009) and expires the access token:
 *                                      the next API call meets a real invalid_grant
 *                                      (or finds the session already ended, when the
 *                                      IdP announces the revoked grant by back-channel
 *                                      logout, as ours does).
 *
 * Both act only on the caller's own session, with the same anti-CSRF rule as
 * every state-changing route: a page on another site cannot reach them.
 */
import { Hono } from "hono";

import { requireSameOriginScript } from "../csrf.ts";
import { BffError } from "../errors.ts";
import type { BffServices } from "../services.ts";
import { cookieJar } from "../session/cookies.ts";

export const TEST_CONTROL_ROUTES = {
  expireAccessToken: "/bff/test/expire-access-token",
  revokeRefreshToken: "/bff/test/revoke-refresh-token",
} as const;

export function testControlRoutes({ config, oidc, sessions, logger, now }: BffServices): Hono {
  const routes = new Hono();
  const sameOrigin = requireSameOriginScript(config.ownOrigin);

  routes.post(TEST_CONTROL_ROUTES.expireAccessToken, sameOrigin, async (c) => {
    c.header("cache-control", "no-store");
    const session = await sessions.require(cookieJar(c));
    await sessions.overwrite(cookieJar(c), {
      ...session,
      tokens: { ...session.tokens, accessTokenExpiresAt: now() - 1000 },
    });
    logger.warn("test controls: the access token of a session was marked expired");
    return c.body(null, 204);
  });

  routes.post(TEST_CONTROL_ROUTES.revokeRefreshToken, sameOrigin, async (c) => {
    c.header("cache-control", "no-store");
    const session = await sessions.require(cookieJar(c));
    const { refreshToken } = session.tokens;
    if (!refreshToken) throw new BffError("invalid_request", "This session holds no refresh token.");
    // Without one nothing is revoked, and the test must not go on as if it had been.
    if ((await oidc.revoke(refreshToken)) === "no endpoint") {
      throw new BffError(
        "invalid_request",
        "The provider has no revocation endpoint (none in its discovery document), so this control cannot revoke the refresh token: revoke the grant at the provider itself.",
      );
    }
    await sessions.overwrite(cookieJar(c), {
      ...session,
      tokens: { ...session.tokens, accessTokenExpiresAt: now() - 1000 },
    });
    logger.warn("test controls: the refresh token of a session was revoked at the IdP");
    return c.body(null, 204);
  });

  return routes;
}
