import { join, resolve } from "node:path";

import type { ApiConfig } from "./app.ts";
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
  return { host, port, config: { issuer, audience, dbPath, seed: seed ?? true, tokenTypes } };
}
