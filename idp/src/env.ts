import { isAbsolute, join, resolve } from "node:path";

import {
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
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

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
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === "" ? undefined : value;
  };
  const list = (name: string): string[] | undefined =>
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

  const dataDir = resolve(get("IDP_DATA_DIR") ?? join(repoRoot, ".data", "idp"));

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

  const clientSecret = get("IDP_WEB_BFF_SECRET") ?? (production ? undefined : DEV_WEB_BFF_SECRET);
  if (clientSecret === undefined) problems.push("IDP_WEB_BFF_SECRET is required in production");
  const reportingSecret =
    get("IDP_REPORTING_SERVICE_SECRET") ?? (production ? undefined : DEV_REPORTING_SERVICE_SECRET);
  if (reportingSecret === undefined) problems.push("IDP_REPORTING_SERVICE_SECRET is required in production");
  // The API's client for token introspection. Optional in production: without it the
  // client is not registered and the introspection endpoint is off (the API validates JWTs).
  const contactsApiSecret =
    get("IDP_CONTACTS_API_SECRET") ?? (production ? undefined : DEV_CONTACTS_API_SECRET);

  const urls = (name: string, fallback: string[]): string[] => {
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
  // "opaque" for an API that introspects: oidc-provider cannot introspect JWT access tokens.
  const apiAccessTokenFormat = get("IDP_API_ACCESS_TOKEN_FORMAT") ?? "jwt";
  if (apiAccessTokenFormat !== "jwt" && apiAccessTokenFormat !== "opaque") {
    problems.push(`IDP_API_ACCESS_TOKEN_FORMAT must be "jwt" or "opaque" (got "${apiAccessTokenFormat}")`);
  }

  const ttlText = get("IDP_ACCESS_TOKEN_TTL");
  const accessTokenTtlSeconds = ttlText === undefined ? 300 : Number(ttlText);
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

  const config: IdpConfig = {
    ...developmentIdpConfig({
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
    }),
    mode: production ? "production" : "development",
    users,
    cookieKeys,
    ...(insecureTokenLogFile ? { insecureTokenLogFile: resolve(insecureTokenLogFile) } : {}),
  };

  // Listen on the issuer's own loopback address; behind a TLS-terminating proxy
  // (an https issuer) listen on loopback and let the proxy forward.
  const hostname = issuerUrl?.hostname ?? "127.0.0.1";
  const host = LOOPBACK.has(hostname) ? hostname.replace(/^\[|\]$/g, "") : "127.0.0.1";
  return { config, host, port };
}
