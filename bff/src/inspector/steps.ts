/**
 * The protocol steps the flow inspector knows, each with who talked to whom,
 * a title, one sentence on what happened and why, and the section of the
 * specification that asks for it. Every builder takes the real protocol
 * values and keeps only what redact.ts lets through.
 */
import { API_PREFIX, type FlowStep, type SpecLink } from "@oidc-bff/shared";

import type { TokenSet } from "../oidc/client.ts";
import { INSPECTOR_COOKIE } from "../session/cookies.ts";
import { userinfoBeyond } from "../session/data.ts";
import { ENDED_LOG_TTL_SECONDS } from "./ended-log-cookie.ts";
import {
  describeClaims,
  describeFailure,
  describeParameters,
  describeToken,
  endpointOf,
  presence,
} from "./redact.ts";

/** One step as a builder produces it; the log adds its number (`seq`) and time (`at`). */
export type FlowStepInput = Omit<FlowStep, "seq" | "at">;

const rfc = (number: number, section: string): SpecLink => ({
  label: `RFC ${number} §${section}`,
  href: `https://www.rfc-editor.org/rfc/rfc${number}#section-${section}`,
});
const oidc = (document: string, title: string, section: string, anchor: string): SpecLink => ({
  label: `${title} §${section}`,
  href: `https://openid.net/specs/${document}.html#${anchor}`,
});
const core = (section: string, anchor: string) =>
  oidc("openid-connect-core-1_0", "OIDC Core", section, anchor);

/** The sections each step cites. */
export const SPECS = {
  authorizationRequest: rfc(6749, "4.1.1"),
  authorizationResponse: rfc(9207, "2.4"),
  tokenRequest: rfc(6749, "4.1.3"),
  pkceVerifier: rfc(7636, "4.5"),
  idTokenValidation: core("3.1.3.7", "IDTokenValidation"),
  userinfoRequest: core("5.3.1", "UserInfoRequest"),
  userinfoResponse: core("5.3.2", "UserInfoResponse"),
  refreshRequest: rfc(6749, "6"),
  resourceIndicator: rfc(8707, "2.2"),
  refreshRotation: rfc(9700, "4.14.2"),
  bearer: rfc(6750, "2.1"),
  revocation: rfc(7009, "2.1"),
  endSession: oidc("openid-connect-rpinitiated-1_0", "OIDC RP-Initiated Logout 1.0", "2", "RPLogout"),
  backchannelLogout: oidc(
    "openid-connect-backchannel-1_0",
    "OIDC Back-Channel Logout 1.0",
    "2.6",
    "Validation",
  ),
  browserBasedApps: {
    label: "OAuth 2.0 for Browser-Based Apps §6.1",
    href: "https://datatracker.ietf.org/doc/html/draft-ietf-oauth-browser-based-apps#section-6.1",
  },
} as const satisfies Record<string, SpecLink>;

/** What the builders need to know about this BFF and its provider. */
export interface FlowContext {
  clientId: string;
  /** How the BFF authenticates at the token endpoint (config `clientAuthentication`). */
  clientAuthenticationMethod: "client_secret_basic" | "client_secret_post" | "private_key_jwt";
  redirectUri: string;
  /**
   * What every refresh sends besides grant_type and the refresh token, as
   * oidc/client.ts adds it: `resource` (RFC 8707), or Entra's API `scope`.
   */
  refreshParameters: { resource?: string; scope?: string };
  idTokenSigningAlg: string;
  /** An endpoint from the provider's discovery document, once it was fetched. */
  endpoint(name: "token_endpoint" | "userinfo_endpoint" | "revocation_endpoint"): string | undefined;
  /** Whether the BFF asks for offline_access (a refresh token that outlives the IdP's session). */
  offlineAccess: boolean;
  now(): number;
}

/** Parameters of an authorization request whose values may be shown. */
const SHOWN_AUTHORIZATION_PARAMETERS = [
  "client_id",
  "redirect_uri",
  "response_type",
  "response_mode",
  "scope",
  "code_challenge_method",
  "resource",
  "prompt",
  "audience",
  "max_age",
  "ui_locales",
  "acr_values",
];

/** How the client proves who it is at the token and revocation endpoints. */
function clientAuthentication(clientId: string, method: FlowContext["clientAuthenticationMethod"]): string {
  switch (method) {
    case "client_secret_post":
      return `client_secret_post: client_id ${clientId} and its secret in the form body (not shown)`;
    case "private_key_jwt":
      return `private_key_jwt: a client_assertion JWT signed with ${clientId}'s private key (RFC 7523; not shown); no secret is sent`;
    default:
      return `client_secret_basic: client_id ${clientId} and its secret in an Authorization: Basic header (not shown)`;
  }
}

export type FlowSteps = ReturnType<typeof createFlowSteps>;

export function createFlowSteps(context: FlowContext) {
  /** A token endpoint answer: every token described, none shown. */
  function tokenResponse(tokens: TokenSet, grant: "authorization_code" | "refresh_token"): FlowStepInput {
    const refreshed = grant === "refresh_token";
    return {
      from: "idp",
      to: "bff",
      title: refreshed ? "Token response (refresh)" : "Token response",
      explanation: refreshed
        ? "The IdP answers with a new access token and, because it rotates refresh tokens, a new refresh token: the old one is spent."
        : "The IdP answers with an ID token, an access token and a refresh token; the BFF validates the ID token (signature, issuer, audience, nonce, expiry) and keeps all three inside its sealed session cookie.",
      spec: refreshed ? SPECS.refreshRotation : SPECS.idTokenValidation,
      details: {
        status: 200,
        expires_in: Math.max(0, Math.round((tokens.accessTokenExpiresAt - context.now()) / 1000)),
        scope: tokens.scopes.join(" "),
        access_token: describeToken(tokens.accessToken, { decode: true }),
        ...(tokens.idToken ? { id_token: describeToken(tokens.idToken, { decode: true }) } : {}),
        // A refresh token is the IdP's business: its kind and length only, even if it were a JWT.
        refresh_token: describeToken(tokens.refreshToken, { decode: false }),
        checks: [
          ...(tokens.idToken
            ? [
                `ID token signature verified with the IdP's published key (${context.idTokenSigningAlg} only)`,
                `iss is the configured issuer; aud contains ${context.clientId}; exp is in the future`,
                ...(refreshed ? ["sub is the same person as at login"] : ["nonce equals the one sent"]),
              ]
            : []),
        ],
      },
    };
  }

  return {
    authorizationRequest(url: URL, login: { returnTo: string }): FlowStepInput {
      return {
        from: "browser",
        to: "idp",
        title: "Authorization request",
        explanation:
          "The BFF redirects the browser to the IdP's authorization endpoint with a fresh state, nonce and PKCE challenge (S256); their secrets stay in a sealed, HttpOnly login cookie.",
        spec: SPECS.authorizationRequest,
        details: {
          endpoint: endpointOf(url),
          parameters: describeParameters(url.searchParams, {
            shown: SHOWN_AUTHORIZATION_PARAMETERS,
            secret: ["state", "nonce", "code_challenge"],
          }),
          returnTo: login.returnTo,
          loginCookie: "__Host-bff-login: sealed, holds state, nonce and code_verifier (value not shown)",
        },
      };
    },

    callbackReceived(callbackUrl: URL): FlowStepInput {
      const iss = callbackUrl.searchParams.get("iss");
      const error = callbackUrl.searchParams.get("error");
      return {
        from: "browser",
        to: "bff",
        title: error ? "Authorization response: an error" : "Authorization response",
        explanation: error
          ? "The IdP sent the browser back with an error instead of a code: no token request is made."
          : "The IdP sends the browser back with a one-time code; the BFF accepts it only with the state of a login this browser started, and checks iss so a code from another provider is refused.",
        spec: SPECS.authorizationResponse,
        details: {
          endpoint: endpointOf(callbackUrl),
          parameters: describeParameters(callbackUrl.searchParams, {
            shown: ["iss", "error", "error_description"],
            secret: ["code", "state"],
          }),
          stateCheck: "matches a login started in this browser (from the sealed login cookie)",
          issCheck: iss
            ? "compared with the configured issuer (RFC 9207)"
            : "absent: accepted only if the IdP does not advertise RFC 9207 support",
        },
      };
    },

    /** The code exchange as two steps: what the BFF sent, and what came back. */
    codeExchange(callbackUrl: URL, codeVerifier: string, tokens: TokenSet): FlowStepInput[] {
      return [
        {
          from: "bff",
          to: "idp",
          title: "Token request (authorization code)",
          explanation:
            "Server to server, the BFF redeems the code with the PKCE code_verifier and its client credentials, so a stolen code is useless to anyone else.",
          spec: SPECS.tokenRequest,
          details: {
            endpoint: endpointOf(context.endpoint("token_endpoint")),
            method: "POST",
            parameters: {
              grant_type: "authorization_code",
              code: presence(callbackUrl.searchParams.get("code")),
              redirect_uri: context.redirectUri,
              code_verifier: presence(codeVerifier),
            },
            clientAuthentication: clientAuthentication(context.clientId, context.clientAuthenticationMethod),
            pkce: `${SPECS.pkceVerifier.label}: the IdP hashes code_verifier and compares it with the code_challenge sent earlier`,
          },
        },
        tokenResponse(tokens, "authorization_code"),
      ];
    },

    /** The UserInfo call, as request and answer; `idTokenClaims` decide what is kept. */
    userinfo(claims: Record<string, unknown>, idTokenClaims: Record<string, unknown>): FlowStepInput[] {
      return [
        {
          from: "bff",
          to: "idp",
          title: "UserInfo request",
          explanation:
            "The BFF asks the IdP's UserInfo endpoint for the person's profile, with the access token as a Bearer token.",
          spec: SPECS.userinfoRequest,
          details: {
            endpoint: endpointOf(context.endpoint("userinfo_endpoint")),
            method: "GET",
            authorization: "Bearer access token (not shown)",
          },
        },
        {
          from: "idp",
          to: "bff",
          title: "UserInfo response",
          explanation:
            "The BFF accepts the answer only if its sub is the ID token's, and keeps just the claims the ID token did not already say.",
          spec: SPECS.userinfoResponse,
          details: {
            status: 200,
            claims: Object.keys(claims),
            subCheck:
              claims.sub === idTokenClaims.sub ? "sub equals the ID token's sub" : "sub differs (refused)",
            keptInSession: Object.keys(userinfoBeyond(claims, idTokenClaims)),
            values: describeClaims(claims),
          },
        },
      ];
    },

    /**
     * A refresh token request: "resource", at login to get the API's own token (RFC 8707
     * `resource`, or the API's `scope` at Entra); "expiring", when the access token is about to expire.
     */
    refreshRequest(refreshToken: string | undefined, reason: "resource" | "expiring"): FlowStepInput {
      const { resource, scope } = context.refreshParameters;
      const sent = new URLSearchParams({ grant_type: "refresh_token" });
      if (resource !== undefined) sent.set("resource", resource);
      if (scope !== undefined) sent.set("scope", scope);
      const forApi = reason === "resource";
      const by = resource !== undefined || scope === undefined ? "resource" : "scope";
      return {
        from: "bff",
        to: "idp",
        title: forApi ? `Token request for the API (refresh with ${by})` : "Refresh request",
        explanation: forApi
          ? by === "resource"
            ? "Right after login the BFF uses the refresh token with resource=<API> to get an access token made for the API alone (audience-restricted)."
            : "Right after login the BFF uses the refresh token with the API's scopes to get an access token made for the API (the code exchange's token was for the UserInfo endpoint)."
          : "The access token is about to expire, so the BFF uses the refresh token; one refresh per session, however many requests are waiting.",
        spec: forApi && by === "resource" ? SPECS.resourceIndicator : SPECS.refreshRequest,
        details: {
          endpoint: endpointOf(context.endpoint("token_endpoint")),
          method: "POST",
          parameters: {
            // resource and scope are configuration, shown with their values; by the allowlist,
            // a parameter added to refreshes later would be named here, not shown.
            ...describeParameters(sent, { shown: ["grant_type", "resource", "scope"], secret: [] }),
            refresh_token: describeToken(refreshToken, { decode: false }),
          },
          clientAuthentication: clientAuthentication(context.clientId, context.clientAuthenticationMethod),
        },
      };
    },

    refreshResponse(tokens: TokenSet): FlowStepInput {
      return tokenResponse(tokens, "refresh_token");
    },

    /** This request did not refresh itself: it used a refresh made by another request or process. */
    refreshShared(how: "joined" | "stored"): FlowStepInput {
      return {
        from: "bff",
        to: "bff",
        title:
          how === "joined" ? "Joined a refresh already in flight" : "Took the outcome another process stored",
        explanation:
          how === "joined"
            ? "Another request of this session was already refreshing with the same refresh token; this one waited for its answer instead of replaying a token that is about to be spent."
            : "Another BFF process (or an earlier request) already refreshed with this refresh token; its sealed outcome in the session store gives this request the new tokens without replaying the spent one.",
        spec: SPECS.refreshRotation,
        details: {
          refreshes: how === "joined" ? "shared in this process" : "shared through the session store",
        },
      };
    },

    refreshFailed(error: unknown, sessionEnded: boolean): FlowStepInput {
      return {
        from: "idp",
        to: "bff",
        title: sessionEnded ? "Refresh refused: session ended" : "Refresh failed: session kept",
        explanation: sessionEnded
          ? "The IdP refused the refresh token (spent, revoked or expired), so the BFF ends the session rather than retry a token that may be spent."
          : "The IdP or the session store could not be reached; the session stays and the browser gets a 503 with Retry-After.",
        spec: SPECS.refreshRotation,
        details: describeFailure(error),
      };
    },

    sessionStarted(returnTo: string): FlowStepInput {
      return {
        from: "bff",
        to: "browser",
        title: "Session created",
        explanation:
          "The BFF seals the tokens into an HttpOnly, Secure, SameSite=Strict cookie that script cannot read, and sends the browser back to the page it came from.",
        spec: SPECS.browserBasedApps,
        details: {
          status: 302,
          location: returnTo,
          sessionCookie: "__Host-bff-session: HttpOnly; Secure; SameSite=Strict; sealed (value not shown)",
          loginCookie: "__Host-bff-login: this login's entry removed",
        },
      };
    },

    /** A proxied call: `url` is what the browser asked for, `startedAt` from performance.now(). */
    apiCall(
      method: string,
      url: Pick<URL, "pathname" | "search">,
      status: number,
      startedAt: number,
    ): FlowStepInput {
      const path = url.pathname.slice(API_PREFIX.length) || "/";
      return {
        from: "bff",
        to: "api",
        title: `API call: ${method} ${path} → ${status}`,
        explanation:
          "The browser called /api with its session cookie and the anti-CSRF header; the BFF forwarded the call with the access token as a Bearer token and without the browser's cookies.",
        spec: SPECS.bearer,
        details: {
          method,
          browserPath: url.pathname,
          apiPath: path,
          ...(url.search
            ? { query: describeParameters(new URLSearchParams(url.search), { shown: [], secret: [] }) }
            : {}),
          status,
          durationMs: Math.round(performance.now() - startedAt),
          authorization: "Bearer access token (not shown)",
          cookies: "not forwarded",
        },
      };
    },

    apiCallFailed(call: { method: string; path: string }, timedOut: boolean): FlowStepInput {
      return {
        from: "bff",
        to: "api",
        title: `API call failed: ${call.method} ${call.path}`,
        explanation: timedOut
          ? "The API did not answer in time; the browser gets a 504."
          : "The API could not be reached; the browser gets a 502.",
        spec: SPECS.bearer,
        details: {
          method: call.method,
          path: call.path,
          error: timedOut ? "upstream_timeout" : "upstream_unreachable",
        },
      };
    },

    logoutRequested(): FlowStepInput {
      return {
        from: "browser",
        to: "bff",
        title: "Logout",
        explanation:
          "The SPA posts to /bff/logout with the anti-CSRF header; the BFF records the session as ended, so a copy of the cookie is refused from now on, and deletes the cookie.",
        spec: SPECS.browserBasedApps,
        details: {
          method: "POST",
          path: "/bff/logout",
          sessionCookie: "cleared",
          inspectorCookie: `${INSPECTOR_COOKIE}: set for ${ENDED_LOG_TTL_SECONDS / 60} minutes, so this browser can still read this log (and no other); sealed, development only (value not shown)`,
        },
      };
    },

    revocation(refreshToken: string, outcome: "revoked" | "failed" | "no endpoint"): FlowStepInput {
      if (outcome === "no endpoint") {
        return {
          from: "bff",
          to: "bff",
          title: "Refresh token not revoked: the IdP has no revocation endpoint",
          explanation: context.offlineAccess
            ? "The IdP publishes no revocation_endpoint, so the BFF cannot end the grant: the refresh token stays valid until it expires, and with offline_access it outlives even the IdP's session. Drop offline_access from the BFF's scopes with this IdP."
            : "The IdP publishes no revocation_endpoint, so the BFF cannot end the grant: the refresh token stays valid at the IdP until it expires.",
          spec: SPECS.revocation,
          details: {
            endpoint: "none in the discovery document",
            token: describeToken(refreshToken, { decode: false }),
            offline_access: context.offlineAccess,
          },
        };
      }
      return {
        from: "bff",
        to: "idp",
        title: outcome === "revoked" ? "Refresh token revoked" : "Refresh token revocation failed",
        explanation:
          outcome === "revoked"
            ? "The BFF tells the IdP to revoke the refresh token, which ends the grant: nothing issued to this session works any more."
            : "The IdP did not accept the revocation; the session is over at the BFF anyway and the token expires on its own.",
        spec: SPECS.revocation,
        details: {
          endpoint: endpointOf(context.endpoint("revocation_endpoint")),
          method: "POST",
          parameters: {
            token: describeToken(refreshToken, { decode: false }),
            token_type_hint: "refresh_token",
          },
          clientAuthentication: clientAuthentication(context.clientId, context.clientAuthenticationMethod),
        },
      };
    },

    logoutAnswer(): FlowStepInput {
      return {
        from: "bff",
        to: "browser",
        title: "Logout answer",
        explanation:
          "The BFF answers where to go next: its own end-session route with a one-minute sealed ticket, so the ID token used as a hint never reaches script.",
        spec: SPECS.endSession,
        details: { status: 200, redirectTo: "/bff/logout/end-session?ticket=(sealed, not shown)" },
      };
    },

    endSessionRedirect(url: URL | undefined, postLogoutRedirectUri: string): FlowStepInput {
      return {
        from: "browser",
        to: url ? "idp" : "bff",
        title: url ? "End-session request" : "No end-session endpoint",
        explanation: url
          ? "The browser goes to the IdP's end-session endpoint so the IdP's own session ends too, then comes back to the post-logout redirect URI."
          : "The IdP publishes no end-session endpoint: the browser goes straight back to the app.",
        spec: SPECS.endSession,
        details: url
          ? {
              endpoint: endpointOf(url),
              parameters: describeParameters(url.searchParams, {
                shown: ["client_id", "post_logout_redirect_uri"],
                secret: ["id_token_hint", "state"],
              }),
            }
          : { location: postLogoutRedirectUri },
      };
    },

    backchannelLogout(logoutToken: string, outcome: string): FlowStepInput {
      return {
        from: "idp",
        to: "bff",
        title: "Back-channel logout",
        explanation:
          "The IdP's server posted a signed logout token; the BFF verified it (signature, issuer, audience, typ logout+jwt, age, event, no nonce) and refuses the sessions it names from now on.",
        spec: SPECS.backchannelLogout,
        details: {
          method: "POST",
          path: "/bff/backchannel-logout",
          logout_token: describeToken(logoutToken, { decode: true }),
          outcome,
        },
      };
    },
  };
}
