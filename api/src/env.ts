import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

import type { ApiConfig, TokenValidation } from "./app.ts";
import { MAX_INTROSPECTION_CACHE_SECONDS } from "./auth/index.ts";
import { ApiError } from "./errors.ts";

export interface ApiServerSettings {
  config: ApiConfig;
  host: string;
  port: number;
}

const DEFAULTS = {
  API_PORT: "4001",
  API_HOST: "localhost",
  API_ISSUER: "http://127.0.0.1:4000",
  API_AUDIENCE: "http://localhost:4001",
  API_SEED: "true",
} as const;

const BOOLEANS: Record<string, boolean> = {
  true: true,
  "1": true,
  yes: true,
  false: false,
  "0": false,
  no: false,
};

/**
 * Turns the API_* environment variables into settings, or throws one
 * `invalid_config` ApiError naming every bad variable and why, so one restart
 * is enough to see them all.
 *
 * - API_PORT (4001), API_HOST (localhost)
 * - API_ISSUER (http://127.0.0.1:4000): the IdP whose tokens are accepted
 * - API_AUDIENCE (http://localhost:4001): this API's resource indicator
 * - API_DB_PATH (<repo>/.data/api/contacts.sqlite; relative paths from the current directory)
 * - API_SEED (true): insert the development contacts into a new database
 * - API_TOKEN_TYPES (at+jwt): accepted `typ` headers, comma-separated (Keycloak: JWT)
 * - API_TOKEN_VALIDATION (jwt) and the introspection variables: see tokenValidationFrom
 */
export function apiSettingsFromEnvironment(env: NodeJS.ProcessEnv, repoRoot: string): ApiServerSettings {
  const problems: string[] = [];
  const get = (name: keyof typeof DEFAULTS | "API_DB_PATH"): string | undefined => {
    const value = env[name]?.trim();
    return value === "" || value === undefined ? (DEFAULTS as Record<string, string>)[name] : value;
  };

  const portText = get("API_PORT") as string;
  const port = /^\d+$/.test(portText) ? Number(portText) : Number.NaN;
  if (!Number.isInteger(port) || port > 65535) {
    problems.push(`API_PORT must be a port number 0-65535 (got "${portText}")`);
  }

  const host = get("API_HOST") as string;

  const issuer = get("API_ISSUER") as string;
  const issuerUrl = URL.parse(issuer);
  if (!issuerUrl || (issuerUrl.protocol !== "https:" && issuerUrl.protocol !== "http:")) {
    problems.push(`API_ISSUER must be an http(s) URL (got "${issuer}")`);
  } else if (issuerUrl.search || issuerUrl.hash) {
    problems.push(`API_ISSUER must have no query and no fragment (got "${issuer}")`);
  }

  // RFC 7519 §4.1.3: a StringOrURI. A URL for resource indicators; Keycloak's audiences are plain names.
  const audience = get("API_AUDIENCE") as string;
  if (/\s/.test(audience)) problems.push(`API_AUDIENCE must not contain spaces (got "${audience}")`);

  const tokenTypes = (env.API_TOKEN_TYPES ?? "at+jwt")
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  if (tokenTypes.length === 0) problems.push("API_TOKEN_TYPES must name at least one typ");

  const tokenValidation = tokenValidationFrom(env, problems);

  const dbPathText = get("API_DB_PATH");
  const dbPath =
    dbPathText === undefined
      ? join(repoRoot, ".data", "api", "contacts.sqlite")
      : dbPathText === ":memory:"
        ? dbPathText
        : resolve(dbPathText);

  const seedText = (get("API_SEED") as string).toLowerCase();
  const seed = BOOLEANS[seedText];
  if (seed === undefined) problems.push(`API_SEED must be true or false (got "${seedText}")`);

  if (problems.length > 0) {
    throw new ApiError("invalid_config", `The API cannot start:\n  - ${problems.join("\n  - ")}`);
  }
  return {
    host,
    port,
    config: { issuer, audience, dbPath, seed: seed ?? true, tokenTypes, tokenValidation },
  };
}

/**
 * - API_TOKEN_VALIDATION: `jwt` (default, RFC 9068 signatures checked locally)
 *   or `introspection` (RFC 7662: every token is checked at the IdP). For introspection:
 * - API_INTROSPECTION_CLIENT_ID (contacts-api): the API's client at the IdP
 * - API_INTROSPECTION_CLIENT_SECRET, or API_INTROSPECTION_CLIENT_SECRET_FILE (a file
 *   holding it): exactly one is required. Never a command-line argument (shell history, `ps`).
 * - API_INTROSPECTION_CACHE_SECONDS (0): how long an active answer may be reused, 0-60
 *
 * Problems are added to `problems`; no message ever contains the secret.
 */
function tokenValidationFrom(env: NodeJS.ProcessEnv, problems: string[]): TokenValidation {
  const mode = env.API_TOKEN_VALIDATION?.trim() || "jwt";
  if (mode === "jwt") return { mode: "jwt" };
  if (mode !== "introspection") {
    problems.push(`API_TOKEN_VALIDATION must be "jwt" or "introspection" (got "${mode}")`);
    return { mode: "jwt" };
  }

  const clientId = env.API_INTROSPECTION_CLIENT_ID?.trim() || "contacts-api";
  const secretValue = env.API_INTROSPECTION_CLIENT_SECRET?.trim() ?? "";
  const secretFile = env.API_INTROSPECTION_CLIENT_SECRET_FILE?.trim() ?? "";
  let clientSecret = "";
  if (secretValue && secretFile) {
    problems.push("set API_INTROSPECTION_CLIENT_SECRET or API_INTROSPECTION_CLIENT_SECRET_FILE, not both");
  } else if (secretFile) {
    try {
      clientSecret = readFileSync(resolve(secretFile), "utf8").trim();
      if (!clientSecret) problems.push(`API_INTROSPECTION_CLIENT_SECRET_FILE is empty (${secretFile})`);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
      problems.push(`API_INTROSPECTION_CLIENT_SECRET_FILE cannot be read (${code}: ${secretFile})`);
    }
  } else if (secretValue) {
    clientSecret = secretValue;
  } else {
    problems.push(
      "API_INTROSPECTION_CLIENT_SECRET or API_INTROSPECTION_CLIENT_SECRET_FILE is required when API_TOKEN_VALIDATION=introspection",
    );
  }

  const cacheText = env.API_INTROSPECTION_CACHE_SECONDS?.trim() || "0";
  const cacheSeconds = /^\d+$/.test(cacheText) ? Number(cacheText) : Number.NaN;
  if (!(cacheSeconds <= MAX_INTROSPECTION_CACHE_SECONDS)) {
    problems.push(
      `API_INTROSPECTION_CACHE_SECONDS must be a whole number of seconds, 0-${MAX_INTROSPECTION_CACHE_SECONDS} (got "${cacheText}")`,
    );
  }
  return { mode: "introspection", clientId, clientSecret, cacheSeconds };
}
