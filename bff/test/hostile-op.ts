/**
 * A hostile OpenID Provider, as a test fixture: it serves discovery and a JWKS
 * like any provider, skips the login page (its /auth answers at once with a
 * code), and answers the token and userinfo steps with whatever a test asks
 * for — forged, mis-signed or malformed. It records every request, so a test
 * can show that the BFF stopped at the first bad answer.
 *
 * It also plays the harmless quirks of real providers (provider-quirks.test.ts):
 * refresh tokens that never rotate, refreshes without an ID token, no
 * end-session endpoint, Auth0's `audience` and Entra's one-resource-per-token
 * scopes, a mandatory nonce, an issuer with a trailing slash or a path.
 */
import { base64url, exportJWK, generateKeyPair, type JWK, type JWTHeaderParameters, SignJWT } from "jose";

export const HOSTILE_ISSUER = "http://127.0.0.1:4900";
const CLIENT_ID = "web-bff";

export interface IdTokenTweaks {
  /** Claims to add or replace; `undefined` removes one. */
  claims?: Record<string, unknown>;
  header?: Partial<JWTHeaderParameters>;
  /** Sign with another key than the published one. */
  key?: "provider" | "stranger";
  /** "none": no signature at all; "hs256-public-key": HMAC keyed with the provider's public key. */
  signature?: "rs256" | "none" | "hs256-public-key";
}

/**
 * Whose rules decide an access token's audience:
 * - "audience-param" (Auth0): the authorization request's `audience`, kept by every refresh;
 *   such a token is good at userinfo too.
 * - "first-resource-scope" (Entra): the resource of the first scope that is not an OpenID one,
 *   from the token request's `scope`, else the authorization request's; userinfo (Microsoft
 *   Graph) accepts only a token for itself.
 * Default: every token is for userinfo, and userinfo takes any.
 */
export type AudienceRule = "audience-param" | "first-resource-scope";

export interface HostileBehaviour {
  /** The issuer the discovery document claims, and the ID tokens' `iss`. Default: the real one. */
  discoveryIssuer?: string;
  idToken?: IdTokenTweaks;
  /** Replace the whole token response (status, raw body, content type). */
  tokenResponse?: { status: number; body: string; contentType: string };
  /** The `sub` the userinfo endpoint answers with. Default: the ID token's. */
  userinfoSub?: string;
  /** Leave `iss` out of the authorization response although discovery says it is sent. */
  omitIssInCallback?: boolean;
  /** Publish more keys in the JWKS: "stranger" (another usable RSA key), "unusable" (keys no library can use). */
  extraKeys?: ("stranger" | "unusable")[];
  /** Refreshes answer without `refresh_token`, and the one used stays valid (Google, Entra). */
  keepRefreshToken?: boolean;
  /** Refreshes answer without `id_token`. */
  omitIdTokenOnRefresh?: boolean;
  /** Claims of the ID token a refresh answers, on top of `idToken`'s. */
  refreshIdTokenClaims?: Record<string, unknown>;
  /** `expires_in` of every access token. Default 300. */
  expiresIn?: number;
  /** An authorization request without `nonce` is refused (error=invalid_request), as some providers do. */
  requireNonce?: boolean;
  /** Discovery lists no `end_session_endpoint` (Google). */
  noEndSessionEndpoint?: boolean;
  audienceRule?: AudienceRule;
  /**
   * The token endpoint compares HTTP Basic credentials without form-decoding them (Glewlwyd,
   * LemonLDAP::NG), so `web-bff`, sent as `web%2Dbff` (RFC 6749 §2.3.1), is refused with this
   * answer; credentials in the form body (client_secret_post) are accepted.
   */
  basicWithoutDecoding?: { status: number; error: string; challenge?: boolean };
  /** Token responses leave `scope` out, meaning "the scope requested" (LemonLDAP::NG; RFC 6749 §5.1). */
  omitScope?: boolean;
}

/** What the provider issued an access token for. */
export interface IssuedAccessToken {
  audience: string;
  scope: string;
}

export interface HostileOp {
  /** What the next answers look like; tests set it before each login. */
  behaviour: HostileBehaviour;
  /** "METHOD /path" of every request received. */
  requests: string[];
  /** The query of every authorization request. */
  authorizationRequests: URLSearchParams[];
  /** The form body of every token request. */
  tokenRequests: URLSearchParams[];
  /** Every access token issued, and for what. */
  accessTokens: Map<string, IssuedAccessToken>;
  fetch(request: Request): Promise<Response>;
}

export async function createHostileOp(): Promise<HostileOp> {
  const provider = await generateKeyPair("RS256", { extractable: true });
  const stranger = await generateKeyPair("RS256", { extractable: true });
  const publicJwk: JWK = {
    ...(await exportJWK(provider.publicKey)),
    kid: "provider-key",
    alg: "RS256",
    use: "sig",
  };
  const strangerJwk: JWK = {
    ...(await exportJWK(stranger.publicKey)),
    kid: "stranger-key",
    alg: "RS256",
    use: "sig",
  };
  const unusableJwks: JWK[] = [
    { kty: "ML-DSA", kid: "post-quantum", alg: "ML-DSA-65", pub: "AAAA" } as JWK,
    { kty: "EC", kid: "odd-curve", crv: "P-999", x: "AA", y: "AA" },
  ];
  /** The authorization request behind each code handed out. */
  const grants = new Map<string, URLSearchParams>();
  /** The authorization request behind each live refresh token. */
  const refreshGrants = new Map<string, URLSearchParams>();
  const OPENID_SCOPES = new Set(["openid", "profile", "email", "offline_access"]);

  /** The access token's audience and scope under the behaviour's rule (see AudienceRule). */
  function accessTokenFor(grant: URLSearchParams, requested: string | null): IssuedAccessToken {
    const b = op.behaviour;
    const scope = requested ?? grant.get("scope") ?? "openid";
    if (b.audienceRule === "audience-param") {
      return { audience: grant.get("audience") ?? "userinfo", scope };
    }
    if (b.audienceRule === "first-resource-scope") {
      const first = scope.split(" ").find((name) => name !== "" && !OPENID_SCOPES.has(name));
      if (!first) return { audience: "userinfo", scope };
      const resource = first.slice(0, first.lastIndexOf("/"));
      // One resource per token: the other resources' scopes are dropped from it.
      return {
        audience: resource,
        scope: scope
          .split(" ")
          .filter((name) => name.startsWith(`${resource}/`))
          .join(" "),
      };
    }
    return { audience: "userinfo", scope };
  }

  async function idToken(nonce: string | undefined, tweaks: IdTokenTweaks = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: op.behaviour.discoveryIssuer ?? HOSTILE_ISSUER,
      sub: "user-mallory",
      aud: CLIENT_ID,
      iat: now,
      exp: now + 300,
      nonce,
      name: "Mallory",
      ...tweaks.claims,
    };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    const header = { alg: "RS256", typ: "JWT", kid: "provider-key", ...tweaks.header } as JWTHeaderParameters;

    if (tweaks.signature === "none") {
      const encode = (part: object) => base64url.encode(JSON.stringify(part));
      return `${encode({ ...header, alg: "none" })}.${encode(claims)}.`;
    }
    if (tweaks.signature === "hs256-public-key") {
      const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
      return new SignJWT(claims).setProtectedHeader({ ...header, alg: "HS256" }).sign(secret);
    }
    const key: Parameters<SignJWT["sign"]>[0] =
      tweaks.key === "stranger" ? stranger.privateKey : provider.privateKey;
    return new SignJWT(claims).setProtectedHeader(header).sign(key);
  }

  const op: HostileOp = {
    behaviour: {},
    requests: [],
    authorizationRequests: [],
    tokenRequests: [],
    accessTokens: new Map(),
    async fetch(request) {
      const url = new URL(request.url);
      op.requests.push(`${request.method} ${url.pathname}`);
      const b = op.behaviour;
      // Discovery under any path: an issuer with a path (Keycloak's /realms/<realm>) finds it too.
      const pathname = url.pathname.endsWith("/.well-known/openid-configuration")
        ? "/.well-known/openid-configuration"
        : url.pathname;
      switch (pathname) {
        case "/.well-known/openid-configuration":
          return Response.json({
            issuer: b.discoveryIssuer ?? HOSTILE_ISSUER,
            authorization_endpoint: `${HOSTILE_ISSUER}/auth`,
            token_endpoint: `${HOSTILE_ISSUER}/token`,
            userinfo_endpoint: `${HOSTILE_ISSUER}/userinfo`,
            jwks_uri: `${HOSTILE_ISSUER}/jwks`,
            ...(b.noEndSessionEndpoint ? {} : { end_session_endpoint: `${HOSTILE_ISSUER}/session/end` }),
            response_types_supported: ["code"],
            subject_types_supported: ["public"],
            id_token_signing_alg_values_supported: ["RS256", "HS256", "none"],
            code_challenge_methods_supported: ["S256"],
            authorization_response_iss_parameter_supported: true,
          });
        case "/jwks": {
          const extra = (b.extraKeys ?? []).flatMap((kind) =>
            kind === "stranger" ? [strangerJwk] : unusableJwks,
          );
          return Response.json({ keys: [...extra, publicJwk] });
        }
        case "/auth": {
          // No login page: straight back to the client with a code, like a provider
          // whose session is already open.
          op.authorizationRequests.push(new URLSearchParams(url.search));
          const back = new URL(url.searchParams.get("redirect_uri") ?? "");
          back.searchParams.set("state", url.searchParams.get("state") ?? "");
          if (!b.omitIssInCallback) back.searchParams.set("iss", b.discoveryIssuer ?? HOSTILE_ISSUER);
          if (b.requireNonce && !url.searchParams.get("nonce")) {
            back.searchParams.set("error", "invalid_request");
            back.searchParams.set("error_description", "nonce is required");
            return new Response(null, { status: 302, headers: { location: back.href } });
          }
          const code = `code-${crypto.randomUUID()}`;
          grants.set(code, new URLSearchParams(url.search));
          back.searchParams.set("code", code);
          return new Response(null, { status: 302, headers: { location: back.href } });
        }
        case "/token": {
          if (b.tokenResponse) {
            return new Response(b.tokenResponse.body, {
              status: b.tokenResponse.status,
              headers: { "content-type": b.tokenResponse.contentType },
            });
          }
          const form = new URLSearchParams(await request.text());
          op.tokenRequests.push(form);
          const basic = /^Basic (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
          const refusal = b.basicWithoutDecoding;
          if (
            refusal &&
            basic &&
            !Buffer.from(basic, "base64").toString("utf8").startsWith(`${CLIENT_ID}:`)
          ) {
            return Response.json(
              { error: refusal.error },
              {
                status: refusal.status,
                headers: refusal.challenge ? { "www-authenticate": `Basic realm="token"` } : {},
              },
            );
          }
          const refreshing = form.get("grant_type") === "refresh_token";
          const spent = form.get(refreshing ? "refresh_token" : "code") ?? "";
          const grant = (refreshing ? refreshGrants : grants).get(spent);
          if (!grant) return Response.json({ error: "invalid_grant" }, { status: 400 });
          // A code works once; a refresh token too, unless this provider never rotates them.
          if (!refreshing) grants.delete(spent);
          else if (!b.keepRefreshToken) refreshGrants.delete(spent);
          const refreshToken = refreshing && b.keepRefreshToken ? undefined : `rt-${crypto.randomUUID()}`;
          if (refreshToken) refreshGrants.set(refreshToken, grant);

          const accessToken = `at-${crypto.randomUUID()}`;
          const issued = accessTokenFor(grant, form.get("scope"));
          op.accessTokens.set(accessToken, issued);
          const withIdToken = !(refreshing && b.omitIdTokenOnRefresh);
          return Response.json({
            access_token: accessToken,
            token_type: "Bearer",
            expires_in: b.expiresIn ?? 300,
            ...(refreshToken ? { refresh_token: refreshToken } : {}),
            ...(b.omitScope ? {} : { scope: issued.scope }),
            ...(withIdToken
              ? {
                  // OpenID Connect Core §12.2: a refreshed ID token carries no nonce.
                  id_token: await idToken(
                    refreshing ? undefined : (grant.get("nonce") ?? undefined),
                    refreshing
                      ? { ...b.idToken, claims: { ...b.idToken?.claims, ...b.refreshIdTokenClaims } }
                      : b.idToken,
                  ),
                }
              : {}),
          });
        }
        case "/userinfo": {
          const token = request.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
          const issued = op.accessTokens.get(token);
          // Entra's userinfo is Microsoft Graph's: a token for another API is not for it.
          if (b.audienceRule === "first-resource-scope" && issued?.audience !== "userinfo") {
            return new Response(null, {
              status: 401,
              headers: { "www-authenticate": 'Bearer error="invalid_token"' },
            });
          }
          return Response.json({ sub: b.userinfoSub ?? "user-mallory", name: "Mallory" });
        }
        default:
          return new Response("not found", { status: 404 });
      }
    },
  };
  return op;
}
