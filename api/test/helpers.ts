/**
 * A real IdP in the test process, and real access tokens from it: a person
 * signs in through the login and consent pages, the client exchanges the code
 * and then refreshes with `resource` (the plan's token strategy), exactly as the
 * BFF will. No ports: `light-my-request` injects requests into `idp.listener`.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import {
  createIdp,
  DEV_REPORTING_SERVICE_SECRET,
  DEV_WEB_BFF_SECRET,
  developmentIdpConfig,
  type Idp,
} from "@oidc-bff/idp";
import { inProcessFetch } from "@oidc-bff/idp/in-process-fetch";
import { SCOPES } from "@oidc-bff/shared";
import { inject } from "light-my-request";

import { type Api, type ApiConfig, type ApiDeps, createApi } from "../src/index.ts";

export const ISSUER = "http://127.0.0.1:4000";
export const AUDIENCE = "http://localhost:4001";
const CLIENT_ID = "web-bff";
const REDIRECT_URI = "http://localhost:3000/bff/callback";
/** What the BFF asks for. */
export const BFF_SCOPE = "openid profile email offline_access contacts:read contacts:write";

export const USERS = {
  alice: { username: "alice", password: "alice-dev-password" },
  bob: { username: "bob", password: "bob-dev-password" },
} as const;

/** The IdP's private signing key (RSA JWK), to craft tokens the API must still refuse. */
export type PrivateJwk = { kid: string; kty: string; [member: string]: unknown };

export interface TestIdp {
  idp: Idp;
  signingKey: PrivateJwk;
  /** A `fetch` that reaches the IdP in-process; any other origin fails like an unreachable host. */
  fetch: typeof fetch;
  /** Paths the API fetched from the IdP, in order. */
  fetched: string[];
  close(): Promise<void>;
}

/**
 * Starts the IdP with its keys in a temporary file, so that tests can read the
 * private key. `web-bff` may also ask for contacts:stats here, which lets a
 * test obtain a token for `/stats`.
 */
export async function startIdp(options: { apiAccessTokenFormat?: "jwt" | "opaque" } = {}): Promise<TestIdp> {
  const dir = mkdtempSync(join(tmpdir(), "api-test-idp-"));
  const keysPath = join(dir, "jwks.json");
  // No BFF listens here: no back-channel logout tokens to a real localhost:3000.
  const config = developmentIdpConfig({
    storePath: ":memory:",
    keysPath,
    mode: "test",
    webBff: { backchannelLogoutUri: null },
    ...options,
  });
  config.clients = config.clients.map((client) => ({ ...client, scopes: [...client.scopes, SCOPES.stats] }));
  const idp = await createIdp(config);
  const { keys } = JSON.parse(readFileSync(keysPath, "utf8")) as { keys: PrivateJwk[] };
  const signingKey = keys[0];
  if (!signingKey) throw new Error("the IdP wrote no signing key");

  const fetched: string[] = [];
  const fromIdp = inProcessFetch(idp);
  const routedFetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.origin !== ISSUER) throw new TypeError("fetch failed");
    fetched.push(url.pathname);
    return fromIdp(request);
  };

  return {
    idp,
    signingKey,
    fetch: routedFetch,
    fetched,
    close: async () => {
      await idp.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A cookie jar in front of the IdP: enough of a browser for the login and consent pages. */
class Browser {
  private readonly cookies = new Map<string, { value: string; path: string }>();
  private readonly idp: Idp;

  constructor(idp: Idp) {
    this.idp = idp;
  }

  async request(method: "GET" | "POST", path: string, form?: Record<string, string>) {
    const headers: Record<string, string> = { host: new URL(ISSUER).host };
    const cookie = [...this.cookies]
      .filter(([, c]) => path === c.path || path.startsWith(c.path.endsWith("/") ? c.path : `${c.path}/`))
      .map(([name, c]) => `${name}=${c.value}`)
      .join("; ");
    if (cookie) headers.cookie = cookie;
    if (form) headers["content-type"] = "application/x-www-form-urlencoded";
    const response = await inject(this.idp.listener, {
      method,
      url: path,
      headers,
      ...(form ? { payload: new URLSearchParams(form).toString() } : {}),
    });
    for (const line of [response.headers["set-cookie"] ?? []].flat()) {
      const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
      const name = pair.slice(0, pair.indexOf("="));
      const value = pair.slice(pair.indexOf("=") + 1);
      const cookiePath = attributes.find((a) => a.toLowerCase().startsWith("path="))?.slice(5) ?? "/";
      if (value === "") this.cookies.delete(name);
      else this.cookies.set(name, { value, path: cookiePath });
    }
    return response;
  }
}

/** A service's own token (client credentials): `sub` is the client, there is no user. */
export async function serviceAccessToken(idp: Idp): Promise<string> {
  const { access_token } = await tokenRequest(
    idp,
    { grant_type: "client_credentials", scope: "contacts:stats", resource: AUDIENCE },
    ["reporting-service", DEV_REPORTING_SERVICE_SECRET],
  );
  if (!access_token) throw new Error("no access token");
  return access_token;
}

/**
 * RFC 7009: `web-bff` revokes one of its tokens. Revoking an access or refresh
 * token revokes the whole grant. (oidc-provider refuses to revoke JWT access
 * tokens: it does not store them.)
 */
export async function revoke(idp: Idp, token: string, hint: "access_token" | "refresh_token"): Promise<void> {
  await tokenRequest(
    idp,
    { token, token_type_hint: hint },
    [CLIENT_ID, DEV_WEB_BFF_SECRET],
    "/token/revocation",
  );
}

async function tokenRequest(
  idp: Idp,
  form: Record<string, string>,
  [clientId, secret] = [CLIENT_ID, DEV_WEB_BFF_SECRET],
  path = "/token",
): Promise<Record<string, string>> {
  const response = await inject(idp.listener, {
    method: "POST",
    url: path,
    headers: {
      host: new URL(ISSUER).host,
      authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    payload: new URLSearchParams(form).toString(),
  });
  if (response.statusCode !== 200) throw new Error(`${path} request failed: ${response.body}`);
  return (response.body ? JSON.parse(response.body) : {}) as Record<string, string>;
}

/**
 * A real RFC 9068 access token for the API: signs in as `user` asking for
 * `scope`, consents, exchanges the code, then refreshes with `resource`.
 */
export async function userAccessToken(
  idp: Idp,
  user: { username: string; password: string },
  scope = BFF_SCOPE,
): Promise<string> {
  return (await userTokens(idp, user, scope)).accessToken;
}

/** Every token of that sign-in, as the BFF would hold them. */
export interface UserTokens {
  /** For the API (from the refresh with `resource`): a JWT, or opaque if the IdP is so configured. */
  accessToken: string;
  /** The rotated refresh token (the one from the code exchange is spent). */
  refreshToken: string;
  /** From the code exchange without `resource`: for the userinfo endpoint, not for the API. */
  userinfoAccessToken: string;
  /** The ID tokens of the code exchange and of the refresh, for the client (`aud` web-bff). */
  idTokens: string[];
}

/** Signs in like `userAccessToken` and returns every token of the sign-in. */
export async function userTokens(
  idp: Idp,
  user: { username: string; password: string },
  scope = BFF_SCOPE,
): Promise<UserTokens> {
  const browser = new Browser(idp);
  const verifier = randomBytes(32).toString("base64url");
  const query = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: "code",
    redirect_uri: REDIRECT_URI,
    scope,
    resource: AUDIENCE,
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
    state: randomBytes(16).toString("base64url"),
    nonce: randomBytes(16).toString("base64url"),
  });

  let response = await browser.request("GET", `/auth?${query}`);
  for (let step = 0; step < 10; step++) {
    const next = new URL(String(response.headers.location), ISSUER);
    if (next.origin !== ISSUER) {
      const code = next.searchParams.get("code");
      if (!code) throw new Error(`no code in ${next.href}`);
      const exchanged = await tokenRequest(idp, {
        grant_type: "authorization_code",
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT_URI,
      });
      if (!exchanged.refresh_token || !exchanged.access_token) throw new Error("no refresh token");
      const { access_token, refresh_token, id_token } = await tokenRequest(idp, {
        grant_type: "refresh_token",
        refresh_token: exchanged.refresh_token,
        resource: AUDIENCE,
      });
      if (!access_token || !refresh_token) throw new Error("no access token");
      return {
        accessToken: access_token,
        refreshToken: refresh_token,
        userinfoAccessToken: exchanged.access_token,
        idTokens: [exchanged.id_token, id_token].filter((token): token is string => token !== undefined),
      };
    }
    const path = `${next.pathname}${next.search}`;
    const uid = /^\/interaction\/([^/]+)$/.exec(next.pathname)?.[1];
    if (uid) {
      const page = await browser.request("GET", path);
      response = page.body.includes(`action="/interaction/${uid}/login"`)
        ? await browser.request("POST", `/interaction/${uid}/login`, { ...user })
        : await browser.request("POST", `/interaction/${uid}/confirm`, {});
    } else {
      response = await browser.request("GET", path);
    }
  }
  throw new Error("too many redirects during sign-in");
}

export function apiFor(testIdp: TestIdp, config: Partial<ApiConfig> = {}, deps: ApiDeps = {}): Api {
  return createApi(
    { issuer: ISSUER, audience: AUDIENCE, dbPath: ":memory:", seed: true, ...config },
    { fetch: testIdp.fetch, ...deps },
  );
}

export const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
