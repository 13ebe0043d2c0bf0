import {
  type AuthEnv,
  bearerAuth,
  checkAlgorithms,
  createIntrospectionVerifier,
  createIssuerKeySet,
  createTokenVerifier,
  DEFAULT_ALGORITHMS,
  MAX_INTROSPECTION_CACHE_SECONDS,
  requireScope,
  type TokenVerifier,
} from "@oidc-bff/resource-server";
import { SCOPES } from "@oidc-bff/shared";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { contactsRoutes, MAX_BODY_BYTES } from "./contacts-routes.ts";
import { ApiError, problemResponse, REALM } from "./errors.ts";
import { methodNotAllowed, notFound, onError } from "./http.ts";
import { openContactsStore } from "./store/contacts-store.ts";

/**
 * How the API validates bearer tokens.
 * - `jwt` (default): RFC 9068 JWT access tokens, checked locally with the
 *   issuer's published keys. Fast, no IdP call per request; a revoked token
 *   is still accepted until it expires.
 * - `introspection`: every token is sent to the IdP's introspection endpoint
 *   (RFC 7662, found by discovery), the API authenticating as its own
 *   confidential client. Works with opaque tokens; a revoked token is refused
 *   at once (unless `cacheSeconds` allows reusing an answer that long).
 */
export type TokenValidation =
  | { mode: "jwt" }
  | {
      mode: "introspection";
      /** The API's client at the IdP, e.g. "contacts-api". */
      clientId: string;
      /** Its secret. From the environment or a file; never logged. */
      clientSecret: string;
      /** Seconds an active answer may be reused, 0-60; default 0 (ask every time). */
      cacheSeconds?: number;
    };

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
  /** JWT validation (default) or token introspection; see TokenValidation. */
  tokenValidation?: TokenValidation;
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
  try {
    checkAlgorithms(config.algorithms ?? DEFAULT_ALGORITHMS);
  } catch (error) {
    problems.push((error as Error).message);
  }
  const tolerance = config.clockToleranceSeconds;
  if (tolerance !== undefined && !(Number.isFinite(tolerance) && tolerance >= 0)) {
    problems.push("clockToleranceSeconds must be a number >= 0");
  }
  const validation = config.tokenValidation;
  if (validation?.mode === "introspection") {
    if (!validation.clientId) problems.push("the introspection client id is missing");
    if (!validation.clientSecret) problems.push("the introspection client secret is missing");
    const cache = validation.cacheSeconds ?? 0;
    if (!(Number.isInteger(cache) && cache >= 0 && cache <= MAX_INTROSPECTION_CACHE_SECONDS)) {
      problems.push(`introspection cacheSeconds must be a whole number 0-${MAX_INTROSPECTION_CACHE_SECONDS}`);
    }
  } else if (validation !== undefined && validation.mode !== "jwt") {
    problems.push(`tokenValidation.mode must be "jwt" or "introspection"`);
  }
  if (problems.length > 0)
    throw new ApiError("invalid_config", `Invalid API configuration: ${problems.join("; ")}.`);
}

function createVerifier(config: ApiConfig, fetch: typeof globalThis.fetch, now: () => number): TokenVerifier {
  const validation = config.tokenValidation ?? { mode: "jwt" };
  const clockToleranceSeconds = config.clockToleranceSeconds ?? 5;
  if (validation.mode === "introspection") {
    return createIntrospectionVerifier({
      issuer: config.issuer,
      audience: config.audience,
      clientId: validation.clientId,
      clientSecret: validation.clientSecret,
      cacheSeconds: validation.cacheSeconds ?? 0,
      clockToleranceSeconds,
      fetch,
      now,
    });
  }
  return createTokenVerifier({
    issuer: config.issuer,
    audience: config.audience,
    algorithms: config.algorithms ?? DEFAULT_ALGORITHMS,
    tokenTypes: config.tokenTypes ?? ["at+jwt"],
    clockToleranceSeconds,
    getKey: createIssuerKeySet({ issuer: config.issuer, fetch, now }),
    now,
  });
}

/**
 * The contacts API: a protected resource server that accepts access tokens
 * from one issuer, RFC 9068 JWTs checked locally or any token introspected
 * at the issuer (`tokenValidation`). Never listens and never reads the environment
 * (`server.ts` does); mount `app` anywhere or drive it with `app.request()`.
 *
 * @example
 * const api = createApi({ issuer: "http://127.0.0.1:4000", audience: "http://localhost:4001", dbPath: ":memory:", seed: true });
 * const response = await api.app.request("/contacts", { headers: { authorization: `Bearer ${token}` } });
 */
export function createApi(config: ApiConfig, deps: ApiDeps = {}): Api {
  checkConfig(config);
  const now = deps.now ?? Date.now;

  const verify = createVerifier(config, deps.fetch ?? globalThis.fetch, now);
  const authenticate = bearerAuth(verify, {
    realm: REALM,
    onRefused: (error) => {
      if (error.code === "idp_unavailable") console.error("api: cannot check tokens with the IdP", error);
    },
  });
  const store = openContactsStore(config.dbPath, { seed: config.seed ?? false, now });

  const app = new Hono<AuthEnv>();
  app.onError(onError((message, error) => console.error(message, error)));
  app.notFound(notFound);
  // Every route, before anything else reads the request: no body is ever read past the limit.
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () =>
        problemResponse(
          new ApiError("payload_too_large", `The body is larger than ${MAX_BODY_BYTES} bytes.`),
        ),
    }),
  );

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
