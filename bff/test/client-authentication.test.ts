/**
 * How the BFF proves it is `web-bff` at the IdP's token and revocation endpoints
 * (docs/decisions/013): client_secret_basic, client_secret_post and private_key_jwt,
 * each through a whole session against the real IdP registered for that method
 * alone, so a request authenticated any other way would be refused.
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";

import { DEV_WEB_BFF_SECRET, type IdpClient } from "@oidc-bff/idp";
import { decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { afterEach, describe, expect, it } from "vitest";

import { type BffConfig, validateConfig } from "../src/config.ts";
import type { SessionData } from "../src/session/data.ts";
import { createSealer } from "../src/session/seal.ts";
import {
  BFF,
  COOKIE_SECRET,
  IDP,
  logIn,
  startSystem,
  TestBrowser,
  type TestSystem,
  USERS,
} from "./harness.ts";

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const HOST = new URL(BFF).host;

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const otherRsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pkcs8 = (key: KeyObject) => key.export({ type: "pkcs8", format: "pem" }) as string;
const publicJwk = (key: KeyObject, kid: string, alg: string) => ({
  ...key.export({ format: "jwk" }),
  kid,
  alg,
  use: "sig",
});

/** web-bff registered at the IdP for private_key_jwt with the RSA key's public half. */
const RSA_REGISTRATION: IdpClient["tokenEndpointAuth"] = {
  method: "private_key_jwt",
  jwks: { keys: [publicJwk(rsa.publicKey, "bff-rsa-1", "RS256")] },
};
const RSA_BFF: Partial<BffConfig> = {
  clientAuthentication: "private_key_jwt",
  clientSecret: undefined,
  clientPrivateKey: pkcs8(rsa.privateKey),
  clientKeyId: "bff-rsa-1",
};

/** One request the BFF made to the token or revocation endpoint, and the IdP's answer. */
interface ClientRequest {
  path: string;
  authorization: string | null;
  body: URLSearchParams;
  status: number;
  error: string | undefined;
}

/** Watches the BFF's requests to the IdP's token and revocation endpoints. */
function recordClientRequests(system: TestSystem): ClientRequest[] {
  const requests: ClientRequest[] = [];
  const routed = system.fetch;
  system.fetch = async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.origin !== IDP || !["/token", "/token/revocation"].includes(url.pathname)) return routed(request);
    const body = new URLSearchParams(await request.clone().text());
    const response = await routed(request);
    const answer = response.ok ? {} : ((await response.clone().json()) as { error?: string });
    requests.push({
      path: url.pathname,
      authorization: request.headers.get("authorization"),
      body,
      status: response.status,
      error: answer.error,
    });
    return response;
  };
  return requests;
}

async function refreshTokenOf(browser: TestBrowser): Promise<string> {
  const sealed = browser.cookie(HOST, "__Host-bff-session")?.value ?? "";
  const unsealed = await createSealer([COOKIE_SECRET]).unseal<SessionData>("session", sealed);
  if (!unsealed.ok) throw new Error(`cannot unseal the session: ${unsealed.reason}`);
  return unsealed.value.tokens.refreshToken ?? "";
}

let system: TestSystem | undefined;
afterEach(async () => {
  await system?.close();
  system = undefined;
});

const METHODS: {
  name: string;
  idp: IdpClient["tokenEndpointAuth"] | undefined;
  /** The token_endpoint_auth_method the IdP then has for web-bff. */
  registered: string;
  bff: Partial<BffConfig>;
  /** What every token and revocation request of this method carries, and what it must not. */
  check(request: ClientRequest): void;
}[] = [
  {
    name: "client_secret_basic (the default)",
    idp: undefined,
    registered: "client_secret_basic",
    bff: {},
    check(request) {
      const [scheme, credentials = ""] = (request.authorization ?? "").split(" ");
      expect(scheme).toBe("Basic");
      // RFC 6749 §2.3.1: each half is form-encoded before the Basic encoding.
      const [id, secret] = Buffer.from(credentials, "base64")
        .toString("utf8")
        .split(":")
        .map(decodeURIComponent);
      expect({ id, secret }).toEqual({ id: "web-bff", secret: DEV_WEB_BFF_SECRET });
      expect(request.body.has("client_secret")).toBe(false);
      expect(request.body.has("client_assertion")).toBe(false);
    },
  },
  {
    name: "client_secret_post",
    idp: { method: "client_secret_post" },
    registered: "client_secret_post",
    bff: { clientAuthentication: "client_secret_post" },
    check(request) {
      expect(request.authorization).toBeNull();
      expect(request.body.get("client_id")).toBe("web-bff");
      expect(request.body.get("client_secret")).toBe(DEV_WEB_BFF_SECRET);
      expect(request.body.has("client_assertion")).toBe(false);
    },
  },
  {
    name: "private_key_jwt with an RSA key in PKCS#8 PEM",
    idp: RSA_REGISTRATION,
    registered: "private_key_jwt",
    bff: RSA_BFF,
    check(request) {
      expect(request.authorization).toBeNull();
      expect(request.body.has("client_secret")).toBe(false);
      expect(request.body.get("client_assertion_type")).toBe(JWT_BEARER);
      expect(decodeProtectedHeader(request.body.get("client_assertion") ?? "")).toMatchObject({
        alg: "RS256",
        kid: "bff-rsa-1",
      });
    },
  },
  {
    name: "private_key_jwt with an EC P-256 private JWK",
    idp: { method: "private_key_jwt", jwks: { keys: [publicJwk(ec.publicKey, "bff-ec-1", "ES256")] } },
    registered: "private_key_jwt",
    bff: {
      clientAuthentication: "private_key_jwt",
      clientSecret: undefined,
      // The kid and the algorithm come from the JWK.
      clientPrivateKey: { ...ec.privateKey.export({ format: "jwk" }), kid: "bff-ec-1", alg: "ES256" },
    },
    check(request) {
      expect(request.authorization).toBeNull();
      expect(request.body.has("client_secret")).toBe(false);
      expect(request.body.get("client_assertion_type")).toBe(JWT_BEARER);
      expect(decodeProtectedHeader(request.body.get("client_assertion") ?? "")).toMatchObject({
        alg: "ES256",
        kid: "bff-ec-1",
      });
    },
  },
];

describe.each(METHODS)("$name", (method) => {
  it("carries a whole session: login, API call, refresh, logout with revocation", async () => {
    system = await startSystem(method.bff, {}, method.idp ? { webBffAuth: method.idp } : {});
    const requests = recordClientRequests(system);
    // oidc-provider takes a secret either way (Basic or body), whichever secret method is registered.
    const client = await system.idp.provider.Client.find("web-bff");
    expect(client?.metadata().token_endpoint_auth_method).toBe(method.registered);

    const alice = await logIn(system);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    system.advance(10 * 60 * 1000);
    expect((await alice.api("/api/contacts")).status).toBe(200);

    const refreshToken = await refreshTokenOf(alice);
    expect(await system.idp.provider.RefreshToken.find(refreshToken)).toBeDefined();
    expect((await alice.api("/bff/logout", { method: "POST" })).status).toBe(200);
    // Logout swallows a failed revocation (the session is over anyway): ask the IdP itself.
    expect(await system.idp.provider.RefreshToken.find(refreshToken)).toBeUndefined();

    expect(requests.map((r) => `${r.path} ${r.body.get("grant_type") ?? "-"} ${r.status}`)).toEqual([
      "/token authorization_code 200",
      "/token refresh_token 200", // the API's token, with `resource`
      "/token refresh_token 200", // the expired access token
      "/token/revocation - 200",
    ]);
    for (const request of requests) method.check(request);
  });
});

describe("private_key_jwt", () => {
  it("is what the flow inspector says the token request used, with no secret (X2)", async () => {
    system = await startSystem({ ...RSA_BFF, flowInspector: true }, {}, { webBffAuth: RSA_REGISTRATION });
    const alice = await logIn(system);
    const log = JSON.stringify(await (await alice.api("/bff/inspector")).json());
    expect(log).toContain("private_key_jwt: a client_assertion JWT signed with web-bff's private key");
    expect(log).not.toContain("client_secret_basic");
  });

  it("signs a fresh assertion for every request: iss and sub the client, aud the issuer, exp within a minute, a new jti", async () => {
    system = await startSystem(RSA_BFF, {}, { webBffAuth: RSA_REGISTRATION });
    const requests = recordClientRequests(system);
    const alice = await logIn(system);
    await alice.api("/bff/logout", { method: "POST" });
    expect(requests.map((r) => r.path)).toEqual(["/token", "/token", "/token/revocation"]);

    const jtis = new Set<string>();
    for (const request of requests) {
      const assertion = request.body.get("client_assertion") ?? "";
      const claims = decodeJwt(assertion);
      expect(claims).toMatchObject({ iss: "web-bff", sub: "web-bff", aud: IDP });
      const now = Math.floor(Date.now() / 1000);
      expect(claims.iat).toBeGreaterThanOrEqual(now - 10);
      expect(claims.iat).toBeLessThanOrEqual(now);
      expect(claims.exp).toBeGreaterThan(now);
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBeLessThanOrEqual(60);
      expect(claims.jti).toMatch(/^[\w-]{22,}$/);
      jtis.add(claims.jti ?? "");
      // Signed with the key the IdP knows: the registered public half verifies it.
      await jwtVerify(assertion, rsa.publicKey, {
        issuer: "web-bff",
        subject: "web-bff",
        audience: IDP,
        algorithms: ["RS256"],
      });
      expect(request.body.get("client_id")).toBe("web-bff");
    }
    expect(jtis.size).toBe(requests.length);
  });

  it("refuses the sign-in with a clear page when the IdP does not accept the key", async () => {
    system = await startSystem(
      { ...RSA_BFF, clientPrivateKey: pkcs8(otherRsa.privateKey) },
      {},
      { webBffAuth: RSA_REGISTRATION },
    );
    const requests = recordClientRequests(system);
    const browser = new TestBrowser(system);
    const { response, url } = await browser.navigate(`${BFF}/bff/login?returnTo=/`, {
      user: USERS.alice,
      consent: "allow",
    });

    expect(new URL(url).pathname).toBe("/bff/callback");
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await response.text();
    expect(page).toContain("did not accept this application&#39;s client authentication");
    expect(page).not.toMatch(/at .*\.ts:\d+|BEGIN PRIVATE KEY/);
    expect(requests).toMatchObject([{ path: "/token", status: 401, error: "invalid_client" }]);
    const session = await (await browser.api("/bff/session")).json();
    expect(session).toEqual({ authenticated: false });
  });

  it("ends the session with a 401 problem, not a 500, when the IdP stops accepting the key at a refresh", async () => {
    system = await startSystem(RSA_BFF, {}, { webBffAuth: RSA_REGISTRATION });
    const alice = await logIn(system);
    // The same sessions, now signed with a key the IdP does not know (a botched key rotation).
    system.restartBff({ clientPrivateKey: pkcs8(otherRsa.privateKey) });
    const requests = recordClientRequests(system);
    system.advance(10 * 60 * 1000);

    const response = await alice.api("/api/contacts");
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({ code: "session_expired" });
    expect(requests).toMatchObject([
      { body: expect.any(URLSearchParams), status: 401, error: "invalid_client" },
    ]);
    // Signing in again meets the same refusal, said plainly.
    const again = await alice.navigate(`${BFF}/bff/login`, { user: USERS.alice, consent: "allow" });
    expect(again.response.status).toBe(400);
    expect(await again.response.text()).toContain("client authentication");
  });

  it("is refused by an IdP that registered the client for a secret, and the other way round", async () => {
    system = await startSystem(RSA_BFF);
    const requests = recordClientRequests(system);
    const first = await new TestBrowser(system).navigate(`${BFF}/bff/login`, {
      user: USERS.alice,
      consent: "allow",
    });
    expect(first.response.status).toBe(400);
    await system.close();

    system = await startSystem({}, {}, { webBffAuth: RSA_REGISTRATION });
    const more = recordClientRequests(system);
    const second = await new TestBrowser(system).navigate(`${BFF}/bff/login`, {
      user: USERS.alice,
      consent: "allow",
    });
    expect(second.response.status).toBe(400);
    expect([...requests, ...more]).toMatchObject([
      { status: 401, error: "invalid_client" },
      { status: 401, error: "invalid_client" },
    ]);
  });
});

describe("validateConfig: client authentication", () => {
  const BASE: BffConfig = {
    issuer: "https://id.example.com",
    clientId: "web-bff",
    redirectUri: "https://app.example.com/bff/callback",
    postLogoutRedirectUri: "https://app.example.com/",
    apiBaseUrl: "https://api.example.com",
    cookieSecrets: [COOKIE_SECRET],
  };
  const messages = (config: Partial<BffConfig>) =>
    validateConfig({ ...BASE, ...config }).map((p) => `${p.field} ${p.message}`);

  it("accepts each method with exactly what it uses", () => {
    expect(messages({ clientSecret: "s" })).toEqual([]);
    expect(messages({ clientSecret: "s", clientAuthentication: "client_secret_post" })).toEqual([]);
    expect(messages({ ...RSA_BFF })).toEqual([]);
    expect(
      messages({ clientAuthentication: "private_key_jwt", clientPrivateKey: JSON.stringify(privateJwk(ec)) }),
    ).toEqual([]);
  });

  it("refuses a missing secret, a leftover secret, and key settings without private_key_jwt", () => {
    expect(messages({})).toEqual(["clientSecret is required (client_secret_basic)"]);
    expect(messages({ ...RSA_BFF, clientSecret: "s" })).toEqual([
      "clientSecret must not be set with private_key_jwt: the private key replaces the shared secret",
    ]);
    expect(messages({ clientSecret: "s", clientPrivateKey: pkcs8(rsa.privateKey) })).toEqual([
      "clientPrivateKey is only used with private_key_jwt (the client authentication is client_secret_basic)",
    ]);
    expect(messages({ clientSecret: "s", clientAuthentication: "client_secret_jwt" as never })).toEqual([
      'clientAuthentication must be one of client_secret_basic, client_secret_post, private_key_jwt (got "client_secret_jwt")',
    ]);
  });

  it("refuses a missing, public, symmetric, weak or mismatched key, and never quotes it", () => {
    const keyProblem = (config: Partial<BffConfig>) => messages({ ...RSA_BFF, ...config });
    expect(keyProblem({ clientPrivateKey: undefined })).toEqual([
      "clientPrivateKey is required with private_key_jwt: a PKCS#8 PEM private key or a private JWK",
    ]);
    const publicPem = rsa.publicKey.export({ type: "spki", format: "pem" }) as string;
    expect(keyProblem({ clientPrivateKey: publicPem })[0]).toMatch(/must be a PKCS#8 PEM private key/);
    expect(keyProblem({ clientPrivateKey: publicJwk(rsa.publicKey, "k", "RS256") })[0]).toMatch(
      /is a public JWK/,
    );
    expect(keyProblem({ clientPrivateKey: { kty: "oct", k: "c2VjcmV0" } })[0]).toMatch(/symmetric/);
    const weak = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey;
    expect(keyProblem({ clientPrivateKey: pkcs8(weak) })).toEqual([
      "clientPrivateKey is an RSA key of 1024 bits; at least 2048 are needed",
    ]);
    expect(keyProblem({ clientSigningAlg: "ES256" })).toEqual([
      "clientSigningAlg ES256 does not fit the key in clientPrivateKey (a rsa key)",
    ]);
    expect(keyProblem({ clientSigningAlg: "HS256" })[0]).toMatch(/clientSigningAlg must be one of RS256/);
    const lines = pkcs8(rsa.privateKey).split("\n");
    const truncated = [...lines.slice(0, 5), ...lines.slice(-3)].join("\n");
    expect(keyProblem({ clientPrivateKey: truncated })).toEqual([
      "clientPrivateKey is not a readable PKCS#8 PEM private key",
    ]);
    expect(keyProblem({ clientPrivateKey: "{not json" })).toEqual([
      "clientPrivateKey looks like a JWK but is not valid JSON",
    ]);
  });
});

function privateJwk(pair: { privateKey: KeyObject }) {
  return pair.privateKey.export({ format: "jwk" });
}
