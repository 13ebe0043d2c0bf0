/**
 * A hostile OpenID Provider, as a test fixture: it serves discovery and a JWKS
 * like any provider, skips the login page (its /auth answers at once with a
 * code), and answers the token and userinfo steps with whatever a test asks
 * for — forged, mis-signed or malformed. It records every request, so a test
 * can show that the BFF stopped at the first bad answer.
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

export interface HostileBehaviour {
  /** The issuer the discovery document claims. Default: the real one. */
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
}

export interface HostileOp {
  /** What the next answers look like; tests set it before each login. */
  behaviour: HostileBehaviour;
  /** "METHOD /path" of every request received. */
  requests: string[];
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
  /** nonce of each authorization request, by the code handed out for it. */
  const nonces = new Map<string, string>();

  async function idToken(nonce: string | undefined, tweaks: IdTokenTweaks = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: HOSTILE_ISSUER,
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
    async fetch(request) {
      const url = new URL(request.url);
      op.requests.push(`${request.method} ${url.pathname}`);
      const b = op.behaviour;
      switch (url.pathname) {
        case "/.well-known/openid-configuration":
          return Response.json({
            issuer: b.discoveryIssuer ?? HOSTILE_ISSUER,
            authorization_endpoint: `${HOSTILE_ISSUER}/auth`,
            token_endpoint: `${HOSTILE_ISSUER}/token`,
            userinfo_endpoint: `${HOSTILE_ISSUER}/userinfo`,
            jwks_uri: `${HOSTILE_ISSUER}/jwks`,
            end_session_endpoint: `${HOSTILE_ISSUER}/session/end`,
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
          const code = `code-${crypto.randomUUID()}`;
          nonces.set(code, url.searchParams.get("nonce") ?? "");
          const back = new URL(url.searchParams.get("redirect_uri") ?? "");
          back.searchParams.set("code", code);
          back.searchParams.set("state", url.searchParams.get("state") ?? "");
          if (!b.omitIssInCallback) back.searchParams.set("iss", HOSTILE_ISSUER);
          return new Response(null, { status: 302, headers: { location: back.href } });
        }
        case "/token": {
          if (b.tokenResponse) {
            return new Response(b.tokenResponse.body, {
              status: b.tokenResponse.status,
              headers: { "content-type": b.tokenResponse.contentType },
            });
          }
          const code = new URLSearchParams(await request.text()).get("code") ?? "";
          return Response.json({
            access_token: `at-${crypto.randomUUID()}`,
            token_type: "Bearer",
            expires_in: 300,
            refresh_token: `rt-${crypto.randomUUID()}`,
            scope: "openid profile",
            id_token: await idToken(nonces.get(code), b.idToken),
          });
        }
        case "/userinfo":
          return Response.json({ sub: b.userinfoSub ?? "user-mallory", name: "Mallory" });
        default:
          return new Response("not found", { status: 404 });
      }
    },
  };
  return op;
}
