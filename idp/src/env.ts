import { isAbsolute, join, resolve } from "node:path";

import { type EnvVariable, variableReader } from "@oidc-bff/shared";

import { notIpAddresses } from "./client-address.ts";
import { loadClientsFile, withFileClients } from "./clients-file.ts";
import {
  API_SCOPES,
  CONTACTS_API_CLIENT_ID,
  DEFAULT_REFRESH_TOKEN_GRACE_SECONDS,
  DEV_API_AUDIENCE,
  DEV_CONTACTS_API_SECRET,
  DEV_COOKIE_KEYS,
  DEV_ISSUER,
  DEV_REPORTING_SERVICE_SECRET,
  DEV_WEB_BFF_BACKCHANNEL_LOGOUT_URI,
  DEV_WEB_BFF_POST_LOGOUT_REDIRECT_URIS,
  DEV_WEB_BFF_REDIRECT_URIS,
  DEV_WEB_BFF_SECRET,
  developmentIdpConfig,
  type IdpConfig,
  isSecureOrLoopback,
} from "./config.ts";
import { IdpError } from "./errors.ts";
import { DEV_USERS_FILE, type IdpUser, loadUsersFile } from "./users.ts";

export interface IdpServerSettings {
  config: IdpConfig;
  /** Where to listen. */
  host: string;
  port: number;
  /** Settings that work but are most likely a mistake, for the log at start. */
  warnings: string[];
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Under the repository: the SQLite store and the signing keys. */
export const DEFAULT_DATA_DIR = join(".data", "idp");
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 300;
export const DEFAULT_API_ACCESS_TOKEN_FORMAT = "jwt";

/** What the three web-bff URIs tell whoever sets up another app: they name the development BFF. */
const OTHER_BFF = `The default names the development BFF on \`${new URL(DEV_WEB_BFF_BACKCHANNEL_LOGOUT_URI).origin}\` (\`pnpm start\` sets it for BFF_PORT): for a BFF anywhere else (another port or host; behind a balancer, the balancer's address) set it`;

/**
 * Every variable the IdP reads: `idpSettingsFromEnvironment` reads these names
 * only, and docs/configuration.md is rendered from this list (`pnpm docs:env`).
 */
export const IDP_VARIABLES = [
  {
    name: "IDP_MODE",
    meaning: "`development` (development users, clients and secrets) or `production`",
    default: "development",
    notes:
      "Production refuses every development value (secrets, cookie keys, the development users' passwords) and the test aids, and has no defaults for secrets.",
  },
  {
    name: "IDP_ISSUER",
    meaning: "its issuer URL",
    default: DEV_ISSUER,
    notes:
      "http(s); no query, fragment or trailing slash. It listens on the issuer's host when that is loopback, else on 127.0.0.1 behind a TLS-terminating proxy.",
  },
  {
    name: "IDP_PORT",
    meaning: "the port it listens on",
    default: { described: "the issuer's port (80 or 443 when it names none)" },
    notes:
      "`pnpm start`, `pnpm dev` and the e2e suite read it too (default 4000) and give the IdP the issuer `http://127.0.0.1:<IDP_PORT>`, the API and the BFF that issuer.",
  },
  {
    name: "IDP_TRUSTED_PROXIES",
    meaning:
      "comma-separated IP addresses of the reverse proxies in front of the IdP, whose `X-Forwarded-For` names the client",
    default: { described: "none: the client is the connection's address" },
    notes:
      "The sign-in and client-secret guessing limits count per client address ([ADR 022](decisions/022-throttles-that-do-not-lock-out.md)). Behind a proxy that is not listed, every request seems to come from the proxy and the limits count everyone together; the IdP warns at start when the issuer is https and none is set. List only proxies that append the client's address to `X-Forwarded-For`.",
  },
  {
    name: "IDP_DATA_DIR",
    meaning: "where its SQLite store (`idp.sqlite`) and signing keys (`jwks.json`) live",
    default: { described: `\`<repository>/${DEFAULT_DATA_DIR}\`` },
    notes:
      "`pnpm --filter @oidc-bff/idp rotate-keys` rotates the keys there. Relative to the current directory.",
  },
  {
    name: "IDP_USERS_FILE",
    meaning: "the users, with scrypt password hashes",
    default: DEV_USERS_FILE,
    notes:
      "`node idp/src/hash-password.ts` makes a hash. Production refuses a user whose password is a development one.",
  },
  {
    name: "IDP_COOKIE_KEYS",
    meaning: "comma-separated keys signing its cookies, newest first",
    default: DEV_COOKIE_KEYS,
    notes: "The default is development mode's only; required in production, which refuses it.",
  },
  {
    name: "IDP_CLIENTS_FILE",
    meaning:
      "a JSON file of more clients (relying parties): `client_id`, `redirect_uris`, `grant_types`, `token_endpoint_auth_method`, the secret by `client_secret_env` or `client_secret_file`, ...",
    notes:
      "In addition to the built-in clients; one with a built-in's `client_id` replaces it whole (its IDP_WEB_BFF_* or other variables are then unused). Every mistake is named at start and the IdP does not start. Production refuses a `client_secret` written in the file, secrets under 32 characters and http off loopback. Relative to the current directory; a `client_secret_file`, relative to the clients file. Schema and recipes: [docs/providers.md](providers.md#the-embedded-idp-adding-a-client).",
  },
  {
    name: "IDP_WEB_BFF_SECRET",
    meaning: "the secret of `web-bff`, the BFF's client (the BFF's BFF_CLIENT_SECRET)",
    default: DEV_WEB_BFF_SECRET,
    notes:
      "The default is development mode's only; required in production: at least 32 characters, not the development secret.",
  },
  {
    name: "IDP_REPORTING_SERVICE_SECRET",
    meaning: "the secret of `reporting-service`, the client-credentials client",
    default: DEV_REPORTING_SERVICE_SECRET,
    notes: "The default is development mode's only; required in production.",
  },
  {
    name: "IDP_CONTACTS_API_SECRET",
    meaning: "the secret of `contacts-api`, the API's client for token introspection",
    default: DEV_CONTACTS_API_SECRET,
    notes:
      "The default is development mode's only. Unset in production, the client is not registered and introspection is off (the API validates JWTs).",
  },
  {
    name: "IDP_WEB_BFF_REDIRECT_URIS",
    meaning: "`web-bff`'s registered redirect URIs, comma-separated, compared exactly",
    default: DEV_WEB_BFF_REDIRECT_URIS,
    notes: `${OTHER_BFF} to the BFF's BFF_REDIRECT_URI, \`<origin>/bff/callback\`.`,
  },
  {
    name: "IDP_WEB_BFF_POST_LOGOUT_REDIRECT_URIS",
    meaning: "`web-bff`'s registered post-logout redirect URIs, comma-separated, compared exactly",
    default: DEV_WEB_BFF_POST_LOGOUT_REDIRECT_URIS,
    notes: `${OTHER_BFF} to the BFF's BFF_POST_LOGOUT_REDIRECT_URI.`,
  },
  {
    name: "IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI",
    meaning: "where the IdP posts logout tokens for `web-bff` (OpenID Connect Back-Channel Logout)",
    default: DEV_WEB_BFF_BACKCHANNEL_LOGOUT_URI,
    notes: `**Change it with the redirect URIs.** ${OTHER_BFF} to \`<origin>/bff/backchannel-logout\`. Left at the default, every logout token for web-bff goes to whatever listens on ${new URL(DEV_WEB_BFF_BACKCHANNEL_LOGOUT_URI).host}, and your BFF never learns of logouts at the IdP: its sessions outlive them. The IdP warns at start when it is left at the default in production mode, or while the redirect URIs name another origin. \`none\` turns it off. https, or http on loopback.`,
  },
  {
    name: "IDP_API_AUDIENCE",
    meaning: "the API's resource indicator: the `aud` of its access tokens",
    default: DEV_API_AUDIENCE,
    notes: "The API's API_AUDIENCE must be the same.",
  },
  {
    name: "IDP_API_EXTRA_SCOPES",
    meaning:
      "more scopes of that API, space-separated, that `web-bff` may ask for (another app's, e.g. `notes:read notes:write`)",
    notes: `Besides ${API_SCOPES.map((scope) => `\`${scope}\``).join(", ")}. Not \`openid\`, \`offline_access\`, \`profile\`, \`email\`.`,
  },
  {
    name: "IDP_API_ACCESS_TOKEN_FORMAT",
    meaning: "`jwt` (RFC 9068) or `opaque` access tokens for the API",
    default: DEFAULT_API_ACCESS_TOKEN_FORMAT,
    notes:
      "`opaque` for an API that introspects (API_TOKEN_VALIDATION=introspection): oidc-provider cannot introspect JWT access tokens.",
  },
  {
    name: "IDP_ACCESS_TOKEN_TTL",
    meaning: "the lifetime of access tokens, in seconds",
    default: DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
    notes: "1 to 86400.",
  },
  {
    name: "IDP_REFRESH_TOKEN_GRACE_SECONDS",
    meaning:
      "how long a confidential client may present the refresh token it rotated last once more without the grant being revoked",
    default: DEFAULT_REFRESH_TOKEN_GRACE_SECONDS,
    notes: "0 to 300; 0 is strict: any replay revokes ([ADR 014](decisions/014-refresh-survives-faults.md)).",
  },
  {
    name: "IDP_INSECURE_TOKEN_LOG_FILE",
    meaning: "every issued token appended to this file (the e2e suite checks that none reaches the browser)",
    notes: "Test aid: refused in production mode.",
  },
] as const satisfies readonly EnvVariable[];

type IdpVariableName = (typeof IDP_VARIABLES)[number]["name"];

/** IDP_DATA_DIR, resolved: the server's and the key rotation's. */
export function idpDataDir(env: NodeJS.ProcessEnv, repoRoot: string): string {
  return resolve(variableReader(IDP_VARIABLES, env)("IDP_DATA_DIR") ?? join(repoRoot, DEFAULT_DATA_DIR));
}

/**
 * Turns the IDP_* environment variables into a configuration, or throws one
 * `IdpError("invalid_config")` naming every bad or missing variable and why.
 * Development mode fills in the built-in development values; production mode
 * has no defaults for secrets (and `createIdp` then refuses development values).
 *
 * Relative paths are resolved against the current directory.
 */
export function idpSettingsFromEnvironment(env: NodeJS.ProcessEnv, repoRoot: string): IdpServerSettings {
  const problems: string[] = [];
  const warnings: string[] = [];
  const get = variableReader(IDP_VARIABLES, env);
  const list = (name: IdpVariableName): string[] | undefined =>
    get(name)
      ?.split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");

  const mode = get("IDP_MODE") ?? "development";
  if (mode !== "development" && mode !== "production") {
    problems.push(`IDP_MODE must be "development" or "production" (got "${mode}")`);
  }
  const production = mode === "production";

  const issuer = get("IDP_ISSUER") ?? DEV_ISSUER;
  const issuerUrl = URL.parse(issuer);
  if (!issuerUrl || (issuerUrl.protocol !== "http:" && issuerUrl.protocol !== "https:")) {
    problems.push(`IDP_ISSUER must be an http(s) URL (got "${issuer}")`);
  } else if (issuerUrl.search || issuerUrl.hash || issuer.endsWith("/")) {
    problems.push("IDP_ISSUER must have no query, no fragment and no trailing slash");
  }

  const defaultPort = issuerUrl?.port ? Number(issuerUrl.port) : issuerUrl?.protocol === "https:" ? 443 : 80;
  const portText = get("IDP_PORT");
  const port = portText === undefined ? defaultPort : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`IDP_PORT must be a port number 0-65535 (got "${portText}")`);
  }

  const dataDir = idpDataDir(env, repoRoot);

  const trustedProxies = list("IDP_TRUSTED_PROXIES") ?? [];
  const notIps = notIpAddresses(trustedProxies);
  if (notIps.length > 0) {
    problems.push(`IDP_TRUSTED_PROXIES must be comma-separated IP addresses (got "${notIps.join(", ")}")`);
  }
  // An https issuer means a TLS-terminating proxy in front (the IdP listens on loopback).
  if (issuerUrl?.protocol === "https:" && trustedProxies.length === 0) {
    warnings.push(
      "IDP_TRUSTED_PROXIES is not set: behind the TLS-terminating proxy every request seems to come from the proxy's address, so the sign-in and client-secret guessing limits count all clients together (one attacker can make everyone wait). List the proxy's address, e.g. IDP_TRUSTED_PROXIES=127.0.0.1.",
    );
  }

  const usersFile = get("IDP_USERS_FILE") ?? DEV_USERS_FILE;
  let users: IdpUser[] = [];
  try {
    users = loadUsersFile(isAbsolute(usersFile) ? usersFile : resolve(usersFile));
  } catch (error) {
    problems.push(`IDP_USERS_FILE: ${(error as Error).message}`);
  }

  const cookieKeys = list("IDP_COOKIE_KEYS") ?? (production ? [] : [...DEV_COOKIE_KEYS]);
  if (cookieKeys.length === 0)
    problems.push("IDP_COOKIE_KEYS is required in production (comma-separated keys)");
  // The API's client for token introspection. Optional in production: without it the
  // client is not registered and the introspection endpoint is off (the API validates JWTs).
  const contactsApiSecret =
    get("IDP_CONTACTS_API_SECRET") ?? (production ? undefined : DEV_CONTACTS_API_SECRET);

  const urls = (name: IdpVariableName, fallback: string[]): string[] => {
    const values = list(name) ?? fallback;
    for (const value of values) {
      const url = URL.parse(value);
      if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.hash) {
        problems.push(`${name} must be comma-separated http(s) URLs without fragments (got "${value}")`);
      }
    }
    if (values.length === 0) problems.push(`${name} must list at least one URL`);
    return values;
  };
  const redirectUris = urls("IDP_WEB_BFF_REDIRECT_URIS", DEV_WEB_BFF_REDIRECT_URIS);
  const postLogoutRedirectUris = urls(
    "IDP_WEB_BFF_POST_LOGOUT_REDIRECT_URIS",
    DEV_WEB_BFF_POST_LOGOUT_REDIRECT_URIS,
  );

  // "none" switches back-channel logout off (a BFF that does not receive it).
  const backchannelText = get("IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI") ?? DEV_WEB_BFF_BACKCHANNEL_LOGOUT_URI;
  const backchannelLogoutUri = backchannelText === "none" ? null : backchannelText;
  if (backchannelLogoutUri !== null && !isSecureOrLoopback(backchannelLogoutUri)) {
    problems.push(
      `IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI must be an https URL, or http on loopback (got "${backchannelText}")`,
    );
  }
  const apiAudience = get("IDP_API_AUDIENCE") ?? DEV_API_AUDIENCE;
  if (!URL.canParse(apiAudience)) problems.push(`IDP_API_AUDIENCE must be a URL (got "${apiAudience}")`);
  // More scopes for the one API (another app's, e.g. "notes:read notes:write"); web-bff may ask for them.
  const apiExtraScopes = (get("IDP_API_EXTRA_SCOPES") ?? "").split(/\s+/).filter(Boolean);
  for (const scope of apiExtraScopes) {
    if (
      !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope) ||
      ["openid", "offline_access", "profile", "email"].includes(scope)
    ) {
      problems.push(`IDP_API_EXTRA_SCOPES must be space-separated API scope names (got "${scope}")`);
    }
  }
  // More relying parties, without code. The file may replace a built-in client: then that
  // client's own variables (its secret above all) are not needed.
  const clientsFile = get("IDP_CLIENTS_FILE");
  const fromFile = clientsFile
    ? loadClientsFile(resolve(clientsFile), {
        mode: production ? "production" : "development",
        env,
        apiScopes: [...API_SCOPES, ...apiExtraScopes],
      })
    : { clients: [], clientIds: [], problems: [] };
  problems.push(...fromFile.problems.map((problem) => `IDP_CLIENTS_FILE: ${problem}`));
  const replaced = new Set(fromFile.clientIds);

  const clientSecret = get("IDP_WEB_BFF_SECRET") ?? (production ? undefined : DEV_WEB_BFF_SECRET);
  if (clientSecret === undefined && !replaced.has("web-bff")) {
    problems.push("IDP_WEB_BFF_SECRET is required in production");
  }
  const reportingSecret =
    get("IDP_REPORTING_SERVICE_SECRET") ?? (production ? undefined : DEV_REPORTING_SERVICE_SECRET);
  if (reportingSecret === undefined && !replaced.has("reporting-service")) {
    problems.push("IDP_REPORTING_SERVICE_SECRET is required in production");
  }

  // Left unset, logout tokens go to the development BFF, and a BFF elsewhere never hears of a
  // logout at the IdP: nothing fails, its sessions just outlive the logout. Likely a mistake in
  // production, or when the redirect URIs send people to a BFF on another origin.
  if (get("IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI") === undefined && !replaced.has("web-bff")) {
    const developmentOrigin = new URL(DEV_WEB_BFF_BACKCHANNEL_LOGOUT_URI).origin;
    const otherOrigins =
      get("IDP_WEB_BFF_REDIRECT_URIS") !== undefined &&
      !redirectUris.some((uri) => URL.parse(uri)?.origin === developmentOrigin);
    if (production || otherOrigins) {
      warnings.push(
        `IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI is not set: logout tokens for web-bff go to ${DEV_WEB_BFF_BACKCHANNEL_LOGOUT_URI}, the development BFF${otherOrigins ? ", not to the BFF that IDP_WEB_BFF_REDIRECT_URIS names" : ""}. Set it to your BFF's <origin>/bff/backchannel-logout (behind a balancer, the balancer's address), or to none.`,
      );
    }
  }

  // "opaque" for an API that introspects: oidc-provider cannot introspect JWT access tokens.
  const apiAccessTokenFormat = get("IDP_API_ACCESS_TOKEN_FORMAT") ?? DEFAULT_API_ACCESS_TOKEN_FORMAT;
  if (apiAccessTokenFormat !== "jwt" && apiAccessTokenFormat !== "opaque") {
    problems.push(`IDP_API_ACCESS_TOKEN_FORMAT must be "jwt" or "opaque" (got "${apiAccessTokenFormat}")`);
  }

  const ttlText = get("IDP_ACCESS_TOKEN_TTL");
  const accessTokenTtlSeconds = ttlText === undefined ? DEFAULT_ACCESS_TOKEN_TTL_SECONDS : Number(ttlText);
  if (
    !Number.isSafeInteger(accessTokenTtlSeconds) ||
    accessTokenTtlSeconds < 1 ||
    accessTokenTtlSeconds > 86400
  ) {
    problems.push(`IDP_ACCESS_TOKEN_TTL must be a whole number of seconds, 1-86400 (got "${ttlText}")`);
  }

  const graceText = get("IDP_REFRESH_TOKEN_GRACE_SECONDS");
  const refreshTokenGraceSeconds =
    graceText === undefined ? DEFAULT_REFRESH_TOKEN_GRACE_SECONDS : Number(graceText);
  if (
    !Number.isSafeInteger(refreshTokenGraceSeconds) ||
    refreshTokenGraceSeconds < 0 ||
    refreshTokenGraceSeconds > 300
  ) {
    problems.push(
      `IDP_REFRESH_TOKEN_GRACE_SECONDS must be a whole number of seconds, 0-300 (got "${graceText}")`,
    );
  }

  const insecureTokenLogFile = get("IDP_INSECURE_TOKEN_LOG_FILE");
  if (insecureTokenLogFile && production) {
    problems.push("IDP_INSECURE_TOKEN_LOG_FILE is a test aid and is refused in production mode");
  }

  if (problems.length > 0) {
    throw new IdpError("invalid_config", `Invalid IdP environment:\n  - ${problems.join("\n  - ")}`);
  }

  const builtIn = developmentIdpConfig({
    issuer,
    storePath: join(dataDir, "idp.sqlite"),
    keysPath: join(dataDir, "jwks.json"),
    webBff: {
      clientSecret: clientSecret as string,
      redirectUris,
      postLogoutRedirectUris,
      backchannelLogoutUri,
    },
    reportingService: { clientSecret: reportingSecret as string },
    contactsApi: contactsApiSecret === undefined ? null : { clientSecret: contactsApiSecret },
    apiAudience,
    apiExtraScopes,
    apiAccessTokenFormat: apiAccessTokenFormat as "jwt" | "opaque",
    accessTokenTtlSeconds,
    refreshTokenGraceSeconds,
  });
  const config: IdpConfig = {
    ...builtIn,
    clients: withFileClients(builtIn.clients, fromFile.clients),
    // The file's contacts-api introspects even when IDP_CONTACTS_API_SECRET is unset.
    api: replaced.has(CONTACTS_API_CLIENT_ID)
      ? { ...builtIn.api, introspectionClientId: CONTACTS_API_CLIENT_ID }
      : builtIn.api,
    mode: production ? "production" : "development",
    users,
    cookieKeys,
    ...(insecureTokenLogFile ? { insecureTokenLogFile: resolve(insecureTokenLogFile) } : {}),
    ...(trustedProxies.length > 0 ? { trustedProxies } : {}),
  };

  // Listen on the issuer's own loopback address; behind a TLS-terminating proxy
  // (an https issuer) listen on loopback and let the proxy forward.
  const hostname = issuerUrl?.hostname ?? "127.0.0.1";
  const host = LOOPBACK.has(hostname) ? hostname.replace(/^\[|\]$/g, "") : "127.0.0.1";
  return { config, host, port, warnings };
}
