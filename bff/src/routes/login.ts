/**
 * Logging in: the authorization code flow (RFC 6749 §4.1) with PKCE (RFC 7636),
 * as OpenID Connect Core §3.1 describes it, in two routes.
 *
 * GET /bff/login     the browser leaves for the IdP, carrying a fresh state,
 *                    nonce and PKCE challenge; their secrets stay in a sealed cookie.
 * GET /bff/callback  the browser comes back with a code; the BFF checks it
 *                    belongs to this browser's login, redeems it, and creates the session.
 */
import { BFF_ROUTES } from "@oidc-bff/shared";
import { Hono } from "hono";

import type { ResolvedBffConfig } from "../config.ts";
import { BffError } from "../errors.ts";
import { AuthorizationDenied, INTERACTION_REQUIRED } from "../oidc/client.ts";
import type { BffServices } from "../services.ts";
import { cookieJar } from "../session/cookies.ts";
import { absoluteExpiry, jwtPayload, userinfoBeyond } from "../session/data.ts";
import { sessionTokens } from "../session/sessions.ts";
import { safeReturnTo } from "./return-to.ts";

/** Scopes about the person and the login itself, which never appear on an API's access token. */
const OIDC_SCOPES = new Set(["openid", "profile", "email", "address", "phone", "offline_access"]);

/** The `prompt` values a caller may ask for (OpenID Connect Core §3.1.2.1). */
const PROMPTS = new Set(["login", "consent", "none"]);

/**
 * The scopes of this login. A first login asks for the configured `scopes`. A
 * page may add some of the `additionalScopes` (`?scope=contacts:write`):
 * incremental authorization. The new login asks for what the current session
 * already holds plus those, so allowing editing never loses read access.
 * Anything else is refused: the SPA cannot widen what the BFF may hold.
 */
function requestedScopes(asked: string | undefined, config: ResolvedBffConfig, held: string[]): string[] {
  const added = [...new Set((asked ?? "").split(" ").filter(Boolean))];
  const offered = new Set([...config.scopes, ...config.additionalScopes]);
  const unknown = added.filter((scope) => !offered.has(scope));
  if (unknown.length > 0) {
    // Not echoed: the page is on our origin, and the text is whatever the link said.
    throw new BffError("invalid_request", "A requested scope is not available to this application.");
  }
  return [...new Set([...config.scopes, ...held.filter((scope) => offered.has(scope)), ...added])];
}

export function loginRoutes(services: BffServices): Hono {
  const { config, oidc, logins, sessions, now, flow, logger } = services;
  const lifetimes = {
    absoluteSeconds: config.sessionAbsoluteLifetimeSeconds,
    idleSeconds: config.sessionIdleTimeoutSeconds,
  };
  const routes = new Hono();

  routes.get(BFF_ROUTES.login, async (c) => {
    const returnTo = safeReturnTo(c.req.query("returnTo"));
    // The session this login replaces, even one the store cannot vouch for now: it is ended
    // at the callback either way, and a store outage must not stop anyone logging in.
    const current = await sessions.toReplace(cookieJar(c));
    const scopes = requestedScopes(c.req.query("scope"), config, current?.tokens.scopes ?? []);
    const prompt = c.req.query("prompt");
    if (prompt !== undefined && !PROMPTS.has(prompt)) {
      throw new BffError("invalid_request", `prompt must be one of: ${[...PROMPTS].join(", ")}.`);
    }

    const request = await oidc.authorizationRequest({ scopes, ...(prompt ? { prompt } : {}) });
    // Other tabs may have logins under way: keep theirs, add ours.
    const pending = await logins.read(c);
    await logins.write(c, [
      ...pending,
      {
        state: request.state,
        nonce: request.nonce,
        codeVerifier: request.codeVerifier,
        scopes: request.scopes,
        returnTo,
        createdAt: now(),
        ...(prompt ? { prompt } : {}),
        // Read here, where our own page sent the browser and the session cookie came along.
        ...(current ? { replaces: { sid: current.sid, until: absoluteExpiry(current, lifetimes) } } : {}),
      },
    ]);
    flow.record({ login: request.state }, (steps) => steps.authorizationRequest(request.url, { returnTo }));
    c.header("cache-control", "no-store");
    return c.redirect(request.url.href, 302);
  });

  routes.get(BFF_ROUTES.callback, async (c) => {
    c.header("cache-control", "no-store");
    const callbackUrl = new URL(c.req.url);
    const state = callbackUrl.searchParams.get("state");
    const pending = await logins.read(c);
    const login = pending.find((candidate) => candidate.state === state);
    if (!login) {
      // No login of this browser has this state: expired, already used, or started
      // elsewhere (a forged callback). Never redeem a code we did not ask for.
      throw new BffError(
        "login_failed",
        "This sign-in could not be matched to one started in this browser, or it took too long. Please start again.",
      );
    }
    // Each login transaction is good for one callback, whatever its outcome.
    await logins.write(
      c,
      pending.filter((candidate) => candidate !== login),
    );
    const flowKey = { login: login.state };
    flow.record(flowKey, (steps) => steps.callbackReceived(callbackUrl));

    let tokens: Awaited<ReturnType<typeof oidc.redeemCode>>;
    try {
      tokens = await oidc.redeemCode(callbackUrl, login);
    } catch (error) {
      // A silent login check (prompt=none) that finds no IdP session is an answer: not logged in.
      if (
        error instanceof AuthorizationDenied &&
        login.prompt === "none" &&
        INTERACTION_REQUIRED.has(error.error)
      ) {
        return c.redirect(login.returnTo, 302);
      }
      if (error instanceof BffError && error.code === "session_expired") {
        throw new BffError(
          "login_failed",
          "This sign-in code was already used or has expired. Please start again.",
          {
            cause: error,
          },
        );
      }
      throw error;
    }
    flow.record(flowKey, (steps) => steps.codeExchange(callbackUrl, login.codeVerifier, tokens));

    const idTokenClaims = tokens.idTokenClaims;
    if (!idTokenClaims || typeof idTokenClaims.sub !== "string") {
      throw new BffError("login_failed", "The identity provider sent no valid ID token.");
    }
    const userinfo = await oidc.userinfo(tokens.accessToken, idTokenClaims.sub);
    flow.record(flowKey, (steps) => steps.userinfo(userinfo, idTokenClaims));

    let kept = sessionTokens(tokens);
    if (config.resource || config.apiScopes.length > 0) {
      // The API's own token: a refresh with `resource` (docs/decisions/002), or with the
      // API's scopes at Entra (docs/decisions/010). With Auth0's `audience` it came already.
      if (!kept.refreshToken) {
        throw new BffError(
          "login_failed",
          "The identity provider issued no refresh token, which is needed to obtain the API's token. Is offline_access granted?",
        );
      }
      flow.record(flowKey, (steps) => steps.refreshRequest(kept.refreshToken, "resource"));
      const forApi = await oidc.refresh(kept.refreshToken, idTokenClaims.sub);
      flow.record(flowKey, (steps) => steps.refreshResponse(forApi));
      kept = sessionTokens(forApi, kept);
    }

    // A provider may drop a scope it does not know without an error (oidc-provider does):
    // say so now, or the API's first 403 insufficient_scope is a riddle.
    const notGranted = config.scopes.filter(
      (scope) => !OIDC_SCOPES.has(scope) && !kept.scopes.includes(scope),
    );
    if (kept.scopes.length > 0 && notGranted.length > 0) {
      logger.warn(
        `login: the provider did not grant ${notGranted.join(", ")} (configured in scopes); is it registered for this client and API?`,
      );
    }

    // A login in a browser that still has a session (another person, or the same one again)
    // ends the old one: a copy of its cookie must not stay usable. Browsers leave the session
    // cookie out of the IdP's redirect here, so /bff/login noted which one it was.
    const previous = await sessions.toReplace(cookieJar(c));
    if (previous) await sessions.end(cookieJar(c), previous);
    if (login.replaces && login.replaces.sid !== previous?.sid) {
      await sessions.endById(login.replaces.sid, login.replaces.until);
    }
    const session = await sessions.start(cookieJar(c), {
      tokens: kept,
      sub: idTokenClaims.sub,
      ...(typeof idTokenClaims.sid === "string" ? { idpSid: idTokenClaims.sid } : {}),
      // Compared with the ID token actually kept (the refresh may have brought a fuller one).
      userinfo: userinfoBeyond(userinfo, jwtPayload(kept.idToken)),
    });
    flow.beginSession(flowKey, session);
    flow.forgetEndedSession(c);
    flow.record(session.sid, (steps) => steps.sessionStarted(login.returnTo));
    return c.redirect(login.returnTo, 302);
  });

  return routes;
}
