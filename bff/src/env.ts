import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";

import { DEFAULT_LOCAL_SYSTEM, type EnvVariable, variableReader } from "@oidc-bff/shared";

import { BFF_ROUTE_MAX_BODY_BYTES } from "./body-limit.ts";
import {
  type BffConfig,
  type BffMode,
  CLIENT_AUTHENTICATION_METHODS,
  type ClientAuthenticationMethod,
  CONFIG_DEFAULTS,
  MIN_COOKIE_SECRET_LENGTH,
  validateConfig,
} from "./config.ts";
import { BffError } from "./errors.ts";

export interface BffServerSettings {
  config: BffConfig;
  host: string;
  port: number;
  /** Shared session store for several BFF processes or machines. */
  redisUrl: string | undefined;
  /** A SQLite file as session store: one machine, survives restarts. Ignored when redisUrl is set. */
  sessionDbPath: string | undefined;
  /** BFF_DANGEROUSLY_ALLOW_REDIS_WITHOUT_PERSISTENCE: start in production on a Redis that keeps nothing on disk. */
  allowRedisWithoutPersistence: boolean;
  /** One log line per request (BFF_ACCESS_LOG). */
  accessLog: boolean;
}

/** Options only code can set: a function, a nested object. */
type CodeOnlyOption = "mapUserClaims" | "cookieNames";
const CODE_ONLY = new Set<keyof BffConfig>(["mapUserClaims", "cookieNames"]);

/** The whole system's BFF port on one machine (shared/src/local-system.ts). */
export const DEFAULT_PORT = DEFAULT_LOCAL_SYSTEM.ports.bff;
export const DEFAULT_HOST = "localhost";

/** A BFF variable; `option` is the `createBff` option it sets, named in validation messages. */
export interface BffVariable extends EnvVariable {
  readonly option?: Exclude<keyof BffConfig, CodeOnlyOption>;
}

/**
 * Every variable the BFF reads: `bffSettingsFromEnvironment` reads these names
 * only, and docs/configuration.md is rendered from this list (`pnpm docs:env`).
 */
export const BFF_VARIABLES = [
  {
    name: "BFF_ISSUER",
    option: "issuer",
    meaning: "the provider's issuer URL; discovery at `<issuer>/.well-known/openid-configuration`",
    notes:
      "Required. Must equal the `issuer` of the discovery document exactly (a trailing slash counts). `https` in production mode.",
  },
  {
    name: "BFF_CLIENT_ID",
    option: "clientId",
    meaning: "the BFF's confidential client at the provider",
    notes: "Required.",
  },
  {
    name: "BFF_CLIENT_SECRET",
    option: "clientSecret",
    meaning: "the client's secret, for `client_secret_basic` and `client_secret_post`",
    notes: "Required, except with `private_key_jwt`, where it must not be set.",
  },
  {
    name: "BFF_CLIENT_AUTHENTICATION",
    option: "clientAuthentication",
    meaning: "how the BFF authenticates to the provider's token and revocation endpoints",
    default: CONFIG_DEFAULTS.clientAuthentication,
    notes: `One of ${CLIENT_AUTHENTICATION_METHODS.map((method) => `\`${method}\``).join(", ")}. \`private_key_jwt\` takes BFF_CLIENT_PRIVATE_KEY_FILE, BFF_CLIENT_KEY_ID, BFF_CLIENT_SIGNING_ALG and no secret ([providers.md](providers.md#client-authentication)).`,
  },
  {
    name: "BFF_CLIENT_PRIVATE_KEY_FILE",
    option: "clientPrivateKey",
    meaning: "a file holding the `private_key_jwt` key: PKCS#8 PEM, or a private JWK's JSON",
    notes:
      "From a file only: a value in the environment is visible to every child process and in crash reports. In production mode a file other users may read is refused (`chmod 600`).",
  },
  {
    name: "BFF_CLIENT_PRIVATE_KEY",
    meaning: "nothing: the key is not read from the environment",
    notes:
      "Set, it stops the BFF with a message: put the key in a file and name it in BFF_CLIENT_PRIVATE_KEY_FILE.",
  },
  {
    name: "BFF_CLIENT_KEY_ID",
    option: "clientKeyId",
    meaning: "`private_key_jwt`: the `kid` the provider knows the public key by",
    default: { described: "the JWK's `kid`; none for a PEM" },
  },
  {
    name: "BFF_CLIENT_SIGNING_ALG",
    option: "clientSigningAlg",
    meaning: "`private_key_jwt`: the client assertion's algorithm",
    default: { described: "the JWK's `alg`, else by key type (RSA: RS256, P-256: ES256, Ed25519: Ed25519)" },
    notes: "PS256, PS384 and PS512 need an RSA key.",
  },
  {
    name: "BFF_REDIRECT_URI",
    option: "redirectUri",
    meaning: "the BFF's callback, registered exactly at the provider; its origin is the BFF's own origin",
    notes:
      "Required. The path must be `/bff/callback`: `http://localhost:3000/bff/callback` on one laptop, your public address behind a balancer.",
  },
  {
    name: "BFF_POST_LOGOUT_REDIRECT_URI",
    option: "postLogoutRedirectUri",
    meaning:
      "where the provider sends the browser after logout; registered there as a post-logout redirect URI",
    notes: "Required, e.g. `http://localhost:3000/`.",
  },
  {
    name: "BFF_API_BASE_URL",
    option: "apiBaseUrl",
    meaning: "where `/api/*` is forwarded: `/api/contacts` goes to `<BFF_API_BASE_URL>/contacts`",
    notes: "Required.",
  },
  {
    name: "BFF_COOKIE_SECRETS",
    option: "cookieSecrets",
    meaning:
      "secrets sealing the cookies, comma-separated, newest first: the first seals, all unseal (rotation)",
    notes: `Required; each at least ${MIN_COOKIE_SECRET_LENGTH} characters. In production mode a published or placeholder secret is refused (\`openssl rand -base64 32\` makes one).`,
  },
  {
    name: "BFF_SCOPES",
    option: "scopes",
    meaning: "space-separated scopes of the first login",
    default: CONFIG_DEFAULTS.scopes,
    notes: "Must include `openid`. The embedded system adds `contacts:read`.",
  },
  {
    name: "BFF_ADDITIONAL_SCOPES",
    option: "additionalScopes",
    meaning:
      "scopes a page may add later with `/bff/login?scope=…` (incremental authorization), space-separated",
    notes: "The embedded system offers `contacts:write`.",
  },
  {
    name: "BFF_RESOURCE",
    option: "resource",
    meaning: "the API's RFC 8707 resource indicator: its access token comes from a refresh with `resource`",
    notes:
      "Leave unset for providers without resource indicators. One of BFF_RESOURCE, BFF_AUDIENCE, BFF_API_SCOPES at most.",
  },
  {
    name: "BFF_AUDIENCE",
    option: "audience",
    meaning: "the API's identifier, sent as `audience` on the authorization request (Auth0)",
    notes: "Instead of BFF_RESOURCE ([providers.md](providers.md)).",
  },
  {
    name: "BFF_API_SCOPES",
    option: "apiScopes",
    meaning:
      "the API's scopes, asked for at login and then as the API's token by a refresh (Microsoft Entra ID)",
    notes:
      "Space-separated, e.g. `api://<app-id>/contacts.read`; not `openid`, `profile`, `email`, `offline_access`. Instead of BFF_RESOURCE ([providers.md](providers.md)).",
  },
  {
    name: "BFF_AUTHORIZATION_PARAMS",
    option: "authorizationParams",
    meaning: "extra authorization request parameters, in query form",
    notes:
      "E.g. Google's `access_type=offline&prompt=consent`. A name given twice, or a parameter the BFF sets itself (`state`, `nonce`, `scope`, …), is refused.",
  },
  {
    name: "BFF_ID_TOKEN_SIGNING_ALG",
    option: "idTokenSigningAlg",
    meaning: "the only algorithm accepted for ID tokens and logout tokens",
    default: CONFIG_DEFAULTS.idTokenSigningAlg,
    notes: "An asymmetric JWS algorithm: RS, PS or ES with 256, 384 or 512, or EdDSA.",
  },
  {
    name: "BFF_MODE",
    option: "mode",
    meaning: "`development`, `test` or `production`",
    default: CONFIG_DEFAULTS.mode,
    notes:
      "Production, the strictest, refuses the development aids marked so here and plain-http issuers, and sends HSTS.",
  },
  {
    name: "BFF_SESSION_LIFETIME_SECONDS",
    option: "sessionAbsoluteLifetimeSeconds",
    meaning: "the session ends this long after login, whatever happens",
    default: CONFIG_DEFAULTS.sessionAbsoluteLifetimeSeconds,
    notes: "Enforced from inside the sealed cookie.",
  },
  {
    name: "BFF_SESSION_IDLE_TIMEOUT_SECONDS",
    option: "sessionIdleTimeoutSeconds",
    meaning: "the session ends after this long without a request",
    default: CONFIG_DEFAULTS.sessionIdleTimeoutSeconds,
    notes: "At most BFF_SESSION_LIFETIME_SECONDS.",
  },
  {
    name: "BFF_REFRESH_LEEWAY_SECONDS",
    option: "refreshLeewaySeconds",
    meaning: "refresh the access token this long before it expires",
    default: CONFIG_DEFAULTS.refreshLeewaySeconds,
    notes: "Until the token expires, a failed refresh still serves the request.",
  },
  {
    name: "BFF_API_TIMEOUT_MS",
    option: "apiTimeoutMs",
    meaning: "how long the proxy waits for the API's response headers, then `504`",
    default: CONFIG_DEFAULTS.apiTimeoutMs,
  },
  {
    name: "BFF_API_MAX_BODY_BYTES",
    option: "apiMaxBodyBytes",
    meaning: "the largest request body the proxy forwards to the API",
    default: CONFIG_DEFAULTS.apiMaxBodyBytes,
    notes: `Bodies stream; a larger one is cut off with \`413 payload_too_large\`. The BFF's own routes accept ${BFF_ROUTE_MAX_BODY_BYTES} bytes.`,
  },
  {
    name: "BFF_API_ROUTES",
    option: "apiRoutes",
    meaning: "the API calls the proxy forwards; others get 404 or 405 from the BFF itself",
    default: { described: "every path and method (the API decides)" },
    notes:
      "Comma-separated, each its methods, its path, then the scopes it needs: `GET /contacts, POST /contacts contacts:write, GET DELETE /contacts/*` (`*` is one path segment).",
  },
  {
    name: "BFF_SPA_DIR",
    option: "spaDir",
    meaning: "a folder of built SPA files the BFF serves, with an `index.html` fallback",
    notes: "`./run start` sets it to `web/dist`. Relative to the current directory.",
  },
  {
    name: "BFF_DANGEROUSLY_ALLOW_INSECURE_HTTP_ISSUER",
    option: "dangerouslyAllowInsecureHttpIssuer",
    meaning: "`true` accepts a plain-http issuer, such as the embedded IdP on 127.0.0.1",
    default: "false",
    notes: "Development aid: only with BFF_MODE `development` or `test`.",
  },
  {
    name: "BFF_FLOW_INSPECTOR",
    option: "flowInspector",
    meaning: "`on` records each session's protocol steps for the SPA's Inspector page at `/bff/inspector`",
    default: "off",
    notes: "Development aid: refused in production mode ([README](../README.md#flow-inspector)).",
  },
  {
    name: "BFF_DANGEROUSLY_ENABLE_TEST_CONTROLS",
    option: "dangerouslyEnableTestControls",
    meaning:
      '`true` mounts `/bff/test/*` for the e2e fixtures "access token expired" and "refresh token revoked"',
    default: "false",
    notes: "Test aid: refused in production mode.",
  },
  {
    name: "BFF_PORT",
    meaning: "the port the BFF listens on",
    default: DEFAULT_PORT,
    notes:
      "`pnpm start`, `pnpm dev` and the e2e suite read it too and register the BFF's URIs at the embedded IdP on it. The IdP started on its own names this port in its IDP_WEB_BFF_* defaults: on another port, change them too.",
  },
  { name: "BFF_HOST", meaning: "the address the BFF listens on", default: DEFAULT_HOST },
  {
    name: "BFF_REDIS_URL",
    meaning: "a Redis shared by every BFF process and machine: ended sessions and refresh coordination",
    default: { described: "none: BFF_SESSION_DB_PATH, else memory" },
    notes:
      "`redis://` or `rediss://`. Every replica on the same Redis. A production BFF refuses a Redis that keeps nothing on disk, and warns about one that may evict keys ([operations.md](operations.md)).",
  },
  {
    name: "BFF_SESSION_DB_PATH",
    meaning: "a SQLite file for ended sessions and refreshes: one machine, survives restarts",
    default: { described: "memory: forgotten on restart" },
    notes: "Ignored when BFF_REDIS_URL is set. What `./run start` uses.",
  },
  {
    name: "BFF_DANGEROUSLY_ALLOW_REDIS_WITHOUT_PERSISTENCE",
    meaning: "`true` starts a production BFF on a Redis that keeps nothing on disk",
    default: "false",
    notes: "A Redis restart then forgets every logout: a logged-out cookie works again.",
  },
  {
    name: "BFF_ACCESS_LOG",
    meaning: "`off` drops the one line per request (method, path without the query, status, time)",
    default: "on",
    notes: "For benchmarks: a log line costs more than the work measured.",
  },
] as const satisfies readonly BffVariable[];

type BffVariableName = (typeof BFF_VARIABLES)[number]["name"];

/** The variable of each option, for validation messages. */
const VARIABLE_OF_OPTION = new Map<keyof BffConfig, BffVariableName>(
  BFF_VARIABLES.flatMap((variable) =>
    "option" in variable ? [[variable.option, variable.name] as const] : [],
  ),
);
// Every option but the code-only ones has its variable: a new BffConfig field without one does not compile.
type OptionWithoutVariable = Exclude<
  keyof BffConfig,
  CodeOnlyOption | Extract<(typeof BFF_VARIABLES)[number], { option: string }>["option"]
>;
const everyOptionHasAVariable: [OptionWithoutVariable] extends [never] ? true : OptionWithoutVariable = true;
void everyOptionHasAVariable;

/**
 * BFF_API_ROUTES: comma-separated routes, each its methods, its path, then the
 * scopes it needs (if any): `GET /contacts, POST /contacts contacts:write`.
 * Unset: every path and method.
 */
function apiRoutes(value: string | undefined): BffConfig["apiRoutes"] {
  if (value === undefined) return undefined;
  return value
    .split(",")
    .map((entry) => entry.trim().split(/\s+/))
    .filter((words) => words.length > 0 && words[0] !== "")
    .map((words) => {
      const at = words.findIndex((word) => word.startsWith("/"));
      const path = at === -1 ? (words.at(-1) ?? "") : (words[at] ?? "");
      const methods = at === -1 ? words.slice(0, -1) : words.slice(0, at);
      const scopes = at === -1 ? [] : words.slice(at + 1);
      return { path, methods, ...(scopes.length > 0 ? { scopes } : {}) };
    });
}

/**
 * BFF_AUTHORIZATION_PARAMS: extra authorization request parameters in query
 * form, `access_type=offline&prompt=consent`. A name given twice is refused.
 */
function authorizationParams(
  value: string | undefined,
  problems: string[],
): BffConfig["authorizationParams"] {
  if (value === undefined) return undefined;
  const params: Record<string, string> = {};
  for (const [name, paramValue] of new URLSearchParams(value)) {
    if (name in params) problems.push(`BFF_AUTHORIZATION_PARAMS names "${name}" twice`);
    params[name] = paramValue;
  }
  return params;
}

type Read = (name: BffVariableName) => string | undefined;

/**
 * BFF_CLIENT_PRIVATE_KEY_FILE: the private_key_jwt key (PKCS#8 PEM or a JWK's JSON), read from a
 * file only. A value in the environment is visible to every child process and in crash
 * reports; a file can be readable by the BFF alone (a mounted secret).
 */
function clientPrivateKey(read: Read, mode: BffMode, problems: string[]): string | undefined {
  if (read("BFF_CLIENT_PRIVATE_KEY") !== undefined) {
    problems.push(
      "BFF_CLIENT_PRIVATE_KEY is not read: put the key in a file and name it in BFF_CLIENT_PRIVATE_KEY_FILE",
    );
  }
  const path = read("BFF_CLIENT_PRIVATE_KEY_FILE");
  if (!path) return undefined;
  try {
    const key = readFileSync(resolve(path), "utf8");
    if (key.trim() === "") problems.push(`BFF_CLIENT_PRIVATE_KEY_FILE is empty (${path})`);
    // As ssh does: a private key that other users of the machine may read is no longer private.
    const fileMode = statSync(resolve(path)).mode & 0o777;
    if (mode === "production" && (fileMode & 0o077) !== 0) {
      problems.push(
        `BFF_CLIENT_PRIVATE_KEY_FILE is readable by other users (mode ${fileMode.toString(8).padStart(4, "0")}): chmod 600 ${path}`,
      );
    }
    return key;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    problems.push(`BFF_CLIENT_PRIVATE_KEY_FILE cannot be read (${path}: ${reason})`);
    return undefined;
  }
}

/**
 * Reads the BFF_* environment variables (BFF_VARIABLES), or throws one
 * `invalid_config` BffError naming every missing or bad variable, so that one
 * restart shows them all.
 */
export function bffSettingsFromEnvironment(env: NodeJS.ProcessEnv): BffServerSettings {
  const problems: string[] = [];
  const text = variableReader(BFF_VARIABLES, env);
  const whole = (name: BffVariableName): number | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) problems.push(`${name} must be a whole number (got "${value}")`);
    return Number(value);
  };

  const mode = (text("BFF_MODE") ?? CONFIG_DEFAULTS.mode) as BffMode;
  const testControls = text("BFF_DANGEROUSLY_ENABLE_TEST_CONTROLS");
  if (testControls !== undefined && testControls !== "true" && testControls !== "false") {
    problems.push(`BFF_DANGEROUSLY_ENABLE_TEST_CONTROLS must be true or false (got "${testControls}")`);
  }
  const insecure = text("BFF_DANGEROUSLY_ALLOW_INSECURE_HTTP_ISSUER");
  if (insecure !== undefined && insecure !== "true" && insecure !== "false") {
    problems.push(`BFF_DANGEROUSLY_ALLOW_INSECURE_HTTP_ISSUER must be true or false (got "${insecure}")`);
  }
  if (insecure === "true" && mode === "production") {
    problems.push("BFF_DANGEROUSLY_ALLOW_INSECURE_HTTP_ISSUER only works with BFF_MODE=development or test");
  }
  const spaDir = text("BFF_SPA_DIR");
  // BFF_FLOW_INSPECTOR=on: the per-session protocol log at /bff/inspector (refused in production mode).
  const inspector = text("BFF_FLOW_INSPECTOR");
  if (inspector !== undefined && inspector !== "on" && inspector !== "off") {
    problems.push(`BFF_FLOW_INSPECTOR must be on or off (got "${inspector}")`);
  }

  const config: BffConfig = {
    issuer: text("BFF_ISSUER") ?? "",
    clientId: text("BFF_CLIENT_ID") ?? "",
    redirectUri: text("BFF_REDIRECT_URI") ?? "",
    postLogoutRedirectUri: text("BFF_POST_LOGOUT_REDIRECT_URI") ?? "",
    apiBaseUrl: text("BFF_API_BASE_URL") ?? "",
    cookieSecrets: (text("BFF_COOKIE_SECRETS") ?? "")
      .split(",")
      .map((secret) => secret.trim())
      .filter(Boolean),
    mode,
  };
  const optional = {
    clientSecret: text("BFF_CLIENT_SECRET"),
    clientAuthentication: text("BFF_CLIENT_AUTHENTICATION") as ClientAuthenticationMethod | undefined,
    clientPrivateKey: clientPrivateKey(text, mode, problems),
    clientKeyId: text("BFF_CLIENT_KEY_ID"),
    clientSigningAlg: text("BFF_CLIENT_SIGNING_ALG"),
    scopes: text("BFF_SCOPES"),
    additionalScopes: text("BFF_ADDITIONAL_SCOPES"),
    resource: text("BFF_RESOURCE"),
    audience: text("BFF_AUDIENCE"),
    apiScopes: text("BFF_API_SCOPES"),
    authorizationParams: authorizationParams(text("BFF_AUTHORIZATION_PARAMS"), problems),
    idTokenSigningAlg: text("BFF_ID_TOKEN_SIGNING_ALG"),
    sessionAbsoluteLifetimeSeconds: whole("BFF_SESSION_LIFETIME_SECONDS"),
    sessionIdleTimeoutSeconds: whole("BFF_SESSION_IDLE_TIMEOUT_SECONDS"),
    refreshLeewaySeconds: whole("BFF_REFRESH_LEEWAY_SECONDS"),
    apiTimeoutMs: whole("BFF_API_TIMEOUT_MS"),
    apiMaxBodyBytes: whole("BFF_API_MAX_BODY_BYTES"),
    apiRoutes: apiRoutes(text("BFF_API_ROUTES")),
    spaDir: spaDir === undefined ? undefined : resolve(spaDir),
    dangerouslyAllowInsecureHttpIssuer: insecure === "true" ? true : undefined,
    flowInspector: inspector === "on" ? true : undefined,
    dangerouslyEnableTestControls: testControls === "true" ? true : undefined,
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }

  for (const problem of validateConfig(config)) {
    // A secret's value never appears in a message, only its variable's name.
    const field = problem.field;
    problems.push(`${CODE_ONLY.has(field) ? field : VARIABLE_OF_OPTION.get(field)} ${problem.message}`);
  }

  const portText = text("BFF_PORT") ?? String(DEFAULT_PORT);
  const port = /^\d+$/.test(portText) ? Number(portText) : Number.NaN;
  if (!Number.isInteger(port) || port > 65535)
    problems.push(`BFF_PORT must be a port number (got "${portText}")`);

  const redisUrl = text("BFF_REDIS_URL");
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    problems.push(`BFF_REDIS_URL must be a redis:// or rediss:// URL`);
  }

  if (problems.length > 0) {
    throw new BffError("invalid_config", `The BFF cannot start:\n  - ${problems.join("\n  - ")}`);
  }
  const sessionDbPath = text("BFF_SESSION_DB_PATH");
  return {
    config,
    host: text("BFF_HOST") ?? DEFAULT_HOST,
    port,
    redisUrl,
    sessionDbPath: sessionDbPath === undefined ? undefined : resolve(sessionDbPath),
    allowRedisWithoutPersistence: text("BFF_DANGEROUSLY_ALLOW_REDIS_WITHOUT_PERSISTENCE") === "true",
    // Benchmarks turn it off: a log line costs more than the work measured.
    accessLog: text("BFF_ACCESS_LOG") !== "off",
  };
}
