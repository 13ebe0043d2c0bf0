import type { JsonWebKey } from "node:crypto";

import { DEFAULT_LOCAL_SYSTEM, SCOPES } from "@oidc-bff/shared";

import { IdpError } from "./errors.ts";
import { verifyPassword } from "./password.ts";
import { DEV_USERS_FILE, type IdpUser, loadUsersFile } from "./users.ts";

export type IdpMode = "development" | "test" | "production";

/** RFC 8628 §3.4: the grant type a device polls the token endpoint with. */
export const DEVICE_CODE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code";

/** A registered (static) client. Dynamic registration is off: these are the only clients. */
export type IdpGrantType =
  | "authorization_code"
  | "refresh_token"
  | "client_credentials"
  | typeof DEVICE_CODE_GRANT_TYPE;

export interface IdpClient {
  clientId: string;
  clientName: string;
  /**
   * A confidential client (a server) authenticates at the token endpoint with
   * HTTP Basic (client_secret_basic) and this secret. Leave it out only for a
   * client that is `public` or uses private_key_jwt.
   */
  clientSecret?: string;
  /**
   * How a confidential client authenticates at the token, revocation and
   * introspection endpoints (oidc-provider takes a secret by Basic or in the
   * body whichever of the two is registered, but a key only from a key client
   * and a secret never from one). Default `client_secret_basic`. `client_secret_post`: the same secret, in the form
   * body. `private_key_jwt` (RFC 7523, OpenID Connect Core §9): a JWT signed
   * with the client's private key; the IdP holds only the public keys in `jwks`
   * and the client has no secret.
   */
  tokenEndpointAuth?:
    | { method: "client_secret_basic" | "client_secret_post" }
    | { method: "private_key_jwt"; jwks: { keys: JsonWebKey[] } };
  /**
   * A public client (RFC 6749 §2.1) runs on the person's own machine, like the
   * command line: any secret shipped with it could be read by whoever installs
   * it, so it has none and only names itself (token_endpoint_auth_method
   * "none"). Its refresh tokens rotate on every use.
   */
  public?: boolean;
  /** Compared by exact string match, as OAuth 2.0 Security BCP requires. */
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  /** Every scope this client may obtain: OpenID scopes and API scopes alike. */
  scopes: string[];
  /**
   * The grants it may use. Default: authorization_code and refresh_token (a
   * person logs in). A service acting as itself uses client_credentials only.
   * The password grant and the implicit flow are never available (RFC 9700 §2.4, §2.1.2).
   */
  grantTypes?: IdpGrantType[];
  /**
   * Where the IdP posts a logout token (OpenID Connect Back-Channel Logout 1.0)
   * when the person logs out at the IdP or the client's grant is revoked.
   */
  backchannelLogoutUri?: string;
}

/** The protected API, known to clients by its RFC 8707 resource indicator. */
export interface IdpApiResource {
  /** The resource indicator clients send as `resource`, and the `aud` of the API's access tokens. */
  audience: string;
  /** The scopes the API understands. A client gets the ones it is also registered for. */
  scopes: string[];
  /**
   * Its access tokens: "jwt" (RFC 9068, default) the API validates on its own;
   * "opaque" only the IdP can read, so the API must introspect them (RFC 7662).
   * oidc-provider neither stores nor introspects JWT access tokens.
   */
  accessTokenFormat?: "jwt" | "opaque";
  /**
   * The client the API authenticates as at the introspection endpoint: the only
   * client allowed to introspect, and only access tokens for this audience.
   * Unset: nobody may introspect.
   */
  introspectionClientId?: string;
}

/** Lifetimes, in seconds. */
export interface IdpTtls {
  accessToken: number;
  authorizationCode: number;
  idToken: number;
  refreshToken: number;
  session: number;
  grant: number;
  interaction: number;
  /** RFC 8628 §3.2 `expires_in`: how long a device code (and its user code) can be used. */
  deviceCode: number;
}

export interface IdpConfig {
  /** The issuer identifier, exactly as it appears in tokens and discovery. */
  issuer: string;
  mode: IdpMode;
  /** SQLite file for sessions, grants, codes and tokens; ":memory:" for tests. */
  storePath: string;
  /** JWKS file for the signing keys (created on first start); null = a fresh key in memory. */
  keysPath: string | null;
  /** Keys signing the IdP's cookies; the first signs, all verify (prepend to rotate). */
  cookieKeys: string[];
  users: IdpUser[];
  clients: IdpClient[];
  api: IdpApiResource;
  ttl: IdpTtls;
  /**
   * Seconds during which a confidential client may present the refresh token it
   * used last once more without the grant being revoked (see RefreshTokenGrace in
   * store/sqlite-adapter.ts): a client that lost the answer to a refresh — a crash,
   * a dropped connection, a deadline — can recover. 0 turns it off; then any replay
   * of a used refresh token revokes the grant. Default 30.
   */
  refreshTokenGraceSeconds: number;
  /**
   * Addresses of the reverse proxies in front of the IdP whose X-Forwarded-For
   * names the client (see client-address.ts). None by default: the client is the
   * socket's address. Behind a proxy that is not listed, every request seems to
   * come from the proxy, and the guessing limits count everyone together.
   */
  trustedProxies?: string[];
  /**
   * TEST AID ONLY — NEVER IN PRODUCTION. When set, every access, refresh and ID
   * token the token endpoint hands out is appended to this file, so end-to-end
   * tests can assert that none of them ever reaches the browser. Production mode
   * refuses to start with it.
   */
  insecureTokenLogFile?: string;
}

/** The development defaults name the system on its default ports (shared/src/local-system.ts). */
export const DEV_ISSUER = DEFAULT_LOCAL_SYSTEM.idp;
/**
 * Long enough to cover a BFF's refresh lock (10 s) plus a retry after it, short
 * enough that a stolen token is of little use: it also needs the client's secret.
 */
export const DEFAULT_REFRESH_TOKEN_GRACE_SECONDS = 30;
export const DEV_API_AUDIENCE = DEFAULT_LOCAL_SYSTEM.api;
export const DEV_WEB_BFF_SECRET = "dev-web-bff-secret-change-me";
export const DEV_REPORTING_SERVICE_SECRET = "dev-reporting-service-secret-change-me";
/** The API's own client, for token introspection only. */
export const CONTACTS_API_CLIENT_ID = "contacts-api";
export const DEV_CONTACTS_API_SECRET = "dev-contacts-api-secret-change-me";
/** The BFF serving the SPA, and Vite in front of it (`pnpm dev`). */
export const DEV_WEB_BFF_REDIRECT_URIS = [
  `${DEFAULT_LOCAL_SYSTEM.bff}/bff/callback`,
  `${DEFAULT_LOCAL_SYSTEM.vite}/bff/callback`,
];
export const DEV_WEB_BFF_POST_LOGOUT_REDIRECT_URIS = [
  `${DEFAULT_LOCAL_SYSTEM.bff}/`,
  `${DEFAULT_LOCAL_SYSTEM.vite}/`,
];
/** The BFF itself, in every mode (Vite only proxies to it). */
export const DEV_WEB_BFF_BACKCHANNEL_LOGOUT_URI = `${DEFAULT_LOCAL_SYSTEM.bff}/bff/backchannel-logout`;
/** Public on purpose (it is in the repository): production mode refuses it. */
export const DEV_COOKIE_KEYS = ["dev-idp-cookie-key-change-me-this-is-not-a-secret"];
/** The passwords of the committed development users; production refuses any user still using one. */
export const DEV_PASSWORDS = ["alice-dev-password", "bob-dev-password"];

export const API_SCOPES = [SCOPES.read, SCOPES.write, SCOPES.stats];

export interface DevelopmentIdpOptions {
  issuer?: string;
  /** SQLite file path, or ":memory:" in tests. */
  storePath: string;
  /** JWKS file; null = generate in memory (tests). */
  keysPath: string | null;
  webBff?: {
    clientSecret?: string;
    /** Default client_secret_basic. With private_key_jwt, web-bff has no secret (clientSecret is ignored). */
    tokenEndpointAuth?: IdpClient["tokenEndpointAuth"];
    redirectUris?: string[];
    postLogoutRedirectUris?: string[];
    /** null: no back-channel logout. */
    backchannelLogoutUri?: string | null;
  };
  reportingService?: { clientSecret?: string };
  /** The API as an introspecting client (`contacts-api`); null: not registered, nobody introspects. */
  contactsApi?: { clientSecret?: string } | null;
  apiAudience?: string;
  /** API scopes beyond the contacts ones (another app's own), which web-bff may also ask for. */
  apiExtraScopes?: string[];
  /** Format of the API's access tokens; default "jwt". */
  apiAccessTokenFormat?: "jwt" | "opaque";
  accessTokenTtlSeconds?: number;
  /** See IdpConfig.refreshTokenGraceSeconds; default DEFAULT_REFRESH_TOKEN_GRACE_SECONDS. */
  refreshTokenGraceSeconds?: number;
  /** Lifetime of device codes (RFC 8628), default 600 seconds; tests use a short one. */
  deviceCodeTtlSeconds?: number;
  mode?: "development" | "test";
}

/**
 * The embedded defaults: the dev users (alice, bob), the `web-bff` client with
 * its dev secret, the contacts API as a resource server, and the lifetimes.
 * For development and tests only; production mode refuses what is insecure here.
 *
 * @example
 * const idp = await createIdp(developmentIdpConfig({ storePath: ":memory:", keysPath: null, mode: "test" }));
 */
export function developmentIdpConfig(options: DevelopmentIdpOptions): IdpConfig {
  return {
    issuer: options.issuer ?? DEV_ISSUER,
    mode: options.mode ?? "development",
    storePath: options.storePath,
    keysPath: options.keysPath,
    cookieKeys: [...DEV_COOKIE_KEYS],
    users: loadUsersFile(DEV_USERS_FILE),
    clients: [
      {
        clientId: "web-bff",
        clientName: "Contacts (web)",
        ...(options.webBff?.tokenEndpointAuth?.method === "private_key_jwt"
          ? {}
          : { clientSecret: options.webBff?.clientSecret ?? DEV_WEB_BFF_SECRET }),
        ...(options.webBff?.tokenEndpointAuth ? { tokenEndpointAuth: options.webBff.tokenEndpointAuth } : {}),
        redirectUris: options.webBff?.redirectUris ?? [...DEV_WEB_BFF_REDIRECT_URIS],
        postLogoutRedirectUris: options.webBff?.postLogoutRedirectUris ?? [
          ...DEV_WEB_BFF_POST_LOGOUT_REDIRECT_URIS,
        ],
        // Not contacts:stats: that one is for the reporting service only.
        scopes: [
          "openid",
          "profile",
          "email",
          "offline_access",
          SCOPES.read,
          SCOPES.write,
          ...(options.apiExtraScopes ?? []),
        ],
        ...(options.webBff?.backchannelLogoutUri === null
          ? {}
          : {
              backchannelLogoutUri:
                options.webBff?.backchannelLogoutUri ?? DEV_WEB_BFF_BACKCHANNEL_LOGOUT_URI,
            }),
      },
      {
        // A service that acts as itself (client credentials, RFC 6749 §4.4): aggregate
        // statistics only, never a person's data.
        clientId: "reporting-service",
        clientName: "Reporting service",
        clientSecret: options.reportingService?.clientSecret ?? DEV_REPORTING_SERVICE_SECRET,
        redirectUris: [],
        postLogoutRedirectUris: [],
        scopes: [SCOPES.stats],
        grantTypes: ["client_credentials"],
      },
      {
        // The command line, for a person (`contacts login`): the device authorization
        // grant (RFC 8628). Public: it runs on the person's machine and cannot keep a secret.
        clientId: "contacts-cli",
        clientName: "Contacts (command line)",
        public: true,
        redirectUris: [],
        postLogoutRedirectUris: [],
        scopes: ["openid", "offline_access", "profile", SCOPES.read, SCOPES.write],
        grantTypes: [DEVICE_CODE_GRANT_TYPE, "refresh_token"],
      },
      ...(options.contactsApi === null
        ? []
        : [
            {
              // The API itself, when it validates tokens by introspection (RFC 7662): it
              // authenticates at the introspection endpoint and obtains no token of its own.
              clientId: CONTACTS_API_CLIENT_ID,
              clientName: "Contacts API",
              clientSecret: options.contactsApi?.clientSecret ?? DEV_CONTACTS_API_SECRET,
              redirectUris: [],
              postLogoutRedirectUris: [],
              scopes: [],
              grantTypes: [],
            },
          ]),
    ],
    api: {
      audience: options.apiAudience ?? DEV_API_AUDIENCE,
      scopes: [...API_SCOPES, ...(options.apiExtraScopes ?? [])],
      accessTokenFormat: options.apiAccessTokenFormat ?? "jwt",
      ...(options.contactsApi === null ? {} : { introspectionClientId: CONTACTS_API_CLIENT_ID }),
    },
    ttl: {
      accessToken: options.accessTokenTtlSeconds ?? 300,
      authorizationCode: 60,
      idToken: 60 * 60,
      refreshToken: 24 * 60 * 60,
      session: 14 * 24 * 60 * 60,
      grant: 14 * 24 * 60 * 60,
      interaction: 10 * 60,
      deviceCode: options.deviceCodeTtlSeconds ?? 10 * 60,
    },
    refreshTokenGraceSeconds: options.refreshTokenGraceSeconds ?? DEFAULT_REFRESH_TOKEN_GRACE_SECONDS,
  };
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** http is acceptable only on the loopback interface (RFC 8252 §8.3, OAuth 2.0 Security BCP §2.6). */
export function isSecureOrLoopback(value: string): boolean {
  const url = URL.parse(value);
  if (!url) return false;
  return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname));
}

/**
 * Refuses a configuration that still carries development defaults or misses
 * what production needs. Lists every problem in one error, so that one
 * restart is enough to see them all.
 */
export async function assertProductionReady(config: IdpConfig): Promise<void> {
  const problems: string[] = [];

  if (!config.issuer) problems.push("issuer is missing");
  else if (!isSecureOrLoopback(config.issuer)) {
    problems.push(`issuer ${config.issuer} must use https (http is only allowed on loopback)`);
  }

  if (config.cookieKeys.length === 0) problems.push("cookie keys are missing");
  for (const [index, key] of config.cookieKeys.entries()) {
    if (DEV_COOKIE_KEYS.includes(key))
      problems.push(`cookie key #${index + 1} is the development cookie key`);
    else if (key.length < 32) problems.push(`cookie key #${index + 1} is shorter than 32 characters`);
  }

  if (config.users.length === 0) problems.push("there are no users");
  for (const user of config.users) {
    for (const password of DEV_PASSWORDS) {
      if (await verifyPassword(password, user.passwordHash)) {
        problems.push(`user "${user.username}" has a development password (the development users file?)`);
        break;
      }
    }
  }

  if (config.clients.length === 0) problems.push("there are no clients");
  for (const client of config.clients) {
    // A public client has no secret to check (createIdp refuses one that has a secret).
    if (client.public) {
      // its secret cannot be kept, so there is none
    } else if (client.tokenEndpointAuth?.method === "private_key_jwt") {
      // No secret to check: the client signs with its private key, the IdP holds the public keys.
      if (client.tokenEndpointAuth.jwks.keys.length === 0) {
        problems.push(`client ${client.clientId}: private_key_jwt needs the client's public keys (jwks)`);
      }
    } else if (!client.clientSecret) {
      problems.push(`client ${client.clientId}: secret is missing`);
    } else if (
      client.clientSecret === DEV_WEB_BFF_SECRET ||
      client.clientSecret === DEV_REPORTING_SERVICE_SECRET ||
      client.clientSecret === DEV_CONTACTS_API_SECRET
    ) {
      problems.push(`client ${client.clientId}: secret is the development secret`);
    } else if (client.clientSecret.length < 32) {
      problems.push(`client ${client.clientId}: secret is shorter than 32 characters`);
    }
    const logsPeopleIn = (client.grantTypes ?? ["authorization_code"]).includes("authorization_code");
    if (logsPeopleIn && client.redirectUris.length === 0)
      problems.push(`client ${client.clientId}: redirect URIs are missing`);
    for (const uri of [...client.redirectUris, ...client.postLogoutRedirectUris]) {
      if (!isSecureOrLoopback(uri)) {
        problems.push(`client ${client.clientId}: ${uri} must use https (http is only allowed on loopback)`);
      }
    }
  }

  if (!config.api.audience) problems.push("API audience is missing");
  if (!config.storePath || config.storePath === ":memory:") {
    problems.push("store path is missing (an in-memory store loses every session on restart)");
  }
  if (config.keysPath === null || config.keysPath === "") {
    problems.push("keys path is missing (in-memory keys invalidate every token on restart)");
  }
  if (config.insecureTokenLogFile) {
    problems.push("the insecure token log (IDP_INSECURE_TOKEN_LOG_FILE) is a test aid and must not be set");
  }

  if (problems.length > 0) {
    throw new IdpError(
      "not_production_ready",
      `The IdP refuses to start in production mode:\n  - ${problems.join("\n  - ")}`,
    );
  }
}
