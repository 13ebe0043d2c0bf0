import { SCOPES } from "@oidc-bff/shared";
import { Hono } from "hono";

import {
  type AuthEnv,
  bearerAuth,
  createIssuerKeySet,
  createTokenVerifier,
  DEFAULT_ALGORITHMS,
  requireScope,
} from "./auth/index.ts";
import { contactsRoutes } from "./contacts-routes.ts";
import { ApiError } from "./errors.ts";
import { methodNotAllowed, notFound, onError } from "./http.ts";
import { openContactsStore } from "./store/contacts-store.ts";

export interface ApiConfig {
  /** The IdP's issuer identifier: tokens' `iss` must equal it; its discovery document leads to the keys. */
  issuer: string;
  /** This API's identifier (RFC 8707 resource indicator): tokens' `aud` must contain it. */
  audience: string;
  /** SQLite file for the contacts, or ":memory:". */
  dbPath: string;
  /** Insert alice's and bob's development contacts into a new database. */
  seed?: boolean;
  /** Accepted JWS algorithms; asymmetric only. Default RS256, PS256, ES256, EdDSA. */
  algorithms?: string[];
  /**
   * Accepted `typ` headers. Default ["at+jwt"] (RFC 9068). Only for a provider
   * that does not implement RFC 9068 (Keycloak: ["JWT"]): then an ID token of the
   * same provider has the same `typ`, and only its `aud` keeps it out.
   */
  tokenTypes?: string[];
  /** Allowed clock skew with the IdP for `exp`, `nbf`, in seconds. Default 5. */
  clockToleranceSeconds?: number;
}

export interface ApiDeps {
  /** Every outgoing request (discovery, JWKS) goes through it. Default: globalThis.fetch. */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch. Default: Date.now. */
  now?: () => number;
}

export interface Api {
  app: Hono<AuthEnv>;
  /** Closes the database. */
  close(): void;
}

function checkConfig(config: ApiConfig): void {
  const problems: string[] = [];
  if (!URL.canParse(config.issuer)) problems.push(`issuer must be a URL (got "${config.issuer}")`);
  if (!config.audience) problems.push("audience is missing");
  if (!config.dbPath) problems.push("dbPath is missing");
  const tolerance = config.clockToleranceSeconds;
  if (tolerance !== undefined && !(Number.isFinite(tolerance) && tolerance >= 0)) {
    problems.push("clockToleranceSeconds must be a number >= 0");
  }
  if (problems.length > 0)
    throw new ApiError("invalid_config", `Invalid API configuration: ${problems.join("; ")}.`);
}

/**
 * The contacts API: a protected resource server that accepts RFC 9068 JWT
 * access tokens from one issuer. Never listens and never reads the environment
 * (`server.ts` does); mount `app` anywhere or drive it with `app.request()`.
 *
 * @example
 * const api = createApi({ issuer: "http://127.0.0.1:4000", audience: "http://localhost:4001", dbPath: ":memory:", seed: true });
 * const response = await api.app.request("/contacts", { headers: { authorization: `Bearer ${token}` } });
 */
export function createApi(config: ApiConfig, deps: ApiDeps = {}): Api {
  checkConfig(config);
  const now = deps.now ?? Date.now;

  const verify = createTokenVerifier({
    issuer: config.issuer,
    audience: config.audience,
    algorithms: config.algorithms ?? DEFAULT_ALGORITHMS,
    tokenTypes: config.tokenTypes ?? ["at+jwt"],
    clockToleranceSeconds: config.clockToleranceSeconds ?? 5,
    getKey: createIssuerKeySet({ issuer: config.issuer, fetch: deps.fetch ?? globalThis.fetch, now }),
    now,
  });
  const authenticate = bearerAuth(verify);
  const store = openContactsStore(config.dbPath, { seed: config.seed ?? false, now });

  const app = new Hono<AuthEnv>();
  app.onError(onError((message, error) => console.error(message, error)));
  app.notFound(notFound);

  app.get("/health", (c) => c.json({ status: "ok" }));
  app.all("/health", methodNotAllowed(["GET"]));

  app.get("/me", authenticate, (c) => {
    const { subject, clientId, scopes } = c.var.principal;
    return c.json({ sub: subject, client_id: clientId, scope: [...scopes].join(" ") });
  });
  app.all("/me", methodNotAllowed(["GET"]));

  app.route("/contacts", contactsRoutes(store, authenticate));

  // Aggregates only: a reporting client (client credentials) may call it, so nothing personal.
  app.get("/stats", authenticate, requireScope(SCOPES.stats), (c) => c.json(store.stats()));
  app.all("/stats", methodNotAllowed(["GET"]));

  return { app, close: () => store.close() };
}
