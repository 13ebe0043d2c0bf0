/**
 * GET /bff/session: what the SPA may know about the login. Who the person is,
 * which scopes the BFF holds for them and when things expire; never a token.
 */
import { type AuthenticatedSession, BFF_ROUTES, type ClaimSource, type SessionView } from "@oidc-bff/shared";
import { Hono } from "hono";

import type { MapUserClaims } from "../config.ts";
import type { BffServices } from "../services.ts";
import { cookieJar } from "../session/cookies.ts";
import { absoluteExpiry, idTokenClaims, type SessionData, type SessionLifetimes } from "../session/data.ts";

/** Claims that describe the person; anything else in userinfo stays on the server. */
const USER_CLAIMS = [
  "name",
  "given_name",
  "family_name",
  "preferred_username",
  "email",
  "email_verified",
  "picture",
  "locale",
];

/**
 * ID token claims that only serve the protocol (replay and hash checks, the
 * IdP's own session id): nothing a page needs, so they stay on the server.
 */
const PROTOCOL_CLAIMS = new Set(["nonce", "at_hash", "c_hash", "s_hash", "sid"]);

export function sessionView(
  session: SessionData,
  lifetimes: SessionLifetimes,
  mapUserClaims?: MapUserClaims,
): AuthenticatedSession {
  const claims = idTokenClaims(session);
  const user: AuthenticatedSession["user"] = { sub: session.sub };
  const claimSources: Record<string, ClaimSource> = { sub: "id_token" };
  for (const claim of USER_CLAIMS) {
    // Kept userinfo claims are those the ID token lacks or says differently: they win.
    const fromUserinfo = session.userinfo[claim];
    const value = fromUserinfo ?? claims[claim];
    if (value === undefined) continue;
    user[claim] = value;
    claimSources[claim] = fromUserinfo === undefined ? "id_token" : "userinfo";
  }
  if (mapUserClaims) {
    const mapped = mapUserClaims({ idToken: claims, userinfo: session.userinfo });
    for (const [claim, value] of Object.entries(mapped)) {
      // `sub` is the BFF's own answer to "who is this": no hook may change it.
      if (claim === "sub" || value === undefined) continue;
      user[claim] = value;
      claimSources[claim] = "mapped";
    }
  }
  return {
    authenticated: true,
    user,
    scopes: session.tokens.scopes,
    expiresAt: new Date(absoluteExpiry(session, lifetimes)).toISOString(),
    accessTokenExpiresAt: new Date(session.tokens.accessTokenExpiresAt).toISOString(),
    claimSources,
    idTokenClaims: Object.fromEntries(
      Object.entries(claims).filter(([claim]) => !PROTOCOL_CLAIMS.has(claim)),
    ),
  };
}

export function sessionRoutes({ config, sessions }: BffServices): Hono {
  const routes = new Hono();
  const lifetimes = {
    absoluteSeconds: config.sessionAbsoluteLifetimeSeconds,
    idleSeconds: config.sessionIdleTimeoutSeconds,
  };

  routes.get(BFF_ROUTES.session, async (c) => {
    // Personal data: no cache, shared or private, may keep it.
    c.header("cache-control", "no-store");
    const session = await sessions.current(cookieJar(c));
    const view: SessionView = session
      ? sessionView(session, lifetimes, config.mapUserClaims)
      : { authenticated: false };
    return c.json(view);
  });

  return routes;
}
