/**
 * `createBff(config)`: the backend-for-frontend as a Hono app. It never
 * listens and never reads the environment (`server.ts` does), so another
 * project can mount it, and tests can drive it in-process.
 *
 * Read the routes in this order to follow the protocol:
 *   routes/login.ts     login and callback (code flow + PKCE, state, nonce, iss)
 *   routes/session.ts   what the SPA may know
 *   proxy/api-call.ts   the API calls, with refresh (session/sessions.ts, session/refresh.ts);
 *                       served by routes/api-proxy.ts (Hono) or proxy/node-listener.ts (node:http)
 *   routes/logout.ts    revocation and RP-initiated logout
 */
import { API_PREFIX, BFF_ROUTES } from "@oidc-bff/shared";
import { Hono } from "hono";
import { BFF_ROUTE_MAX_BODY_BYTES, limitBody } from "./body-limit.ts";
import { type BffConfig, resolveConfig } from "./config.ts";
import { BffError, problemResponse } from "./errors.ts";
import type { FlowLogStore } from "./inspector/flow-log.ts";
import { createInspector } from "./inspector/index.ts";
import { inspectorRoutes } from "./inspector/route.ts";
import { type BffLogger, consoleLogger, describeError } from "./logger.ts";
import { basicEncodingHint, createOidcClient, neverReachedProvider } from "./oidc/client.ts";
import { type OwnRouteHelpers, ownRouteHelpers } from "./own-routes.ts";
import { errorPage, PAGE_CSP } from "./pages.ts";
import { createApiProxy } from "./proxy/api-call.ts";
import { registerNodePath } from "./proxy/node-listener.ts";
import { fetchTransport, undiciTransport } from "./proxy/transport.ts";
import { apiProxyRoutes } from "./routes/api-proxy.ts";
import { backchannelLogoutRoutes } from "./routes/backchannel-logout.ts";
import { healthRoutes } from "./routes/health.ts";
import { loginRoutes } from "./routes/login.ts";
import { END_SESSION_ROUTE, logoutRoutes } from "./routes/logout.ts";
import { sessionRoutes } from "./routes/session.ts";
import { spaRoutes } from "./routes/spa.ts";
import { testControlRoutes } from "./routes/test-controls.ts";
import { PAGE_ROUTES, securityHeaders } from "./security-headers.ts";
import type { BffServices } from "./services.ts";
import { createEndedSessions } from "./session/ended-sessions.ts";
import { createLoginTransactions } from "./session/login-transactions.ts";
import { createLogoutTickets } from "./session/logout-ticket.ts";
import { createRefresher } from "./session/refresh.ts";
import { createSealer } from "./session/seal.ts";
import { createSessionCookie } from "./session/session-cookie.ts";
import { createSessions } from "./session/sessions.ts";
import { MemorySessionStore, type SessionStore } from "./session/store.ts";
import { storeWithDeadline } from "./session/store-deadline.ts";

export interface BffDeps {
  /** Every outgoing request (IdP and API) goes through it. Default: globalThis.fetch. */
  fetch?: typeof fetch;
  /** Where ended sessions are recorded. Default: in this process's memory. */
  store?: SessionStore;
  /** Milliseconds since the epoch. Default: Date.now. */
  now?: () => number;
  logger?: BffLogger;
  /** Where the flow inspector keeps its logs (when `flowInspector` is on). Default: this process's memory. */
  flowLogs?: FlowLogStore;
}

const ALLOWED_METHODS: Record<string, string[]> = {
  [BFF_ROUTES.login]: ["GET"],
  [BFF_ROUTES.callback]: ["GET"],
  [BFF_ROUTES.session]: ["GET"],
  [BFF_ROUTES.logout]: ["POST"],
  [BFF_ROUTES.backchannelLogout]: ["POST"],
  [END_SESSION_ROUTE]: ["GET"],
};

const PAGE_TITLES: Partial<Record<BffError["code"], string>> = {
  login_failed: "Sign-in failed",
  idp_unavailable: "The sign-in service is unavailable",
  invalid_request: "This request cannot be handled",
};

/** The same path and query, relative to our origin: what "Try again" on a failed login repeats. */
function retryUrl(requestUrl: string): string {
  const url = new URL(requestUrl);
  return `${url.pathname}${url.search}`;
}

/**
 * @example
 * const bff = createBff({
 *   issuer: "https://id.example.com",
 *   clientId: "web-bff",
 *   clientSecret: process.env.CLIENT_SECRET,
 *   redirectUri: "https://app.example.com/bff/callback",
 *   postLogoutRedirectUri: "https://app.example.com/",
 *   apiBaseUrl: "https://api.example.com",
 *   cookieSecrets: [process.env.COOKIE_SECRET],
 * });
 * app.route("/", bff);
 */
/** The BFF's routes, to mount with `app.route("/", bff)`, and helpers for the app's own routes (own-routes.ts). */
export type Bff = Hono & OwnRouteHelpers;

export function createBff(input: BffConfig, deps: BffDeps = {}): Bff {
  const config = resolveConfig(input);
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? consoleLogger;
  const fetchImpl = deps.fetch ?? ((request, init) => globalThis.fetch(request, init));
  const lifetimes = {
    absoluteSeconds: config.sessionAbsoluteLifetimeSeconds,
    idleSeconds: config.sessionIdleTimeoutSeconds,
  };

  const sealer = createSealer(config.cookieSecrets);
  // A shared store is reached over the network and can hang; this process's own Maps cannot.
  const store = deps.store ? storeWithDeadline(deps.store) : new MemorySessionStore({ now });
  const oidc = createOidcClient(config, fetchImpl, now, logger);
  const encodingHint = basicEncodingHint(config.clientAuthentication, config.clientId);
  // Said at start-up, before the first login fails with a bare invalid_client at such a provider.
  if (encodingHint) logger.warn(`client authentication: ${encodingHint}`);
  const ended = createEndedSessions(store, {
    now,
    onStoreError: (error) =>
      logger.warn(
        `session store: an ended session is kept here until the store takes it (${describeError(error)})`,
      ),
    onDropped: (dropped) =>
      logger.error(
        `session store: ${dropped} ended-session record(s) dropped from a full outbox; other replicas will not know of those logouts`,
      ),
  });
  const flow = createInspector(config, { oidc, logger, now, logs: deps.flowLogs });
  const services: BffServices = {
    config,
    oidc,
    ended,
    store,
    logins: createLoginTransactions(sealer, now, config.cookieNames.login),
    tickets: createLogoutTickets(sealer, store, now, config.cookieNames.logout),
    sessions: createSessions({
      cookie: createSessionCookie(sealer, lifetimes, now, config.cookieNames.session),
      ended,
      refresher: createRefresher({
        store,
        sealer,
        neverReachedIdp: neverReachedProvider,
        onStoreError: (error) =>
          logger.warn(
            `session store: a refresh outcome is kept here until the store takes it (${describeError(error)})`,
          ),
      }),
      oidc,
      lifetimes,
      refreshLeewaySeconds: config.refreshLeewaySeconds,
      logger,
      now,
      flow,
      issuer: config.issuerIdentifier,
    }),
    logger,
    fetch: fetchImpl,
    now,
    flow,
  };

  const app = new Hono();

  app.use(async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(securityHeaders(config.mode === "production", c.req.path))) {
      if (name !== "content-security-policy" || !c.res.headers.has(name)) c.header(name, value);
    }
  });

  // The proxy streams bodies with its own, larger limit (api-proxy.ts); every other route takes 16 KiB.
  const ownRouteLimit = limitBody(BFF_ROUTE_MAX_BODY_BYTES);
  app.use((c, next) => (c.req.path.startsWith(`${API_PREFIX}/`) ? next() : ownRouteLimit(c, next)));

  app.route("/", loginRoutes(services));
  app.route("/", sessionRoutes(services));
  app.route("/", logoutRoutes(services));
  app.route("/", backchannelLogoutRoutes(services));
  app.route("/", healthRoutes(services));
  // Without an injected fetch the API is reached with undici's own API, skipping the Fetch-API objects.
  const transport = deps.fetch ? fetchTransport(deps.fetch) : undiciTransport();
  const proxy = createApiProxy({ config, sessions: services.sessions, flow, transport });
  app.route("/", apiProxyRoutes(proxy));
  if (config.flowInspector) app.route("/", inspectorRoutes(services));
  if (config.testControls) app.route("/", testControlRoutes(services));
  for (const [path, allow] of Object.entries(ALLOWED_METHODS)) {
    app.all(path, () => {
      throw new BffError("method_not_allowed", "This route does not support this method.", { allow });
    });
  }
  app.all("/bff/*", () => {
    throw new BffError("not_found", "No such route.");
  });
  if (config.spaDir) app.route("/", spaRoutes(config.spaDir));

  app.notFound(() => problemResponse(new BffError("not_found", "No such route.")));

  app.onError((error, c) => {
    const known =
      error instanceof BffError
        ? error
        : new BffError("internal_error", "unexpected error", { cause: error });
    if (known.status >= 500) logger.error(`${c.req.method} ${c.req.path}: ${describeError(error)}`);
    else logger.info(`${c.req.method} ${c.req.path}: ${describeError(error)}`);

    const response = problemResponse(known);
    // Cookies set or cleared before the failure still apply (a dead session's cookie is deleted).
    for (const cookie of c.res.headers.getSetCookie()) response.headers.append("set-cookie", cookie);
    if (!PAGE_ROUTES.has(c.req.path)) return response;

    const page = errorPage({
      title: PAGE_TITLES[known.code] ?? "Something went wrong",
      message:
        known.status >= 500 && known.code !== "idp_unavailable"
          ? "Something went wrong on our side."
          : known.message,
      // Retrying a failed /bff/login repeats it as it was (same returnTo); other pages start afresh.
      action: {
        href: c.req.path === BFF_ROUTES.login ? retryUrl(c.req.url) : BFF_ROUTES.login,
        label: "Try signing in again",
      },
    });
    response.headers.set("content-type", "text/html; charset=utf-8");
    response.headers.set("content-security-policy", PAGE_CSP);
    return new Response(page, { status: known.status, headers: response.headers });
  });

  const bff = Object.assign(app, ownRouteHelpers(services));
  registerNodePath(bff, {
    proxy,
    ownOrigin: config.ownOrigin,
    production: config.mode === "production",
    logger,
  });
  return bff;
}
