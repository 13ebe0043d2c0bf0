import { createPrivateKey, type JsonWebKey, type KeyObject, type webcrypto } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";

import { BFF_ROUTES } from "@oidc-bff/shared";

import { BffError } from "./errors.ts";
import { whyCookieSecretIsKnown } from "./known-secrets.ts";
import { LOGIN_COOKIE, LOGOUT_COOKIE, SESSION_COOKIE } from "./session/cookies.ts";

/** The proxy's default request-body limit: what nginx accepts by default (client_max_body_size 1m). */
export const DEFAULT_API_MAX_BODY_BYTES = 1024 * 1024;

const DEFAULT_COOKIE_NAMES = { session: SESSION_COOKIE, login: LOGIN_COOKIE, logout: LOGOUT_COOKIE };

export type BffMode = "development" | "test" | "production";

export const CLIENT_AUTHENTICATION_METHODS = [
  "client_secret_basic",
  "client_secret_post",
  "private_key_jwt",
] as const;
export type ClientAuthenticationMethod = (typeof CLIENT_AUTHENTICATION_METHODS)[number];

/** What `createBff` needs. Everything the BFF knows about the IdP comes from `issuer` by discovery. */
export interface BffConfig {
  /** The OpenID Provider's issuer identifier; discovery at `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  /** A confidential client registered at the provider. */
  clientId: string;
  /** The client's secret, for client_secret_basic and client_secret_post. Not with private_key_jwt. */
  clientSecret?: string;
  /**
   * How the BFF proves it is `clientId` at the token and revocation endpoints (docs/decisions/013):
   * - `"client_secret_basic"` (default): `clientSecret` in HTTP Basic (RFC 6749 §2.3.1);
   * - `"client_secret_post"`: `clientSecret` in the form body, for providers that require it;
   * - `"private_key_jwt"`: no shared secret. Each request carries a short-lived JWT signed with
   *   `clientPrivateKey` (RFC 7523 §2.2, OpenID Connect Core §9); the provider holds only the public key.
   */
  clientAuthentication?: ClientAuthenticationMethod;
  /**
   * private_key_jwt: the BFF's private key, as PKCS#8 PEM text (`-----BEGIN PRIVATE KEY-----`)
   * or a private JWK (an object, or its JSON text). Read it from a file or a secret store,
   * never from source code (`BFF_CLIENT_PRIVATE_KEY_FILE`).
   */
  clientPrivateKey?: string | JsonWebKey;
  /** private_key_jwt: the `kid` the provider knows the public key by. Default: the JWK's `kid`; none for a PEM. */
  clientKeyId?: string;
  /**
   * private_key_jwt: the assertion's algorithm. Default: the JWK's `alg`, else by key type: RS256 for RSA,
   * ES256 / ES384 / ES512 for P-256 / P-384 / P-521, Ed25519 for Ed25519. PS256/384/512 need an RSA key.
   */
  clientSigningAlg?: string;
  /** Registered exactly at the provider; its path must be `/bff/callback`. Its origin is the BFF's own origin. */
  redirectUri: string;
  /** Where the provider sends the browser after logout; registered there too. */
  postLogoutRedirectUri: string;
  /** Where `/api/*` is forwarded: `/api/contacts` → `<apiBaseUrl>/contacts`. */
  apiBaseUrl: string;
  /** Secrets sealing the cookies, each at least 32 characters. The first seals; all unseal (rotation). */
  cookieSecrets: string[];
  /**
   * Names of the BFF's cookies. Default `__Host-bff-session`, `__Host-bff-login` and
   * `__Host-bff-logout` (the minute between logout and the IdP's end-session page).
   * Change them when two BFFs share a host name (cookies ignore ports: two apps on
   * localhost:3000 and localhost:3001 would overwrite each other's). Each must keep
   * the `__Host-` prefix (docs/decisions/003).
   */
  cookieNames?: { session?: string; login?: string; logout?: string };
  /** Space-separated scopes of the first login. Default DEFAULT_SCOPES (OpenID scopes only). */
  scopes?: string;
  /**
   * Scopes a page may add later, with `/bff/login?scope=…` (incremental
   * authorization): the person is asked to consent to just those, and the new
   * session holds them on top of what it had. Space-separated. Default none.
   */
  additionalScopes?: string;
  /**
   * RFC 8707 resource indicator of the API. When set, the API's access token is
   * obtained by a refresh with `resource` (docs/decisions/002). Leave unset for
   * providers without resource indicators: the code-exchange token is then the API token.
   */
  resource?: string;
  /**
   * Auth0's API identifier: sent as `audience` on the authorization request, so that the
   * code exchange already yields the API's access token (no refresh at login). Not with `resource`.
   */
  audience?: string;
  /**
   * Microsoft Entra ID's way: the API's scopes (`api://<app-id>/contacts.read`), asked for at
   * authorization (one consent), left out of the code exchange (whose token must reach the Graph
   * userinfo endpoint), then requested by a refresh with `scope` as the API's token, like `resource`
   * (docs/decisions/010). Space-separated. Not with `resource` or `audience`.
   */
  apiScopes?: string;
  /**
   * Extra parameters of every authorization request, e.g. Google's
   * `{ access_type: "offline", prompt: "consent" }` for a refresh token. A `prompt` the
   * login route is asked for wins over one here. Protocol parameters the BFF sets itself
   * (state, nonce, scope, redirect_uri, …) are refused.
   */
  authorizationParams?: Record<string, string>;
  /** The only algorithm accepted for ID token signatures. Default RS256 (OpenID Connect Core §15.1). */
  idTokenSigningAlg?: string;
  /** Default "production", the strictest. */
  mode?: BffMode;
  /** The session ends this long after login, whatever happens. Default 12 h. */
  sessionAbsoluteLifetimeSeconds?: number;
  /** The session ends after this long without a request. Default 1 h. */
  sessionIdleTimeoutSeconds?: number;
  /** Refresh the access token when it expires within this many seconds. Default 30. */
  refreshLeewaySeconds?: number;
  /** How long the proxy waits for the API's response headers. Default 10000. */
  apiTimeoutMs?: number;
  /**
   * The largest request body the proxy forwards to the API, in bytes. Bodies stream through;
   * one that grows past this is cut off and answered 413. Default 1 MiB.
   */
  apiMaxBodyBytes?: number;
  /**
   * The API calls the proxy forwards, as paths under `/api` with their methods:
   * `[{ path: "/contacts", methods: ["GET", "POST"] }, { path: "/contacts/*", methods: ["DELETE"] }]`
   * (`*` stands for one path segment). Anything else is answered by the BFF
   * itself: 404 for another path, 405 for another method. Default: every path
   * and method (the API decides).
   */
  apiRoutes?: ApiRoute[];
  /** A built SPA to serve (static files, index.html fallback). */
  spaDir?: string;
  /**
   * Adds claims to `user` in GET /bff/session, from the validated ID token and
   * UserInfo claims: `({ idToken }) => ({ roles: idToken.roles ?? [] })`.
   * By default `user` has `sub` and the standard profile claims only; anything
   * else the provider sends stays on the server. The hook cannot change `sub`.
   * It runs on every session request: keep it fast and free of I/O.
   */
  mapUserClaims?: MapUserClaims;
  /**
   * Lets the BFF talk to an issuer over plain http — only on a loopback host,
   * only outside production. For a local IdP during development and tests.
   * Tokens and the client secret travel unencrypted: never anywhere else.
   */
  dangerouslyAllowInsecureHttpIssuer?: boolean;
  /**
   * Records, per session, a redacted log of the protocol steps the BFF performs
   * and serves it at `GET /bff/inspector` for the SPA's Inspector page
   * (inspector/flow-log.ts). A development aid: refused in production mode. Default off.
   */
  flowInspector?: boolean;
  /**
   * Mounts /bff/test/* (routes/test-controls.ts), which let an end-to-end suite
   * expire the session's access token or revoke its refresh token. Refused in
   * production mode.
   */
  dangerouslyEnableTestControls?: boolean;
}

export type MapUserClaims = (claims: {
  idToken: Readonly<Record<string, unknown>>;
  userinfo: Readonly<Record<string, unknown>>;
}) => Record<string, unknown>;

export interface ApiRoute {
  path: string;
  methods: string[];
  /**
   * Scopes the session must hold for this route. Without them the BFF answers
   * 403 `insufficient_scope` naming the first one missing, and sends nothing to
   * the API. The API still enforces its own scopes: this only saves the trip
   * and lets the page ask for the scope (incremental authorization).
   */
  scopes?: string[];
  /**
   * Where this route is forwarded, instead of `apiBaseUrl`: one API split over
   * several services. They receive the same access token, so they must all be
   * the one audience the BFF asks for (`resource`/`audience`): a token for one
   * API is never sent to another. https, or http on this machine.
   */
  upstream?: string;
}

/**
 * Who the person is, and a refresh token. API scopes are the application's to
 * add (`scopes`, `additionalScopes`): the BFF knows nothing about any API.
 */
export const DEFAULT_SCOPES = "openid profile email offline_access";

/**
 * What each option left unset means: the one place for the code below and for
 * the defaults docs/configuration.md shows (BFF_VARIABLES in env.ts).
 */
export const CONFIG_DEFAULTS = {
  mode: "production",
  clientAuthentication: "client_secret_basic",
  scopes: DEFAULT_SCOPES,
  idTokenSigningAlg: "RS256",
  sessionAbsoluteLifetimeSeconds: 12 * 3600,
  sessionIdleTimeoutSeconds: 3600,
  refreshLeewaySeconds: 30,
  apiTimeoutMs: 10_000,
  apiMaxBodyBytes: DEFAULT_API_MAX_BODY_BYTES,
} as const satisfies Partial<BffConfig>;

/** How the BFF authenticates to the provider, ready to use: the secret, or a non-extractable signing key. */
export type ResolvedClientAuthentication =
  | { method: "client_secret_basic" | "client_secret_post"; clientSecret: string }
  | {
      method: "private_key_jwt";
      privateKey: webcrypto.CryptoKey;
      keyId: string | undefined;
      alg: ClientSigningAlg;
    };

/**
 * The algorithms a client assertion can be signed with: each with the key it needs and its Web
 * Crypto parameters (oauth4webapi names the `alg` after the CryptoKey's algorithm). No HS*: a
 * shared secret is what private_key_jwt does away with. `namedCurve` as Node reports it.
 */
const CLIENT_SIGNING_ALGS = {
  RS256: { keyType: "rsa", subtle: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } },
  RS384: { keyType: "rsa", subtle: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" } },
  RS512: { keyType: "rsa", subtle: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" } },
  PS256: { keyType: "rsa", subtle: { name: "RSA-PSS", hash: "SHA-256" } },
  PS384: { keyType: "rsa", subtle: { name: "RSA-PSS", hash: "SHA-384" } },
  PS512: { keyType: "rsa", subtle: { name: "RSA-PSS", hash: "SHA-512" } },
  ES256: { keyType: "ec", namedCurve: "prime256v1", subtle: { name: "ECDSA", namedCurve: "P-256" } },
  ES384: { keyType: "ec", namedCurve: "secp384r1", subtle: { name: "ECDSA", namedCurve: "P-384" } },
  ES512: { keyType: "ec", namedCurve: "secp521r1", subtle: { name: "ECDSA", namedCurve: "P-521" } },
  Ed25519: { keyType: "ed25519", subtle: { name: "Ed25519" } },
} as const;
export type ClientSigningAlg = keyof typeof CLIENT_SIGNING_ALGS;

const isClientSigningAlg = (value: unknown): value is ClientSigningAlg =>
  typeof value === "string" && Object.hasOwn(CLIENT_SIGNING_ALGS, value);

/** RFC 7518 §3.3: RSA keys for RS256…PS512 are 2048 bits or more. */
const MIN_RSA_BITS = 2048;

type KeyProblem = { field: keyof BffConfig; message: string };

/**
 * `clientPrivateKey` as a KeyObject, or why it is not one. Messages never quote the value:
 * it is the key, or a mistake close to it.
 */
function readClientPrivateKey(value: unknown): { key: KeyObject; jwk?: JsonWebKey } | KeyProblem {
  const problem = (message: string): KeyProblem => ({ field: "clientPrivateKey", message });
  let jwk: unknown = value;
  if (typeof value === "string") {
    if (value.trimStart().startsWith("{")) {
      try {
        jwk = JSON.parse(value);
      } catch {
        return problem("looks like a JWK but is not valid JSON");
      }
    } else if (value.includes("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
      return problem("is an encrypted PKCS#8 key: store it unencrypted, in a file only the BFF can read");
    } else if (!value.includes("-----BEGIN PRIVATE KEY-----")) {
      return problem(
        "must be a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----) or a private JWK; convert another PEM form with `openssl pkcs8 -topk8 -nocrypt`",
      );
    } else {
      try {
        return { key: createPrivateKey({ key: value, format: "pem" }) };
      } catch {
        return problem("is not a readable PKCS#8 PEM private key");
      }
    }
  }
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) {
    return problem("is required with private_key_jwt: a PKCS#8 PEM private key or a private JWK");
  }
  const candidate = jwk as JsonWebKey;
  if (candidate.kty === "oct")
    return problem("is a symmetric key: private_key_jwt needs an asymmetric key pair");
  if (candidate.d === undefined) {
    return problem(
      'is a public JWK: the BFF needs the private key (with "d"); the provider gets the public one',
    );
  }
  try {
    return { key: createPrivateKey({ key: candidate, format: "jwk" }), jwk: candidate };
  } catch {
    return problem("is not a usable private JWK (RSA, EC P-256/384/521 or Ed25519)");
  }
}

/**
 * The private_key_jwt settings as a signing key, `kid` and algorithm, or the first thing wrong with
 * them. The algorithm must fit the key: oauth4webapi takes the `alg` from the key it is given.
 */
function clientSigningKey(
  config: BffConfig,
): { privateKey: webcrypto.CryptoKey; keyId: string | undefined; alg: ClientSigningAlg } | KeyProblem {
  const read = readClientPrivateKey(config.clientPrivateKey);
  if ("message" in read) return read;
  const { key, jwk } = read;

  const wanted = config.clientSigningAlg ?? jwk?.alg;
  if (
    config.clientSigningAlg !== undefined &&
    jwk?.alg !== undefined &&
    jwk.alg !== config.clientSigningAlg
  ) {
    return {
      field: "clientSigningAlg",
      message: `is "${config.clientSigningAlg}" but the JWK says "${jwk.alg}": remove one`,
    };
  }
  const keyType = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const byKeyType: Record<string, ClientSigningAlg | undefined> = {
    rsa: "RS256",
    ed25519: "Ed25519",
    ...(curve === "prime256v1" ? { ec: "ES256" } : {}),
    ...(curve === "secp384r1" ? { ec: "ES384" } : {}),
    ...(curve === "secp521r1" ? { ec: "ES512" } : {}),
  };
  const alg = wanted ?? byKeyType[keyType ?? ""];
  if (alg === undefined) {
    return {
      field: "clientPrivateKey",
      message: `is a ${keyType ?? "unknown"}${curve ? ` (${curve})` : ""} key: use RSA, EC P-256/384/521 or Ed25519`,
    };
  }
  if (!isClientSigningAlg(alg)) {
    return {
      field: "clientSigningAlg",
      message: `must be one of ${Object.keys(CLIENT_SIGNING_ALGS).join(", ")} (got "${String(alg)}"${config.clientSigningAlg === undefined ? ", the JWK's alg" : ""})`,
    };
  }
  const spec = CLIENT_SIGNING_ALGS[alg];
  if (spec.keyType !== keyType || ("namedCurve" in spec && spec.namedCurve !== curve)) {
    return {
      field: "clientSigningAlg",
      message: `${alg} does not fit the key in clientPrivateKey (a ${keyType ?? "unknown"}${curve ? ` ${curve}` : ""} key)`,
    };
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (keyType === "rsa" && (bits ?? 0) < MIN_RSA_BITS) {
    return {
      field: "clientPrivateKey",
      message: `is an RSA key of ${bits} bits; at least ${MIN_RSA_BITS} are needed`,
    };
  }

  const keyId = config.clientKeyId ?? jwk?.kid;
  if (keyId !== undefined && (typeof keyId !== "string" || keyId.trim() === "")) {
    return { field: "clientKeyId", message: "must be a non-empty string" };
  }
  if (config.clientKeyId !== undefined && jwk?.kid !== undefined && jwk.kid !== config.clientKeyId) {
    return {
      field: "clientKeyId",
      message: `is "${config.clientKeyId}" but the JWK's kid is "${jwk.kid}": remove one`,
    };
  }
  // Non-extractable: once resolved, the key can sign and nothing else, not even be read back.
  return { privateKey: key.toCryptoKey(spec.subtle, false, ["sign"]), keyId, alg };
}

/** The configured client authentication, ready to use (validateConfig has accepted the configuration). */
function resolveClientAuthentication(config: BffConfig): ResolvedClientAuthentication {
  const method = config.clientAuthentication ?? CONFIG_DEFAULTS.clientAuthentication;
  if (method !== "private_key_jwt") return { method, clientSecret: config.clientSecret ?? "" };
  const signing = clientSigningKey(config);
  if ("message" in signing) throw new BffError("invalid_config", `${signing.field} ${signing.message}`);
  return { method, ...signing };
}

/** The configuration after validation, with defaults applied and URLs parsed. */
export interface ResolvedBffConfig {
  issuer: URL;
  clientId: string;
  clientAuthentication: ResolvedClientAuthentication;
  redirectUri: string;
  postLogoutRedirectUri: string;
  apiBaseUrl: URL;
  cookieSecrets: string[];
  cookieNames: { session: string; login: string; logout: string };
  scopes: string[];
  additionalScopes: string[];
  resource: string | undefined;
  audience: string | undefined;
  /** Empty unless the API's token is asked for by scope (Entra). */
  apiScopes: string[];
  authorizationParams: Record<string, string>;
  /** The issuer exactly as configured: discovery must name this very string (never normalized). */
  issuerIdentifier: string;
  idTokenSigningAlg: string;
  mode: BffMode;
  sessionAbsoluteLifetimeSeconds: number;
  sessionIdleTimeoutSeconds: number;
  refreshLeewaySeconds: number;
  apiTimeoutMs: number;
  apiMaxBodyBytes: number;
  apiRoutes: ApiRoute[] | undefined;
  spaDir: string | undefined;
  mapUserClaims: MapUserClaims | undefined;
  allowInsecureHttpIssuer: boolean;
  flowInspector: boolean;
  testControls: boolean;
  /** The origin the browser sees the BFF on (from redirectUri): CSRF checks compare `Origin` with it. */
  ownOrigin: string;
}

export interface ConfigProblem {
  field: keyof BffConfig;
  message: string;
}

/**
 * Parameters of the authorization request that the BFF sets itself, or that change how the
 * answer comes back (`response_mode=form_post` would POST to a GET-only callback): never from
 * `authorizationParams`. `resource` and `audience` have their own options, which also shape the
 * token requests.
 */
export const RESERVED_AUTHORIZATION_PARAMS = new Set([
  "client_id",
  "client_secret",
  "redirect_uri",
  "response_type",
  "response_mode",
  "scope",
  "state",
  "nonce",
  "code_challenge",
  "code_challenge_method",
  "request",
  "request_uri",
  "resource",
  "audience",
]);

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
const MODES: BffMode[] = ["development", "test", "production"];
export const MIN_COOKIE_SECRET_LENGTH = 32;

function httpUrl(value: unknown): URL | undefined {
  if (typeof value !== "string") return undefined;
  const url = URL.parse(value);
  return url && (url.protocol === "http:" || url.protocol === "https:") ? url : undefined;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

/**
 * Every problem with a configuration, each naming its field. Empty when the
 * configuration is usable. `server.ts` maps the fields to environment variables.
 */
export function validateConfig(config: BffConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (field: keyof BffConfig, message: string) => problems.push({ field, message });

  const mode = config.mode ?? CONFIG_DEFAULTS.mode;
  if (!MODES.includes(mode)) add("mode", `must be one of ${MODES.join(", ")} (got "${String(mode)}")`);
  // The protocol log names endpoints, claims and personal data: a development aid, never in production.
  if (config.flowInspector === true && mode === "production") {
    add("flowInspector", "is a development aid and is refused in production mode");
  }

  // An https URL, or http on a loopback host: OAuth 2.0 Security BCP (RFC 9700) §2.6, RFC 8252 §8.3.
  const secureOrLoopback = (field: keyof BffConfig, value: unknown): URL | undefined => {
    const url = httpUrl(value);
    if (!url) {
      add(field, `must be an absolute http(s) URL (got "${String(value ?? "")}")`);
      return undefined;
    }
    if (url.hash) add(field, "must not have a fragment");
    if (url.protocol === "http:" && !LOOPBACK_HOSTS.has(url.hostname)) {
      add(field, "must use https (http is only allowed on localhost / 127.0.0.1 / [::1])");
    }
    return url;
  };

  const issuer = httpUrl(config.issuer);
  if (!issuer) add("issuer", `must be an absolute http(s) URL (got "${String(config.issuer ?? "")}")`);
  else {
    if (issuer.search || issuer.hash) add("issuer", "must have no query and no fragment");
    if (issuer.protocol === "http:") {
      // OpenID Connect Discovery §4.3 needs the exact issuer; over http anyone on the
      // path could impersonate it. Only a local development IdP may use it.
      if (mode === "production") add("issuer", "must use https in production mode");
      else if (!LOOPBACK_HOSTS.has(issuer.hostname)) add("issuer", "http is only allowed on a loopback host");
      else if (config.dangerouslyAllowInsecureHttpIssuer !== true) {
        add("issuer", "uses http: set dangerouslyAllowInsecureHttpIssuer (development and tests only)");
      }
    }
  }

  if (config.dangerouslyEnableTestControls === true && mode === "production") {
    add("dangerouslyEnableTestControls", "is for end-to-end tests and is refused in production mode");
  }

  if (typeof config.clientId !== "string" || config.clientId === "") add("clientId", "is required");
  validateClientAuthentication(config, add);

  const redirect = secureOrLoopback("redirectUri", config.redirectUri);
  if (redirect && redirect.pathname !== BFF_ROUTES.callback) {
    add(
      "redirectUri",
      `must end in ${BFF_ROUTES.callback}, the BFF's callback route (got "${redirect.pathname}")`,
    );
  }
  if (redirect?.search) add("redirectUri", "must have no query");
  secureOrLoopback("postLogoutRedirectUri", config.postLogoutRedirectUri);

  // The access token travels to the API: https, or http on this machine only.
  const api = secureOrLoopback("apiBaseUrl", config.apiBaseUrl);
  if (api && (api.search || api.username || api.password)) {
    add("apiBaseUrl", "must have no query or credentials");
  }

  if (!Array.isArray(config.cookieSecrets) || config.cookieSecrets.length === 0) {
    add("cookieSecrets", "at least one secret is required");
  } else {
    config.cookieSecrets.forEach((secret, index) => {
      if (typeof secret !== "string" || secret.length < MIN_COOKIE_SECRET_LENGTH) {
        add(
          "cookieSecrets",
          `secret #${index + 1} must be at least ${MIN_COOKIE_SECRET_LENGTH} characters (has ${typeof secret === "string" ? secret.length : 0})`,
        );
        return;
      }
      // A published or placeholder secret lets anyone who read it forge sessions (known-secrets.ts).
      const known = mode === "production" ? whyCookieSecretIsKnown(secret) : undefined;
      if (known)
        add("cookieSecrets", `secret #${index + 1} ${known}: generate one (openssl rand -base64 32)`);
    });
    if (new Set(config.cookieSecrets).size !== config.cookieSecrets.length) {
      add("cookieSecrets", "secrets must be different from each other");
    }
  }

  const names = { ...DEFAULT_COOKIE_NAMES, ...config.cookieNames };
  for (const name of Object.values(names)) {
    // RFC 6265 token characters only; __Host- keeps other hosts from setting or shadowing it.
    // Not ending in -<digits>: the session's extra parts are named <session>-1, -2 (docs/decisions/007).
    if (typeof name !== "string" || !/^__Host-[A-Za-z0-9_.-]{1,40}$/.test(name) || /-\d+$/.test(name)) {
      add(
        "cookieNames",
        `"${String(name)}" must start with __Host- and use only letters, digits, ".", "_" and "-"`,
      );
    }
  }
  const others = [names.login, names.logout];
  if (
    new Set([names.session, ...others]).size !== 3 ||
    others.some((name) => name.startsWith(`${names.session}-`))
  ) {
    add(
      "cookieNames",
      "the session, login and logout cookies need different names (and session chunks use <session>-1, -2)",
    );
  }

  const alg = config.idTokenSigningAlg ?? CONFIG_DEFAULTS.idTokenSigningAlg;
  if (!/^(RS|PS|ES)(256|384|512)$|^EdDSA$/.test(alg)) {
    add("idTokenSigningAlg", `must be an asymmetric JWS algorithm such as RS256 (got "${alg}")`);
  }

  const scopes = (config.scopes ?? CONFIG_DEFAULTS.scopes).split(" ").filter(Boolean);
  if (!scopes.includes("openid")) add("scopes", 'must include "openid" (this is an OpenID Connect client)');

  if (config.resource !== undefined) {
    const resource = URL.parse(config.resource);
    // RFC 8707 §2: an absolute URI without a fragment.
    if (!resource || resource.hash) add("resource", "must be an absolute URI without a fragment");
  }
  if (
    config.audience !== undefined &&
    (typeof config.audience !== "string" || config.audience.trim() === "")
  ) {
    add("audience", "must be the API's identifier at the provider (a non-empty string)");
  }
  if (config.apiScopes !== undefined) {
    const apiScopes = typeof config.apiScopes === "string" ? config.apiScopes.split(" ").filter(Boolean) : [];
    if (apiScopes.length === 0) add("apiScopes", "must name at least one scope of the API");
    if (apiScopes.some((scope) => ["openid", "offline_access", "profile", "email"].includes(scope))) {
      add(
        "apiScopes",
        "must name only the API's scopes (openid, profile, email, offline_access belong in scopes)",
      );
    }
  }
  // One way of asking for the API's token: two would ask the provider for two audiences at once.
  const apiTokenOptions = (["resource", "audience", "apiScopes"] as const).filter(
    (field) => config[field] !== undefined,
  );
  if (apiTokenOptions.length > 1) {
    add(
      apiTokenOptions[1] ?? "audience",
      `cannot be combined with ${apiTokenOptions[0]}: choose one way to ask for the API's token`,
    );
  }
  for (const [name, value] of Object.entries(config.authorizationParams ?? {})) {
    if (RESERVED_AUTHORIZATION_PARAMS.has(name)) {
      add("authorizationParams", `must not set "${name}": the BFF sets it itself or it has its own option`);
    } else if (!/^[\w.-]+$/.test(name) || typeof value !== "string") {
      add("authorizationParams", `"${name}" must be a parameter name with a string value`);
    }
  }

  const absolute = config.sessionAbsoluteLifetimeSeconds ?? CONFIG_DEFAULTS.sessionAbsoluteLifetimeSeconds;
  const idle = config.sessionIdleTimeoutSeconds ?? CONFIG_DEFAULTS.sessionIdleTimeoutSeconds;
  if (!isPositiveInteger(absolute)) add("sessionAbsoluteLifetimeSeconds", "must be a positive whole number");
  if (!isPositiveInteger(idle)) add("sessionIdleTimeoutSeconds", "must be a positive whole number");
  else if (isPositiveInteger(absolute) && idle > absolute) {
    add("sessionIdleTimeoutSeconds", "must not exceed sessionAbsoluteLifetimeSeconds");
  }
  const leeway = config.refreshLeewaySeconds ?? CONFIG_DEFAULTS.refreshLeewaySeconds;
  if (!(Number.isSafeInteger(leeway) && leeway >= 0))
    add("refreshLeewaySeconds", "must be a whole number >= 0");
  if (!isPositiveInteger(config.apiTimeoutMs ?? CONFIG_DEFAULTS.apiTimeoutMs))
    add("apiTimeoutMs", "must be a positive whole number");
  if (!isPositiveInteger(config.apiMaxBodyBytes ?? CONFIG_DEFAULTS.apiMaxBodyBytes))
    add("apiMaxBodyBytes", "must be a positive whole number");

  for (const route of config.apiRoutes ?? []) {
    if (typeof route.path !== "string" || !route.path.startsWith("/")) {
      add("apiRoutes", `each path must start with "/" (got "${String(route.path)}")`);
    }
    if (!Array.isArray(route.methods) || route.methods.length === 0) {
      add("apiRoutes", `route ${String(route.path)} needs at least one method`);
    }
    if (
      route.scopes !== undefined &&
      (!Array.isArray(route.scopes) ||
        route.scopes.some((scope) => typeof scope !== "string" || !/^\S+$/.test(scope)))
    ) {
      add("apiRoutes", `route ${String(route.path)}: scopes must be a list of scope names`);
    }
    if (route.upstream !== undefined) {
      const upstream = secureOrLoopback("apiRoutes", route.upstream);
      if (upstream && (upstream.search || upstream.username || upstream.password)) {
        add("apiRoutes", `route ${String(route.path)}: upstream must have no query or credentials`);
      }
    }
  }

  if (config.spaDir !== undefined && !existsSync(join(config.spaDir, "index.html"))) {
    add("spaDir", `must be a directory holding index.html (looked in "${config.spaDir}")`);
  }

  return problems;
}

/** One way to authenticate, with exactly the settings it uses: a leftover secret or key is a mistake. */
function validateClientAuthentication(
  config: BffConfig,
  add: (field: keyof BffConfig, message: string) => void,
): void {
  const method = config.clientAuthentication ?? CONFIG_DEFAULTS.clientAuthentication;
  if (!CLIENT_AUTHENTICATION_METHODS.includes(method)) {
    add(
      "clientAuthentication",
      `must be one of ${CLIENT_AUTHENTICATION_METHODS.join(", ")} (got "${String(method)}")`,
    );
    return;
  }
  const hasSecret = config.clientSecret !== undefined && config.clientSecret !== "";
  if (method === "private_key_jwt") {
    if (hasSecret) {
      add("clientSecret", "must not be set with private_key_jwt: the private key replaces the shared secret");
    }
    const signing = clientSigningKey(config);
    if ("message" in signing) add(signing.field, signing.message);
    return;
  }
  if (typeof config.clientSecret !== "string" || !hasSecret) add("clientSecret", `is required (${method})`);
  for (const field of ["clientPrivateKey", "clientKeyId", "clientSigningAlg"] as const) {
    if (config[field] !== undefined) {
      add(field, `is only used with private_key_jwt (the client authentication is ${method})`);
    }
  }
}

/**
 * Validates a configuration and applies the defaults, or throws one
 * `BffError("invalid_config")` that lists every problem.
 */
export function resolveConfig(config: BffConfig): ResolvedBffConfig {
  const problems = validateConfig(config);
  if (problems.length > 0) {
    throw new BffError(
      "invalid_config",
      `Invalid BFF configuration:\n  - ${problems.map((p) => `${p.field} ${p.message}`).join("\n  - ")}`,
    );
  }
  const mode = config.mode ?? CONFIG_DEFAULTS.mode;
  const issuer = new URL(config.issuer);
  return {
    issuer,
    clientId: config.clientId,
    clientAuthentication: resolveClientAuthentication(config),
    redirectUri: config.redirectUri,
    postLogoutRedirectUri: config.postLogoutRedirectUri,
    apiBaseUrl: new URL(config.apiBaseUrl),
    cookieSecrets: [...config.cookieSecrets],
    cookieNames: { ...DEFAULT_COOKIE_NAMES, ...config.cookieNames },
    scopes: (config.scopes ?? CONFIG_DEFAULTS.scopes).split(" ").filter(Boolean),
    additionalScopes: (config.additionalScopes ?? "").split(" ").filter(Boolean),
    resource: config.resource,
    audience: config.audience,
    apiScopes: config.apiScopes?.split(" ").filter(Boolean) ?? [],
    authorizationParams: { ...config.authorizationParams },
    issuerIdentifier: config.issuer,
    idTokenSigningAlg: config.idTokenSigningAlg ?? CONFIG_DEFAULTS.idTokenSigningAlg,
    mode,
    sessionAbsoluteLifetimeSeconds:
      config.sessionAbsoluteLifetimeSeconds ?? CONFIG_DEFAULTS.sessionAbsoluteLifetimeSeconds,
    sessionIdleTimeoutSeconds: config.sessionIdleTimeoutSeconds ?? CONFIG_DEFAULTS.sessionIdleTimeoutSeconds,
    refreshLeewaySeconds: config.refreshLeewaySeconds ?? CONFIG_DEFAULTS.refreshLeewaySeconds,
    apiTimeoutMs: config.apiTimeoutMs ?? CONFIG_DEFAULTS.apiTimeoutMs,
    apiMaxBodyBytes: config.apiMaxBodyBytes ?? CONFIG_DEFAULTS.apiMaxBodyBytes,
    apiRoutes: config.apiRoutes?.map((route) => ({
      path: route.path,
      methods: route.methods.map((method) => method.toUpperCase()),
      ...(route.scopes?.length ? { scopes: [...route.scopes] } : {}),
      ...(route.upstream ? { upstream: route.upstream } : {}),
    })),
    spaDir: config.spaDir,
    mapUserClaims: config.mapUserClaims,
    allowInsecureHttpIssuer: issuer.protocol === "http:",
    flowInspector: config.flowInspector === true,
    testControls: config.dangerouslyEnableTestControls === true,
    ownOrigin: new URL(config.redirectUri).origin,
  };
}
