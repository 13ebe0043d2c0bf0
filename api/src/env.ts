import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { MAX_INTROSPECTION_CACHE_SECONDS } from "@oidc-bff/resource-server";
import { DEFAULT_LOCAL_SYSTEM, type EnvVariable, variableReader } from "@oidc-bff/shared";
import type { ApiConfig, TokenValidation } from "./app.ts";
import { ApiError } from "./errors.ts";

export interface ApiServerSettings {
  config: ApiConfig;
  host: string;
  port: number;
  /** One log line per request (API_ACCESS_LOG). */
  accessLog: boolean;
}

/** On one machine, the API and the IdP of the whole system (shared/src/local-system.ts). */
const DEFAULTS = {
  API_PORT: String(DEFAULT_LOCAL_SYSTEM.ports.api),
  API_HOST: "localhost",
  API_ISSUER: DEFAULT_LOCAL_SYSTEM.idp,
  API_AUDIENCE: DEFAULT_LOCAL_SYSTEM.api,
  API_SEED: "true",
  API_TOKEN_TYPES: "at+jwt",
  API_TOKEN_VALIDATION: "jwt",
  API_INTROSPECTION_CLIENT_ID: "contacts-api",
  API_INTROSPECTION_CACHE_SECONDS: "0",
} as const;

/** Under the repository. */
export const DEFAULT_DB_PATH = join(".data", "api", "contacts.sqlite");

const BOOLEANS: Record<string, boolean> = {
  true: true,
  "1": true,
  yes: true,
  false: false,
  "0": false,
  no: false,
};

/**
 * Every variable the API reads: `apiSettingsFromEnvironment` reads these names
 * only, and docs/configuration.md is rendered from this list (`pnpm docs:env`).
 */
export const API_VARIABLES = [
  {
    name: "API_PORT",
    meaning: "the port the API listens on",
    default: DEFAULTS.API_PORT,
    notes:
      "`pnpm start`, `pnpm dev` and the e2e suite read it too and make `http://localhost:<API_PORT>` the API's audience and the BFF's API base URL.",
  },
  { name: "API_HOST", meaning: "the address the API listens on", default: DEFAULTS.API_HOST },
  {
    name: "API_ISSUER",
    meaning: "the issuer whose access tokens are accepted; its discovery document gives the JWKS",
    default: DEFAULTS.API_ISSUER,
    notes: "http(s), no query, no fragment. For another provider, its issuer (the BFF's BFF_ISSUER).",
  },
  {
    name: "API_AUDIENCE",
    meaning: "the `aud` its access tokens must carry: this API's resource indicator",
    default: DEFAULTS.API_AUDIENCE,
    notes:
      "The IdP's IDP_API_AUDIENCE (and the BFF's BFF_RESOURCE). A URL for resource indicators; Keycloak's audiences are plain names such as `contacts-api`.",
  },
  {
    name: "API_DB_PATH",
    meaning: "its SQLite database of contacts",
    default: { described: `\`<repository>/${DEFAULT_DB_PATH}\`` },
    notes: "`:memory:` for a database that lasts as long as the process. Relative to the current directory.",
  },
  {
    name: "API_SEED",
    meaning: "insert the development contacts into a new database",
    default: DEFAULTS.API_SEED,
    notes: (["true", "false"] as const)
      .map((meaning) => {
        const words = Object.keys(BOOLEANS).filter((word) => String(BOOLEANS[word]) === meaning);
        return `${meaning}: ${words.map((word) => `\`${word}\``).join(", ")}`;
      })
      .join("; "),
  },
  {
    name: "API_TOKEN_TYPES",
    meaning: "the accepted `typ` headers of access tokens, comma-separated",
    default: DEFAULTS.API_TOKEN_TYPES,
    notes: "Keycloak: `JWT`.",
  },
  {
    name: "API_TOKEN_VALIDATION",
    meaning:
      "`jwt` (RFC 9068: signatures checked here, against the JWKS) or `introspection` (RFC 7662: every token checked at the IdP)",
    default: DEFAULTS.API_TOKEN_VALIDATION,
    notes:
      "Introspection needs the IdP's opaque tokens (IDP_API_ACCESS_TOKEN_FORMAT=opaque) and the API_INTROSPECTION_* variables ([ADR 009](decisions/009-token-validation-jwt-or-introspection.md)).",
  },
  {
    name: "API_INTROSPECTION_CLIENT_ID",
    meaning: "introspection: the API's own client at the IdP",
    default: DEFAULTS.API_INTROSPECTION_CLIENT_ID,
  },
  {
    name: "API_INTROSPECTION_CLIENT_SECRET",
    meaning: "introspection: that client's secret (the IdP's IDP_CONTACTS_API_SECRET)",
    notes:
      "With introspection, exactly one of this and API_INTROSPECTION_CLIENT_SECRET_FILE is required. Never a command-line argument (shell history, `ps`).",
  },
  {
    name: "API_INTROSPECTION_CLIENT_SECRET_FILE",
    meaning: "introspection: a file holding that secret",
    notes: "Instead of API_INTROSPECTION_CLIENT_SECRET, for a mounted secret.",
  },
  {
    name: "API_INTROSPECTION_CACHE_SECONDS",
    meaning: "introspection: how long an active answer may be reused",
    default: Number(DEFAULTS.API_INTROSPECTION_CACHE_SECONDS),
    notes: `0 to ${MAX_INTROSPECTION_CACHE_SECONDS}. 0: every request asks the IdP, so a revoked token is refused at once.`,
  },
  {
    name: "API_ACCESS_LOG",
    meaning: "`off` drops the one line per request (method, path without the query, status, time)",
    default: "on",
    notes: "For benchmarks: a log line costs more than the work measured.",
  },
] as const satisfies readonly EnvVariable[];

type ApiVariableName = (typeof API_VARIABLES)[number]["name"];
type Read = (name: ApiVariableName) => string | undefined;

/**
 * Turns the API_* environment variables (API_VARIABLES) into settings, or throws one
 * `invalid_config` ApiError naming every bad variable and why, so one restart
 * is enough to see them all.
 */
export function apiSettingsFromEnvironment(env: NodeJS.ProcessEnv, repoRoot: string): ApiServerSettings {
  const problems: string[] = [];
  const read = variableReader(API_VARIABLES, env);
  const get = (name: keyof typeof DEFAULTS): string => read(name) ?? DEFAULTS[name];

  const portText = get("API_PORT");
  const port = /^\d+$/.test(portText) ? Number(portText) : Number.NaN;
  if (!Number.isInteger(port) || port > 65535) {
    problems.push(`API_PORT must be a port number 0-65535 (got "${portText}")`);
  }

  const host = get("API_HOST");

  const issuer = get("API_ISSUER");
  const issuerUrl = URL.parse(issuer);
  if (!issuerUrl || (issuerUrl.protocol !== "https:" && issuerUrl.protocol !== "http:")) {
    problems.push(`API_ISSUER must be an http(s) URL (got "${issuer}")`);
  } else if (issuerUrl.search || issuerUrl.hash) {
    problems.push(`API_ISSUER must have no query and no fragment (got "${issuer}")`);
  }

  // RFC 7519 §4.1.3: a StringOrURI. A URL for resource indicators; Keycloak's audiences are plain names.
  const audience = get("API_AUDIENCE");
  if (/\s/.test(audience)) problems.push(`API_AUDIENCE must not contain spaces (got "${audience}")`);

  const tokenTypes = get("API_TOKEN_TYPES")
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  if (tokenTypes.length === 0) problems.push("API_TOKEN_TYPES must name at least one typ");

  const tokenValidation = tokenValidationFrom(read, problems);

  const dbPathText = read("API_DB_PATH");
  const dbPath =
    dbPathText === undefined
      ? join(repoRoot, DEFAULT_DB_PATH)
      : dbPathText === ":memory:"
        ? dbPathText
        : resolve(dbPathText);

  const seedText = get("API_SEED").toLowerCase();
  const seed = BOOLEANS[seedText];
  if (seed === undefined) problems.push(`API_SEED must be true or false (got "${seedText}")`);

  if (problems.length > 0) {
    throw new ApiError("invalid_config", `The API cannot start:\n  - ${problems.join("\n  - ")}`);
  }
  return {
    host,
    port,
    // Benchmarks turn it off: a log line costs more than the work measured.
    accessLog: read("API_ACCESS_LOG") !== "off",
    config: { issuer, audience, dbPath, seed: seed ?? true, tokenTypes, tokenValidation },
  };
}

/**
 * API_TOKEN_VALIDATION and, for introspection, the API_INTROSPECTION_* variables.
 * Problems are added to `problems`; no message ever contains the secret.
 */
function tokenValidationFrom(read: Read, problems: string[]): TokenValidation {
  const mode = read("API_TOKEN_VALIDATION") ?? DEFAULTS.API_TOKEN_VALIDATION;
  if (mode === "jwt") return { mode: "jwt" };
  if (mode !== "introspection") {
    problems.push(`API_TOKEN_VALIDATION must be "jwt" or "introspection" (got "${mode}")`);
    return { mode: "jwt" };
  }

  const clientId = read("API_INTROSPECTION_CLIENT_ID") ?? DEFAULTS.API_INTROSPECTION_CLIENT_ID;
  const secretValue = read("API_INTROSPECTION_CLIENT_SECRET") ?? "";
  const secretFile = read("API_INTROSPECTION_CLIENT_SECRET_FILE") ?? "";
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

  const cacheText = read("API_INTROSPECTION_CACHE_SECONDS") ?? DEFAULTS.API_INTROSPECTION_CACHE_SECONDS;
  const cacheSeconds = /^\d+$/.test(cacheText) ? Number(cacheText) : Number.NaN;
  if (!(cacheSeconds <= MAX_INTROSPECTION_CACHE_SECONDS)) {
    problems.push(
      `API_INTROSPECTION_CACHE_SECONDS must be a whole number of seconds, 0-${MAX_INTROSPECTION_CACHE_SECONDS} (got "${cacheText}")`,
    );
  }
  return { mode: "introspection", clientId, clientSecret, cacheSeconds };
}
