import {
  type Adapter,
  type ClientMetadata,
  type Configuration,
  errors,
  type KoaContextWithOIDC,
  type ResourceServer,
} from "oidc-provider";

import type { IdpClient, IdpConfig } from "./config.ts";
import { deviceFlowFeature } from "./device-flow.ts";
import type { SigningKeySet } from "./keys.ts";
import type { UserDirectory } from "./users.ts";
import { errorPage, logoutPage, signedOutPage } from "./views.ts";

/** OpenID Connect scopes (the API's scopes are per resource server, below). */
export const OIDC_SCOPES = ["openid", "offline_access", "profile", "email"];

/** Cookie names of the IdP (each also has a `.sig` companion: they are signed). */
export const IDP_COOKIE_NAMES = {
  session: "idp_session",
  interaction: "idp_interaction",
  resume: "idp_interaction_resume",
} as const;

/** oidc-provider's `cookies.long`: the session cookie. */
const SESSION_COOKIE = { httpOnly: true, sameSite: "lax", signed: true } as const;

export interface ProviderDeps {
  adapter: (model: string) => Adapter;
  jwks: SigningKeySet;
  users: UserDirectory;
  /** Outgoing requests (back-channel logout). Default: globalThis.fetch. */
  fetch?: typeof fetch;
}

/** How the client authenticates (its registered token_endpoint_auth_method, and its keys or secret). */
function clientAuthenticationMetadata(
  client: IdpClient,
): Pick<ClientMetadata, "token_endpoint_auth_method" | "client_secret" | "jwks"> {
  // A public client (the command line) only names itself: it has no secret to keep.
  if (client.public) return { token_endpoint_auth_method: "none" };
  const auth = client.tokenEndpointAuth ?? { method: "client_secret_basic" };
  // No secret at all: the IdP keeps only public keys, nothing that could act as the client.
  if (auth.method === "private_key_jwt") {
    return { token_endpoint_auth_method: "private_key_jwt", jwks: auth.jwks as ClientMetadata["jwks"] };
  }
  return { client_secret: client.clientSecret, token_endpoint_auth_method: auth.method };
}

function clientMetadata(client: IdpClient): ClientMetadata {
  const grantTypes = client.grantTypes ?? ["authorization_code", "refresh_token"];
  const oidcScopes = client.scopes.filter((scope) => OIDC_SCOPES.includes(scope));
  return {
    client_id: client.clientId,
    client_name: client.clientName,
    ...clientAuthenticationMetadata(client),
    // Never implicit, never the password grant (OAuth 2.0 Security BCP §2.1.2, §2.4).
    grant_types: grantTypes,
    // A client that does not log people in has no use for the authorization endpoint.
    response_types: grantTypes.includes("authorization_code") ? ["code"] : [],
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    ...(client.backchannelLogoutUri
      ? {
          backchannel_logout_uri: client.backchannelLogoutUri,
          // Logout tokens at the end of an IdP session name it (sid) beside the person (sub):
          // relying parties that find their sessions by sid (mod_auth_openidc) need it. When a
          // grant is revoked (the BFF's logout, reuse detection) they name the person only, so
          // that logout ends every session of that person (docs/decisions/008).
          backchannel_logout_session_required: true,
        }
      : {}),
    // Which OpenID scopes this client may ask for. Its API scopes are decided in getResourceServerInfo.
    // (A client without any, like a service using client credentials, leaves it out: oidc-provider
    // refuses an empty scope list.)
    ...(oidcScopes.length > 0 ? { scope: oidcScopes.join(" ") } : {}),
  };
}

/**
 * The whole oidc-provider configuration, in one object. Each choice that differs
 * from oidc-provider's default says why.
 */
export function providerConfiguration(config: IdpConfig, deps: ProviderDeps): Configuration {
  const clientsById = new Map(config.clients.map((client) => [client.clientId, client]));

  /**
   * RFC 8707 resource indicators: a client names the API it wants a token for
   * with `resource=<API audience>`. Only our one API exists; a client may get
   * the API scopes it is registered for, nothing more.
   */
  function getResourceServerInfo(
    _ctx: KoaContextWithOIDC,
    resourceIndicator: string,
    client: { clientId: string },
  ): ResourceServer {
    if (resourceIndicator !== config.api.audience) {
      throw new errors.InvalidTarget("unknown resource indicator");
    }
    const registered = clientsById.get(client.clientId)?.scopes ?? [];
    const allowed = config.api.scopes.filter((scope) => registered.includes(scope));
    if (allowed.length === 0) {
      throw new errors.InvalidTarget("client is not allowed to request access to this resource");
    }
    return {
      scope: allowed.join(" "),
      audience: config.api.audience,
      accessTokenTTL: config.ttl.accessToken,
      // RFC 9068 JWT access token: typ "at+jwt", aud = the API, scope = granted API scopes.
      // Or opaque: a reference only this IdP can resolve, so the API introspects it and a
      // revoked token stops working at once (oidc-provider stores only opaque tokens, and
      // its introspection endpoint refuses JWTs).
      ...(config.api.accessTokenFormat === "opaque"
        ? { accessTokenFormat: "opaque" }
        : { accessTokenFormat: "jwt", jwt: { sign: { alg: "RS256" } } }),
    };
  }

  const outgoingFetch = deps.fetch ?? ((url, init) => globalThis.fetch(url, init));
  return {
    // oidc-provider refuses loopback and private addresses for outgoing requests (SSRF
    // protection). Outside production the BFF's back-channel URI *is* on loopback, so
    // there it is allowed; production keeps the protection.
    ...(config.mode === "production"
      ? {}
      : {
          fetch: (url: string | URL | Request, options: RequestInit = {}) => {
            const { dispatcher: _ssrfGuard, ...rest } = options as RequestInit & { dispatcher?: unknown };
            return outgoingFetch(url, rest);
          },
        }),
    adapter: deps.adapter,
    jwks: deps.jwks,
    clients: config.clients.map(clientMetadata),

    async findAccount(_ctx, sub) {
      const user = deps.users.findBySub(sub);
      if (!user) return undefined;
      // Return every claim; oidc-provider only releases those the granted scopes cover.
      return { accountId: user.sub, claims: () => ({ sub: user.sub, ...user.claims }) };
    },

    scopes: OIDC_SCOPES,
    claims: {
      acr: null,
      amr: null,
      auth_time: null,
      iss: null,
      sid: null,
      openid: ["sub"],
      profile: ["name", "given_name", "family_name"],
      email: ["email", "email_verified"],
    },

    // Code flow only; asking for `token` or `id_token` gets unsupported_response_type.
    responseTypes: ["code"],
    // PKCE for every client, confidential ones included (oidc-provider accepts only S256).
    pkce: { required: () => true },
    // Clients must always send redirect_uri, compared by exact string match.
    allowOmittingSingleRegisteredRedirectUri: false,

    features: {
      // The built-in development login accepts any username and password: never.
      devInteractions: { enabled: false },
      revocation: {
        enabled: true,
        // A client may revoke only its own tokens (RFC 7009 §2.1).
        allowedPolicy(_ctx, client, token) {
          if (token.clientId !== client.clientId) {
            throw new errors.InvalidRequest("client is not authorized to revoke the presented token");
          }
          return true;
        },
      },
      userinfo: { enabled: true },
      // RFC 7662, for the API when it validates tokens by introspection. Only the API's own
      // client may ask, and only about access tokens for the API: any other caller (even
      // about its own tokens) learns nothing but active:false. No API client, no endpoint.
      introspection: {
        enabled: config.api.introspectionClientId !== undefined,
        allowedPolicy(_ctx, client, token) {
          if (client.clientId !== config.api.introspectionClientId || token.kind === "RefreshToken") {
            return false;
          }
          return [token.aud ?? []].flat().includes(config.api.audience);
        },
      },
      backchannelLogout: { enabled: true },
      // RFC 6749 §4.4, for clients registered with the client_credentials grant only.
      clientCredentials: { enabled: true },
      // RFC 8628, for clients registered with the device_code grant only (the command line).
      deviceFlow: deviceFlowFeature({
        users: deps.users,
        sessionTtlSeconds: config.ttl.session,
        sessionCookieOptions: SESSION_COOKIE,
      }),
      rpInitiatedLogout: {
        enabled: true,
        logoutSource(ctx, form) {
          // Only a verified id_token_hint proves that the client sent this person here:
          // oidc-provider would also redirect on a bare client_id, which anyone can write
          // into a link. Without a hint the person signs out and stays on our page (F14).
          // (oidc-provider has just put it in the session state, saved after this page.)
          if (!ctx.oidc.entities.IdTokenHint && ctx.oidc.session?.state) {
            ctx.oidc.session.state.postLogoutRedirectUri = undefined;
          }
          const accountId = ctx.oidc.session?.accountId;
          const user = accountId ? deps.users.findBySub(accountId) : undefined;
          ctx.type = "html";
          ctx.body = logoutPage({
            providerForm: form,
            ...(user ? { userName: user.claims.name ?? user.username } : {}),
            ...(ctx.oidc.client?.clientName ? { clientName: ctx.oidc.client.clientName } : {}),
          });
        },
        postLogoutSuccessSource(ctx) {
          ctx.type = "html";
          ctx.body = signedOutPage(
            ctx.oidc.client?.clientName ? { clientName: ctx.oidc.client.clientName } : {},
          );
        },
      },
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo,
        // No `resource` at the authorization endpoint means no API access. At the token
        // endpoint `oneOf` lists the granted resources: returning it unchanged makes a
        // request that needs one target fail with invalid_target rather than guess.
        defaultResource: (_ctx, _client, oneOf) => oneOf,
        // The Token strategy: a code or refresh token exchanged WITHOUT `resource`
        // yields an access token for the userinfo endpoint (opaque); WITH
        // `resource=<API>` it yields the API's JWT access token.
        useGrantedResource: () => false,
      },
    },

    /**
     * Who gets a refresh token on code exchange: every client registered for the
     * refresh_token grant (web-bff is). The BFF needs one to obtain the API token
     * (refresh with `resource`) and to keep access tokens short-lived.
     *
     * Why not "only with offline_access" (oidc-provider's default)? At the
     * authorization endpoint oidc-provider follows OpenID Connect Core §11
     * strictly: it drops `offline_access` from any request whose `prompt` does
     * not include "consent". A client would have to force the consent screen on
     * every login to get a refresh token. Instead:
     * - a normal login (no prompt=consent): the refresh token is bound to the
     *   person's IdP session (`expiresWithSession`) — signing out at the IdP, or
     *   the session expiring, ends it;
     * - a login with prompt=consent that keeps `offline_access`: the person
     *   consents to offline access on the consent page and the refresh token
     *   outlives the IdP session (until it expires or is revoked).
     */
    issueRefreshToken(_ctx, client) {
      return client.grantTypeAllowed("refresh_token");
    },
    // Every refresh returns a new refresh token, for every client (the public command line
    // included, as OAuth 2.0 Security BCP §4.14.2 asks); presenting a used one revokes the whole grant.
    rotateRefreshToken: true,

    // Browsers never call the token, userinfo or revocation endpoints directly: the BFF does.
    clientBasedCORS: () => false,

    cookies: {
      keys: config.cookieKeys,
      names: IDP_COOKIE_NAMES,
      long: SESSION_COOKIE,
      short: { httpOnly: true, sameSite: "lax", signed: true },
    },

    ttl: {
      AccessToken: config.ttl.accessToken,
      AuthorizationCode: config.ttl.authorizationCode,
      IdToken: config.ttl.idToken,
      // With rotation each new refresh token gets this lifetime again; the Grant's
      // lifetime is the absolute cap (the grant expires, its tokens stop working).
      RefreshToken: config.ttl.refreshToken,
      Session: config.ttl.session,
      Grant: config.ttl.grant,
      Interaction: config.ttl.interaction,
      DeviceCode: config.ttl.deviceCode,
    },

    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },

    renderError(ctx, out) {
      // `out` is oidc-provider's safe summary: for unexpected errors it is a generic
      // server_error. The error object itself (and its stack) is never shown.
      ctx.type = "html";
      ctx.set("Cache-Control", "no-store");
      const serverError = out.error === "server_error";
      ctx.body = errorPage({
        title: serverError ? "Something went wrong" : "This request cannot be completed",
        message: serverError
          ? "Something went wrong on our side. Please try again later."
          : (out.error_description ?? "The request is not valid."),
        code: out.error,
      });
    },
  };
}
