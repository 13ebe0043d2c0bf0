/**
 * For the routes of the application that mounts the BFF: its own pages and JSON
 * handlers on the same server read the session, require a login, and call the API
 * with the session's access token, through the same cookie checks and the same
 * single-flight refresh as the BFF's own proxy. Nothing here hands out a token.
 *
 * @example
 * const bff = createBff(config);
 * app.get("/account", bff.requireSession({ page: true }), async (c) => {
 *   const session = await bff.session(c);            // who, scopes, expiries: never a token
 *   const contacts = await bff.fetchApi(c, "/contacts");
 *   return c.html(render(session, await contacts.json()));
 * });
 * app.route("/", bff);
 */
import { type AuthenticatedSession, BFF_ROUTES } from "@oidc-bff/shared";
import type { Context, MiddlewareHandler } from "hono";

import { requireSameOriginScript } from "./csrf.ts";
import { BffError, problemResponse } from "./errors.ts";
import { sessionView } from "./routes/session.ts";
import type { BffServices } from "./services.ts";
import { cookieJar } from "./session/cookies.ts";

export interface OwnRouteHelpers {
  /** The live session as GET /bff/session describes it, or undefined when there is none. */
  session(c: Context): Promise<AuthenticatedSession | undefined>;
  /**
   * Middleware: only a request with a live session gets through. Otherwise a 401 problem
   * (`not_authenticated` or `session_expired`), or with `page: true` a redirect to the
   * login, which comes back to the same path. A method other than GET, HEAD or OPTIONS must
   * also pass the BFF's cross-site check (the `x-csrf: 1` header, which `@oidc-bff/client`
   * adds; same-origin `Sec-Fetch-Site` and `Origin`): 403 `csrf_check_failed` otherwise.
   */
  requireSession(options?: { page?: boolean }): MiddlewareHandler;
  /**
   * Calls the API (`apiBaseUrl` + `path`) with the session's access token, refreshed first
   * when it is about to expire. Answers the API's response, or the BFF's problem response
   * (401 without a session, 503 while the IdP or the store is down). `path` must be a path.
   * Called for a POST, PUT, PATCH or DELETE request, it applies the same cross-site check as
   * `requireSession` (403 `csrf_check_failed`).
   */
  fetchApi(c: Context, path: string, init?: RequestInit): Promise<Response>;
}

/** Methods that change nothing (RFC 9110 §9.2.1), so a cross-site request gains nothing by them. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function ownRouteHelpers({ config, sessions, fetch }: BffServices): OwnRouteHelpers {
  const lifetimes = {
    absoluteSeconds: config.sessionAbsoluteLifetimeSeconds,
    idleSeconds: config.sessionIdleTimeoutSeconds,
  };
  const base = config.apiBaseUrl.href.replace(/\/+$/, "");
  const sameOriginScript = requireSameOriginScript(config.ownOrigin);

  /** The answer a BffError deserves (Hono adds the cookies this request set or cleared). */
  const answer = (error: unknown): Response => {
    if (!(error instanceof BffError)) throw error;
    return problemResponse(error);
  };

  return {
    async session(c) {
      const session = await sessions.current(cookieJar(c));
      return session ? sessionView(session, lifetimes, config.mapUserClaims) : undefined;
    },

    requireSession(options = {}) {
      return async (c, next) => {
        try {
          // As on the BFF's own routes: a call that changes something must come from script on
          // this origin (csrf.ts), or any site could make the browser send it with the cookie.
          if (!SAFE_METHODS.has(c.req.method)) await sameOriginScript(c, async () => {});
          await sessions.require(cookieJar(c));
        } catch (error) {
          if (options.page && error instanceof BffError && error.status === 401) {
            const here = new URL(c.req.url);
            const returnTo = encodeURIComponent(`${here.pathname}${here.search}`);
            return c.redirect(`${BFF_ROUTES.login}?returnTo=${returnTo}`, 302);
          }
          return answer(error);
        }
        await next();
      };
    },

    async fetchApi(c, path, init = {}) {
      // A path on the configured API only: the token must never go anywhere else.
      if (!/^\/(?![/\\])/.test(path)) throw new TypeError("fetchApi: the path must start with a single /");
      // As the proxy does: the timeout covers the wait for the answer's headers.
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(), config.apiTimeoutMs);
      try {
        // A state-changing request of the app's own that calls the API: the same cross-site
        // check as requireSession, even where the route did not ask for it.
        if (!SAFE_METHODS.has(c.req.method)) await sameOriginScript(c, async () => {});
        const session = await sessions.withFreshAccessToken(
          cookieJar(c),
          await sessions.require(cookieJar(c)),
        );
        const headers = new Headers(init.headers);
        headers.set("authorization", `Bearer ${session.tokens.accessToken}`);
        const signal = init.signal ? AbortSignal.any([init.signal, timeout.signal]) : timeout.signal;
        return await fetch(`${base}${path}`, { ...init, headers, redirect: "manual", signal });
      } catch (error) {
        if (error instanceof BffError) return answer(error);
        return answer(
          timeout.signal.aborted
            ? new BffError("upstream_timeout", "The API did not answer in time.", { cause: error })
            : new BffError("upstream_unreachable", "The API could not be reached.", { cause: error }),
        );
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
