import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";

import { type BffConfig, type BffMode, type ClientAuthenticationMethod, validateConfig } from "./config.ts";
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
}

/** Options only code can set: a function, a nested object. */
type CodeOnlyOption = "mapUserClaims" | "cookieNames";
const CODE_ONLY = new Set<keyof BffConfig>(["mapUserClaims", "cookieNames"]);

/** Each configuration field and the environment variable that sets it. */
const VARIABLES: Record<Exclude<keyof BffConfig, CodeOnlyOption>, string> = {
  issuer: "BFF_ISSUER",
  clientId: "BFF_CLIENT_ID",
  clientSecret: "BFF_CLIENT_SECRET",
  clientAuthentication: "BFF_CLIENT_AUTHENTICATION",
  clientPrivateKey: "BFF_CLIENT_PRIVATE_KEY_FILE",
  clientKeyId: "BFF_CLIENT_KEY_ID",
  clientSigningAlg: "BFF_CLIENT_SIGNING_ALG",
  redirectUri: "BFF_REDIRECT_URI",
  postLogoutRedirectUri: "BFF_POST_LOGOUT_REDIRECT_URI",
  apiBaseUrl: "BFF_API_BASE_URL",
  cookieSecrets: "BFF_COOKIE_SECRETS",
  scopes: "BFF_SCOPES",
  additionalScopes: "BFF_ADDITIONAL_SCOPES",
  resource: "BFF_RESOURCE",
  audience: "BFF_AUDIENCE",
  apiScopes: "BFF_API_SCOPES",
  authorizationParams: "BFF_AUTHORIZATION_PARAMS",
  idTokenSigningAlg: "BFF_ID_TOKEN_SIGNING_ALG",
  mode: "BFF_MODE",
  sessionAbsoluteLifetimeSeconds: "BFF_SESSION_LIFETIME_SECONDS",
  sessionIdleTimeoutSeconds: "BFF_SESSION_IDLE_TIMEOUT_SECONDS",
  refreshLeewaySeconds: "BFF_REFRESH_LEEWAY_SECONDS",
  apiTimeoutMs: "BFF_API_TIMEOUT_MS",
  apiMaxBodyBytes: "BFF_API_MAX_BODY_BYTES",
  apiRoutes: "BFF_API_ROUTES",
  spaDir: "BFF_SPA_DIR",
  dangerouslyAllowInsecureHttpIssuer: "BFF_DANGEROUSLY_ALLOW_INSECURE_HTTP_ISSUER",
  flowInspector: "BFF_FLOW_INSPECTOR",
  dangerouslyEnableTestControls: "BFF_DANGEROUSLY_ENABLE_TEST_CONTROLS",
};

/**
 * Reads the BFF_* environment variables, or throws one `invalid_config`
 * BffError naming every missing or bad variable, so that one restart shows
 * them all. Required: BFF_ISSUER, BFF_CLIENT_ID, BFF_CLIENT_SECRET (or, with
 * BFF_CLIENT_AUTHENTICATION=private_key_jwt, BFF_CLIENT_PRIVATE_KEY_FILE),
 * BFF_REDIRECT_URI, BFF_POST_LOGOUT_REDIRECT_URI, BFF_API_BASE_URL,
 * BFF_COOKIE_SECRETS (comma-separated, newest first). Optional: the rest of
 * VARIABLES, and BFF_PORT (3000), BFF_HOST (localhost), and where ended
 * sessions and refreshes are recorded: BFF_REDIS_URL (several processes or
 * machines), else BFF_SESSION_DB_PATH (a SQLite file: survives restarts), else memory.
 */
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

/**
 * BFF_CLIENT_PRIVATE_KEY_FILE: the private_key_jwt key (PKCS#8 PEM or a JWK's JSON), read from a
 * file only. A value in the environment is visible to every child process and in crash
 * reports; a file can be readable by the BFF alone (a mounted secret).
 */
function clientPrivateKey(env: NodeJS.ProcessEnv, problems: string[]): string | undefined {
  if (env.BFF_CLIENT_PRIVATE_KEY !== undefined) {
    problems.push(
      "BFF_CLIENT_PRIVATE_KEY is not read: put the key in a file and name it in BFF_CLIENT_PRIVATE_KEY_FILE",
    );
  }
  const path = env.BFF_CLIENT_PRIVATE_KEY_FILE?.trim();
  if (!path) return undefined;
  try {
    const key = readFileSync(resolve(path), "utf8");
    if (key.trim() === "") problems.push(`BFF_CLIENT_PRIVATE_KEY_FILE is empty (${path})`);
    // As ssh does: a private key that other users of the machine may read is no longer private.
    const mode = statSync(resolve(path)).mode & 0o777;
    if ((env.BFF_MODE ?? "production") === "production" && (mode & 0o077) !== 0) {
      problems.push(
        `BFF_CLIENT_PRIVATE_KEY_FILE is readable by other users (mode ${mode.toString(8).padStart(4, "0")}): chmod 600 ${path}`,
      );
    }
    return key;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    problems.push(`BFF_CLIENT_PRIVATE_KEY_FILE cannot be read (${path}: ${reason})`);
    return undefined;
  }
}

export function bffSettingsFromEnvironment(env: NodeJS.ProcessEnv): BffServerSettings {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === "" ? undefined : value;
  };
  const whole = (name: string): number | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) problems.push(`${name} must be a whole number (got "${value}")`);
    return Number(value);
  };

  const mode = (text("BFF_MODE") ?? "production") as BffMode;
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
    clientPrivateKey: clientPrivateKey(env, problems),
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
    problems.push(
      `${CODE_ONLY.has(field) ? field : VARIABLES[field as Exclude<keyof BffConfig, CodeOnlyOption>]} ${problem.message}`,
    );
  }

  const portText = text("BFF_PORT") ?? "3000";
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
    host: text("BFF_HOST") ?? "localhost",
    port,
    redisUrl,
    sessionDbPath: sessionDbPath === undefined ? undefined : resolve(sessionDbPath),
    allowRedisWithoutPersistence: text("BFF_DANGEROUSLY_ALLOW_REDIS_WITHOUT_PERSISTENCE") === "true",
  };
}
