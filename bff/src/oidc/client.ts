/**
 * The OpenID Connect client: the only module that imports oauth4webapi. Each
 * method is one step of the protocol, and each turns the library's errors into
 * a BffError the routes can answer with. Nothing here is specific to our IdP:
 * every endpoint comes from the provider's discovery document.
 */
import * as oauth from "oauth4webapi";

import type { ResolvedBffConfig } from "../config.ts";
import { BffError } from "../errors.ts";
import type { BffLogger } from "../logger.ts";

/** The tokens of one token endpoint response, with the expiry made absolute. */
export interface TokenSet {
  accessToken: string;
  /** ms since the epoch. */
  accessTokenExpiresAt: number;
  scopes: string[];
  refreshToken: string | undefined;
  idToken: string | undefined;
  /** Validated claims of `idToken`, when the response had one. */
  idTokenClaims: Record<string, unknown> | undefined;
}

/** What the browser must carry to `/bff/callback` and back: kept sealed in the login cookie. */
export interface AuthorizationRequest {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
  /** The scopes asked for: what was granted when the token response omits `scope` (RFC 6749 §5.1). */
  scopes: string[];
}

export interface OidcClient {
  /** Builds the authorization request (RFC 6749 §4.1.1) with PKCE S256, state and nonce. */
  authorizationRequest(options: { scopes: string[]; prompt?: string }): Promise<AuthorizationRequest>;
  /**
   * Validates the authorization response (state, RFC 9207 `iss`), redeems the
   * code with the PKCE verifier and validates the ID token, nonce included.
   */
  redeemCode(
    callbackUrl: URL,
    expected: { state: string; nonce: string; codeVerifier: string; scopes?: string[] },
  ): Promise<TokenSet>;
  /** Calls the UserInfo endpoint and checks that its `sub` is the ID token's (OpenID Connect Core §5.3.2). */
  userinfo(accessToken: string, expectedSub: string): Promise<Record<string, unknown>>;
  /**
   * Uses a refresh token (RFC 6749 §6), with `resource` when configured (RFC 8707 §2.2).
   * A new ID token in the answer must be about the same person (OpenID Connect Core §12.2).
   */
  refresh(refreshToken: string, expectedSub: string, options?: { signal?: AbortSignal }): Promise<TokenSet>;
  /**
   * Revokes a refresh token (RFC 7009). A provider without a revocation endpoint (LemonLDAP::NG)
   * is skipped: "no endpoint", and the token stays valid until it expires at the provider.
   */
  revoke(refreshToken: string): Promise<"revoked" | "no endpoint">;
  /** The provider's issuer and JWKS URL, to verify what it signs outside a token response (logout tokens). */
  signer(): Promise<{ issuer: string; jwksUri: URL }>;
  /** The RP-initiated logout URL, or undefined when the provider has no end-session endpoint. */
  endSessionUrl(idToken: string, postLogoutRedirectUri: string): Promise<URL | undefined>;
  /** An endpoint of the discovery document already fetched, without fetching (the flow inspector names it). */
  knownEndpoint(name: "token_endpoint" | "userinfo_endpoint" | "revocation_endpoint"): string | undefined;
}

/** The `typ` of a JWT's protected header, if it has one. */
function jwtHeaderTyp(jwt: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(jwt.split(".")[0] ?? "", "base64url").toString("utf8")) as {
      typ?: unknown;
    };
    return typeof header.typ === "string" ? header.typ : undefined;
  } catch {
    return undefined;
  }
}

/** How far the provider's clock and ours may disagree, for every time claim of an ID token (as for logout tokens). */
const ID_TOKEN_CLOCK_TOLERANCE_SECONDS = 30;

/**
 * Refuses a discovery document whose issuer is not, character for character, the configured
 * one (OpenID Connect Discovery §4.3). oauth4webapi compares parsed URLs, which treats
 * `https://op.example` and `https://op.example/` as one; ID tokens are then checked against the
 * document's string, so a configuration that differs by a slash fails later and less clearly.
 * Both values are quoted: the fix is to copy the provider's value into the configuration.
 */
async function requireExactIssuer(response: Response, configured: string): Promise<void> {
  if (!response.ok) return;
  let issuer: unknown;
  try {
    issuer = ((await response.json()) as { issuer?: unknown }).issuer;
  } catch {
    return; // Not JSON: oauth4webapi says so next.
  }
  if (typeof issuer !== "string" || issuer === configured) return;
  const shown = issuer.length > 200 ? `${issuer.slice(0, 200)}…` : issuer;
  throw new BffError(
    "idp_unavailable",
    `The provider's discovery document names the issuer "${shown}", but the BFF is configured with "${configured}" (issuer, BFF_ISSUER). ` +
      "They must be identical, trailing slash included; nothing is normalized. If this is the provider you mean, configure its value.",
  );
}

/** The endpoints of a discovery document that the BFF or the browser it redirects ever uses. */
const USED_ENDPOINTS = [
  "authorization_endpoint",
  "token_endpoint",
  "userinfo_endpoint",
  "jwks_uri",
  "revocation_endpoint",
  "end_session_endpoint",
] as const;

/**
 * Refuses a discovery document that sends any step over plain http when the issuer itself
 * must be https (always in production). oauth4webapi refuses its own http requests, but the
 * authorization and end-session endpoints are where the BFF sends the browser: an http one
 * would put the login (or the ID token hint) on the wire in clear.
 */
function requireHttpsEndpoints(as: oauth.AuthorizationServer): void {
  for (const name of USED_ENDPOINTS) {
    const value = as[name];
    if (typeof value === "string" && URL.parse(value)?.protocol !== "https:") {
      throw new BffError(
        "idp_unavailable",
        `The provider's discovery document lists ${name} on plain http or not as a URL ("${value.slice(0, 200)}"); ` +
          "every endpoint must use https. Fix the provider's configuration.",
      );
    }
  }
}

/** How long discovery is trusted before it is fetched again. */
const DISCOVERY_TTL_MS = 10 * 60 * 1000;

/** The error codes of an authorization response that mean "a person must interact" (OIDC Core §3.1.2.6). */
export const INTERACTION_REQUIRED = new Set(["login_required", "consent_required", "interaction_required"]);

/** Thrown when the person (or the IdP) ended the login at the authorization endpoint. */
export class AuthorizationDenied extends BffError {
  readonly error: string;
  constructor(error: string, description: string | undefined) {
    super("login_failed", describeAuthorizationError(error, description));
    this.error = error;
  }
}

function describeAuthorizationError(error: string, description: string | undefined): string {
  if (error === "access_denied") return "The sign-in was cancelled or access was not allowed.";
  if (INTERACTION_REQUIRED.has(error)) return "You need to sign in at the identity provider.";
  // The provider's description is shown as text, never as HTML, and only after our own sentence.
  return `The identity provider refused the sign-in (${error}${description ? `: ${description}` : ""}).`;
}

/**
 * How each request to the token and revocation endpoints proves the client's identity
 * (docs/decisions/013). With private_key_jwt oauth4webapi signs a fresh assertion per request:
 * `iss` = `sub` = client_id, `aud` = the issuer, a random `jti`, `exp` 60 s ahead (RFC 7523 §3).
 */
function clientAuthentication(auth: ResolvedBffConfig["clientAuthentication"]): oauth.ClientAuth {
  switch (auth.method) {
    case "client_secret_basic":
      return oauth.ClientSecretBasic(auth.clientSecret);
    case "client_secret_post":
      return oauth.ClientSecretPost(auth.clientSecret);
    case "private_key_jwt": {
      // Node's CryptoKey type and the DOM's (an app compiled with the DOM library) differ only
      // in their lists of key usages; the object is the same Web Crypto key.
      const key = auth.privateKey as oauth.CryptoKey;
      return oauth.PrivateKeyJwt(auth.keyId === undefined ? key : { key, kid: auth.keyId });
    }
  }
}

/**
 * What to change when the provider refuses client_secret_basic credentials that its form-encoding
 * (RFC 6749 §2.3.1) changed: oauth4webapi sends `bff-client` as `bff%2Dclient`, as the RFC says,
 * and some providers (Glewlwyd, LemonLDAP::NG) compare without decoding. Undefined when the
 * method is another or the id and secret are letters and digits only (the encoding keeps them).
 */
export function basicEncodingHint(
  auth: ResolvedBffConfig["clientAuthentication"],
  clientId: string,
): string | undefined {
  if (auth.method !== "client_secret_basic") return undefined;
  const changed = (value: string) => /[^A-Za-z0-9]/.test(value);
  if (!changed(clientId) && !changed(auth.clientSecret)) return undefined;
  return (
    "The client id or secret contains characters that client_secret_basic form-encodes (RFC 6749 §2.3.1), " +
    "and the provider may not decode RFC 6749 §2.3.1 form-encoding in Basic; set BFF_CLIENT_AUTHENTICATION=client_secret_post " +
    "(clientAuthentication) or use an id and secret of letters and digits."
  );
}

/** Error codes and statuses of a token or revocation endpoint that refuse the client's credentials. */
const CLIENT_REFUSED_ERRORS = new Set(["invalid_client", "unauthorized_client"]);
function refusesClient(error: unknown): boolean {
  if (error instanceof oauth.ResponseBodyError)
    return CLIENT_REFUSED_ERRORS.has(error.error) || error.status === 401;
  if (error instanceof oauth.WWWAuthenticateChallengeError) return error.status === 401;
  return (error as { cause?: { status?: unknown } } | undefined)?.cause?.status === 401;
}

export function createOidcClient(
  config: ResolvedBffConfig,
  fetchImpl: typeof fetch,
  now: () => number,
  logger?: BffLogger,
): OidcClient {
  // Pinning the ID token's algorithm refuses whatever else the provider might advertise (HS256, none).
  const client: oauth.Client = {
    client_id: config.clientId,
    id_token_signed_response_alg: config.idTokenSigningAlg,
    // The same bound for exp and nbf as for iat below (and for logout tokens): one tolerance,
    // not oauth4webapi's default that happens to match today.
    [oauth.clockTolerance]: ID_TOKEN_CLOCK_TOLERANCE_SECONDS,
  };
  const clientAuth = clientAuthentication(config.clientAuthentication);
  const encodingHint = basicEncodingHint(config.clientAuthentication, config.clientId);

  /** asBffError for the steps that authenticate the client, with what to change when the encoding may be why. */
  function clientStepError(error: unknown, step: string): BffError {
    const failure = asBffError(error, step);
    if (!encodingHint || !refusesClient(error)) return failure;
    logger?.warn(`${step}: the provider refused the client's credentials. ${encodingHint}`);
    return new BffError("login_failed", `${failure.message} ${encodingHint}`, { cause: error });
  }
  // Every request to the provider: through the injected fetch, and over plain http only when
  // the configuration allowed it (development and test, loopback only; see config.ts).
  const http = {
    [oauth.customFetch]: fetchImpl,
    ...(config.allowInsecureHttpIssuer ? { [oauth.allowInsecureRequests]: true } : {}),
  };

  const entraRefreshScope = [
    ...config.apiScopes,
    ...config.scopes.filter((scope) => scope === "offline_access"),
  ].join(" ");

  let discovered: { as: oauth.AuthorizationServer; at: number } | undefined;
  let pending: Promise<oauth.AuthorizationServer> | undefined;

  /** The provider's metadata, fetched on first use and cached; failures are not cached. */
  function metadata(): Promise<oauth.AuthorizationServer> {
    if (discovered && now() - discovered.at < DISCOVERY_TTL_MS) return Promise.resolve(discovered.as);
    pending ??= (async () => {
      try {
        const response = await oauth.discoveryRequest(config.issuer, { ...http, algorithm: "oidc" });
        await requireExactIssuer(response.clone(), config.issuerIdentifier);
        // Checks that the document names exactly our issuer (OpenID Connect Discovery §4.3).
        const as = await oauth.processDiscoveryResponse(config.issuer, response);
        if (!config.allowInsecureHttpIssuer) requireHttpsEndpoints(as);
        discovered = { as, at: now() };
        return as;
      } catch (error) {
        throw asBffError(error, "discovery");
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  }

  /**
   * `requested`: the scopes the request asked for, which a response without `scope` was granted
   * (RFC 6749 §5.1: `scope` is only required when it differs). A refresh that asked for none is
   * given nothing here, and the session keeps the scopes it had (RFC 6749 §6).
   */
  function toTokenSet(response: oauth.TokenEndpointResponse, requested: string[] | undefined): TokenSet {
    const claims = oauth.getValidatedIdTokenClaims(response);
    // oauth4webapi checks exp but lets any iat through: an ID token "issued" in the future was
    // made for later use, or by a provider with a broken clock. Either way, not ours to accept.
    if (claims && claims.iat > now() / 1000 + ID_TOKEN_CLOCK_TOLERANCE_SECONDS) {
      throw new BffError("login_failed", "The ID token claims to be issued in the future.");
    }
    // An access token (at+jwt) or a logout token (logout+jwt) signed by the same provider must
    // not pass as an ID token: those say what they are in `typ`, and an ID token says JWT or nothing.
    if (response.id_token) {
      const typ = jwtHeaderTyp(response.id_token);
      if (typ !== undefined && !["jwt", "application/jwt"].includes(typ.toLowerCase())) {
        throw new BffError("login_failed", `The ID token is typed as something else (${typ}).`);
      }
    }
    return {
      accessToken: response.access_token,
      // A provider that omits expires_in gets a short, safe guess: refreshed again soon.
      accessTokenExpiresAt: now() + (response.expires_in ?? 300) * 1000,
      scopes:
        typeof response.scope === "string" ? response.scope.split(" ").filter(Boolean) : (requested ?? []),
      refreshToken: response.refresh_token,
      idToken: response.id_token,
      idTokenClaims: claims ? { ...claims } : undefined,
    };
  }

  return {
    async authorizationRequest({ scopes, prompt }) {
      const as = await metadata();
      if (!as.authorization_endpoint)
        throw new BffError("idp_unavailable", "The provider has no authorization endpoint.");
      const codeVerifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const nonce = oauth.generateRandomNonce();
      const url = new URL(as.authorization_endpoint);
      // First the configured extras (validated: none of the parameters below), so ours always win.
      for (const [name, value] of Object.entries(config.authorizationParams))
        url.searchParams.set(name, value);
      url.searchParams.set("client_id", config.clientId);
      url.searchParams.set("redirect_uri", config.redirectUri);
      url.searchParams.set("response_type", "code");
      // Entra: the API's scopes are consented to here, with the rest (docs/decisions/010).
      const asked = [...new Set([...scopes, ...config.apiScopes])];
      url.searchParams.set("scope", asked.join(" "));
      url.searchParams.set("state", state);
      url.searchParams.set("nonce", nonce);
      url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(codeVerifier));
      url.searchParams.set("code_challenge_method", "S256");
      if (config.resource) url.searchParams.set("resource", config.resource);
      // Auth0: the API's identifier; the code exchange then answers the API's token.
      if (config.audience) url.searchParams.set("audience", config.audience);
      if (prompt) url.searchParams.set("prompt", prompt);
      return { url, state, nonce, codeVerifier, scopes: asked };
    },

    async redeemCode(callbackUrl, expected) {
      const as = await metadata();
      let parameters: URLSearchParams;
      try {
        // Checks state, and `iss` whenever the provider says it sends one (RFC 9207 §2.4).
        parameters = oauth.validateAuthResponse(as, client, callbackUrl, expected.state);
      } catch (error) {
        if (error instanceof oauth.AuthorizationResponseError) {
          throw new AuthorizationDenied(error.error, error.error_description);
        }
        throw asBffError(error, "authorization response");
      }
      // Entra answers one resource's token per request: without the API's scopes, the
      // one the userinfo endpoint (Microsoft Graph) accepts. The API's comes by refresh.
      const exchangeScope =
        config.apiScopes.length > 0
          ? config.scopes.filter((scope) => !config.apiScopes.includes(scope))
          : undefined;
      try {
        const response = await oauth.authorizationCodeGrantRequest(
          as,
          client,
          clientAuth,
          parameters,
          config.redirectUri,
          expected.codeVerifier,
          {
            ...http,
            ...(exchangeScope ? { additionalParameters: { scope: exchangeScope.join(" ") } } : {}),
          },
        );
        const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
          expectedNonce: expected.nonce,
          requireIdToken: true,
        });
        // The claims are checked above; the signature too, against the provider's JWKS. TLS alone
        // would vouch for the sender, but in development the provider speaks plain http.
        await oauth.validateApplicationLevelSignature(as, response, http);
        return toTokenSet(result, exchangeScope ?? expected.scopes);
      } catch (error) {
        throw clientStepError(error, "code exchange");
      }
    },

    async userinfo(accessToken, expectedSub) {
      const as = await metadata();
      try {
        const response = await oauth.userInfoRequest(as, client, accessToken, http);
        return { ...(await oauth.processUserInfoResponse(as, client, expectedSub, response)) };
      } catch (error) {
        throw asBffError(error, "userinfo");
      }
    },

    async refresh(refreshToken, expectedSub, options = {}) {
      const as = await metadata();
      let tokens: TokenSet;
      try {
        const response = await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshToken, {
          ...http,
          ...(options.signal ? { signal: options.signal } : {}),
          ...(config.resource ? { additionalParameters: { resource: config.resource } } : {}),
          // Entra: the API's scopes pick the token's resource; offline_access keeps a refresh token coming.
          ...(config.apiScopes.length > 0 ? { additionalParameters: { scope: entraRefreshScope } } : {}),
        });
        const result = await oauth.processRefreshTokenResponse(as, client, response);
        if (result.id_token) await oauth.validateApplicationLevelSignature(as, response, http);
        tokens = toTokenSet(result, config.apiScopes.length > 0 ? entraRefreshScope.split(" ") : undefined);
      } catch (error) {
        throw clientStepError(error, "refresh");
      }
      if (tokens.idTokenClaims && tokens.idTokenClaims.sub !== expectedSub) {
        throw new BffError("login_failed", "The identity provider's new ID token is about another person.");
      }
      return tokens;
    },

    async revoke(refreshToken) {
      const as = await metadata();
      if (!as.revocation_endpoint) return "no endpoint";
      try {
        const response = await oauth.revocationRequest(as, client, clientAuth, refreshToken, {
          ...http,
          additionalParameters: { token_type_hint: "refresh_token" },
        });
        await oauth.processRevocationResponse(response);
        return "revoked";
      } catch (error) {
        throw clientStepError(error, "revocation");
      }
    },

    async signer() {
      const as = await metadata();
      if (!as.jwks_uri) throw new BffError("idp_unavailable", "The provider publishes no JWKS.");
      return { issuer: as.issuer, jwksUri: new URL(as.jwks_uri) };
    },

    async endSessionUrl(idToken, postLogoutRedirectUri) {
      const as = await metadata();
      if (!as.end_session_endpoint) return undefined;
      const url = new URL(as.end_session_endpoint);
      url.searchParams.set("id_token_hint", idToken);
      url.searchParams.set("client_id", config.clientId);
      url.searchParams.set("post_logout_redirect_uri", postLogoutRedirectUri);
      return url;
    },

    knownEndpoint(name) {
      return discovered?.as[name];
    },
  };
}

/**
 * 4xx answers that say "not now" rather than "no" (RFC 9110 §15.5.9, RFC 6585 §4): rate
 * limiting in front of a provider often answers 429 with an HTML page. Treated like a 5xx.
 */
const RETRY_LATER = new Set([408, 429]);

/**
 * What a failure of one protocol step means for the person:
 * - the provider refused a grant (`invalid_grant`: code used twice, refresh token
 *   spent, revoked or expired) → the session is over;
 * - the provider could not be reached or failed (network error, 5xx, 408, 429), with or
 *   without an OAuth error body → try again later;
 * - any other 4xx, even without an OAuth error body (an HTML page, nothing) → refused;
 * - anything else (a response that failed validation) → the login failed.
 * The message never includes the response body: it may hold tokens.
 */
export function asBffError(error: unknown, step: string): BffError {
  if (error instanceof BffError) return error;
  if (error instanceof oauth.ResponseBodyError) {
    if (error.status >= 500 || RETRY_LATER.has(error.status)) {
      return new BffError("idp_unavailable", `The identity provider failed during ${step}.`, {
        cause: error,
      });
    }
    if (error.error === "invalid_client") {
      // The BFF's own credentials (secret, key, or method) are wrong: no retry by the person helps.
      return new BffError(
        "login_failed",
        `The identity provider did not accept this application's client authentication during ${step} (invalid_client). Its configuration must be fixed; signing in again will not help.`,
        { cause: error },
      );
    }
    if (error.error === "invalid_grant") {
      return new BffError(
        "session_expired",
        `The identity provider no longer accepts this grant (${step}).`,
        {
          cause: error,
        },
      );
    }
    return new BffError("login_failed", `The identity provider refused the ${step} (${error.error}).`, {
      cause: error,
    });
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    return new BffError(
      "login_failed",
      `The identity provider refused the ${step} (status ${error.status}).`,
      {
        cause: error,
      },
    );
  }
  if (error instanceof oauth.OperationProcessingError || error instanceof oauth.UnsupportedOperationError) {
    // A response that is not what the protocol demands: a wrong issuer, nonce or state, a bad
    // ID token, an unexpected status. 5xx answers surface here too when the body is not JSON.
    const status = (error.cause as { status?: unknown } | undefined)?.status;
    if (typeof status === "number" && (status >= 500 || RETRY_LATER.has(status))) {
      return new BffError("idp_unavailable", `The identity provider failed during ${step}.`, {
        cause: error,
      });
    }
    return new BffError("login_failed", `The ${step} response failed validation: ${error.message}`, {
      cause: error,
    });
  }
  // fetch rejects with a TypeError when the provider cannot be reached at all.
  return new BffError("idp_unavailable", `The identity provider could not be reached during ${step}.`, {
    cause: error,
  });
}

/** Connection errors that happen before a request is written: the provider never saw it. */
const NOT_CONNECTED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * Whether a failed request certainly never reached the provider: the connection
 * itself was refused or the host not found. A deadline, a connection lost half-way
 * or an error status may come after the provider acted on the request (a refresh
 * token spent), so they are not "never reached". Used by the refresher to decide
 * whether the same refresh token may be sent again at once.
 */
export function neverReachedProvider(error: unknown): boolean {
  for (let cause = error, depth = 0; cause !== undefined && cause !== null && depth < 6; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && NOT_CONNECTED.has(code)) return true;
    // fetch wraps several connection attempts (IPv6 and IPv4) in an AggregateError.
    if (cause instanceof AggregateError) return cause.errors.every((inner) => neverReachedProvider(inner));
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}
