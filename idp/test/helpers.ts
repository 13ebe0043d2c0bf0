/**
 * Drives the IdP in-process, the way a browser and the BFF would, with no ports:
 * `light-my-request` injects requests straight into `idp.listener`.
 */
import { createHash, createPublicKey, randomBytes, verify } from "node:crypto";

import { type CookieRequest, CookieStore } from "@oidc-bff/shared/testing/cookie-store";
import { inject, type Response } from "light-my-request";
import { expect } from "vitest";

import { createIdp, type Idp } from "../src/app.ts";
import {
  DEV_WEB_BFF_SECRET,
  type DevelopmentIdpOptions,
  developmentIdpConfig,
  type IdpConfig,
} from "../src/config.ts";

export const ISSUER = "http://127.0.0.1:4000";
export const API = "http://localhost:4001";
export const CLIENT_ID = "web-bff";
export const CLIENT_SECRET = DEV_WEB_BFF_SECRET;
export const REDIRECT_URI = "http://localhost:3000/bff/callback";
export const POST_LOGOUT_REDIRECT_URI = "http://localhost:3000/";
/** What the BFF asks for (the plan's Token strategy). */
export const BFF_SCOPE = "openid profile email offline_access contacts:read contacts:write";

export function testConfig(
  options: Partial<DevelopmentIdpOptions> = {},
  overrides: Partial<IdpConfig> = {},
): IdpConfig {
  return {
    ...developmentIdpConfig({
      storePath: ":memory:",
      keysPath: null,
      mode: "test",
      // No BFF listens in these tests: never post logout tokens to a real localhost:3000.
      webBff: { backchannelLogoutUri: null },
      ...options,
    }),
    ...overrides,
  };
}

export async function testIdp(
  options: Partial<DevelopmentIdpOptions> = {},
  overrides: Partial<IdpConfig> = {},
): Promise<Idp> {
  return createIdp(testConfig(options, overrides));
}

/**
 * A browser in front of the IdP's listener: the shared cookie store (Chromium's
 * rules, `@oidc-bff/shared/testing/cookie-store`). A GET is a navigation the
 * browser starts (a redirect from the client, or the address bar); a POST is a
 * form on one of the IdP's pages, so it carries the IdP's Origin. URLs outside
 * the issuer are never requested — that is where the browser would leave the
 * IdP for the client.
 */
export class Browser {
  readonly jar = new CookieStore();
  readonly idp: Idp;
  /** The address the IdP sees the requests come from (light-my-request's default is 127.0.0.1). */
  readonly remoteAddress: string | undefined;

  constructor(idp: Idp, { remoteAddress }: { remoteAddress?: string } = {}) {
    this.idp = idp;
    this.remoteAddress = remoteAddress;
  }

  private context(method: string, path: string): CookieRequest {
    return {
      url: new URL(path, ISSUER).href,
      method,
      kind: "navigation",
      initiator: method === "GET" ? null : ISSUER,
    };
  }

  /** The Cookie header a GET of that path would carry. */
  cookieHeader(path: string): string {
    return this.jar.header(this.context("GET", path));
  }

  async request(
    method: "GET" | "POST",
    url: string,
    options: { form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const target = new URL(url, ISSUER);
    if (target.origin !== ISSUER) throw new Error(`the browser would leave the IdP for ${target.href}`);
    const path = `${target.pathname}${target.search}`;
    const context = this.context(method, target.href);
    const headers: Record<string, string> = {
      host: "127.0.0.1:4000",
      ...(context.initiator ? { origin: context.initiator } : {}),
      ...options.headers,
    };
    const cookie = this.jar.header(context);
    if (cookie) headers.cookie = cookie;
    if (options.form) headers["content-type"] = "application/x-www-form-urlencoded";
    const response = await inject(this.idp.listener, {
      method,
      url: path,
      headers,
      ...(this.remoteAddress ? { remoteAddress: this.remoteAddress } : {}),
      ...(options.form ? { payload: new URLSearchParams(options.form).toString() } : {}),
    });
    this.jar.storeResponse(context, [response.headers["set-cookie"] ?? []].flat());
    return response;
  }

  get(url: string) {
    return this.request("GET", url);
  }

  post(url: string, form: Record<string, string>, headers?: Record<string, string>) {
    return this.request("POST", url, { form, ...(headers ? { headers } : {}) });
  }
}

export function pkce() {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  return { verifier, challenge };
}

export interface AuthorizationRequest {
  url: string;
  state: string;
  nonce: string;
  verifier: string;
}

/** An authorization request as the BFF builds it: code flow, PKCE S256, state, nonce, resource. */
export function authorizationRequest(params: Record<string, string | undefined> = {}): AuthorizationRequest {
  const { verifier, challenge } = pkce();
  const state = randomBytes(16).toString("base64url");
  const nonce = randomBytes(16).toString("base64url");
  const query = new URLSearchParams();
  const all: Record<string, string | undefined> = {
    client_id: CLIENT_ID,
    response_type: "code",
    redirect_uri: REDIRECT_URI,
    scope: BFF_SCOPE,
    resource: API,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state,
    nonce,
    ...params,
  };
  for (const [key, value] of Object.entries(all)) if (value !== undefined) query.set(key, value);
  return { url: `/auth?${query}`, state, nonce, verifier };
}

/** The Location of a redirect, asserting that the response is one. */
export function location(response: Response): string {
  expect([302, 303], `expected a redirect, got ${response.statusCode}: ${response.body}`).toContain(
    response.statusCode,
  );
  return String(response.headers.location);
}

/** The interaction uid in a `/interaction/<uid>` location. */
export function interactionUid(url: string): string {
  const match = /^\/interaction\/([^/?]+)$/.exec(new URL(url, ISSUER).pathname);
  if (!match?.[1]) throw new Error(`not an interaction page: ${url}`);
  return match[1];
}

/**
 * Signs in through the login page and, when asked, allows the consent page.
 * Returns the URL the IdP finally redirects to (the client's redirect_uri).
 */
export async function signIn(
  browser: Browser,
  request: AuthorizationRequest,
  { username = "alice", password = "alice-dev-password" } = {},
): Promise<URL> {
  let next = location(await browser.get(request.url));
  for (let step = 0; step < 6; step++) {
    const target = new URL(next, ISSUER);
    if (target.origin !== ISSUER) return target;
    if (target.pathname.startsWith("/interaction/")) {
      const uid = interactionUid(next);
      const page = await browser.get(next);
      expect(page.statusCode).toBe(200);
      if (page.body.includes(`action="/interaction/${uid}/login"`)) {
        next = location(await browser.post(`/interaction/${uid}/login`, { username, password }));
      } else {
        next = location(await browser.post(`/interaction/${uid}/confirm`, {}));
      }
    } else {
      next = location(await browser.get(next));
    }
  }
  throw new Error("too many redirects");
}

export function basicAuth(clientId = CLIENT_ID, secret = CLIENT_SECRET): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64")}`;
}

/** A back-channel call from the BFF (client_secret_basic), e.g. to /token or /token/revocation. */
export async function backChannel(
  idp: Idp,
  path: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
  { remoteAddress }: { remoteAddress?: string } = {},
): Promise<{ status: number; body: Record<string, unknown>; response: Response }> {
  const response = await inject(idp.listener, {
    method: "POST",
    url: path,
    ...(remoteAddress ? { remoteAddress } : {}),
    headers: {
      host: "127.0.0.1:4000",
      authorization: basicAuth(),
      "content-type": "application/x-www-form-urlencoded",
      ...headers,
    },
    payload: new URLSearchParams(form).toString(),
  });
  const body = response.body ? (JSON.parse(response.body) as Record<string, unknown>) : {};
  return { status: response.statusCode, body, response };
}

export interface TokenSet {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
  token_type: string;
  expires_in: number;
}

export async function exchangeCode(
  idp: Idp,
  code: string,
  verifier: string,
  extra: Record<string, string> = {},
) {
  return backChannel(idp, "/token", {
    grant_type: "authorization_code",
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    ...extra,
  });
}

export async function refresh(idp: Idp, refreshToken: string, extra: Record<string, string> = {}) {
  return backChannel(idp, "/token", { grant_type: "refresh_token", refresh_token: refreshToken, ...extra });
}

export async function userinfo(idp: Idp, accessToken: string) {
  const response = await inject(idp.listener, {
    method: "GET",
    url: "/me",
    headers: { host: "127.0.0.1:4000", authorization: `Bearer ${accessToken}` },
  });
  return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
}

/** Signs in as alice and exchanges the code without `resource`, as the BFF does. */
export async function loggedInTokens(idp: Idp, browser = new Browser(idp)) {
  const request = authorizationRequest();
  const callback = await signIn(browser, request);
  const code = callback.searchParams.get("code");
  if (!code) throw new Error(`no code in ${callback.href}`);
  const { status, body } = await exchangeCode(idp, code, request.verifier);
  expect(status, JSON.stringify(body)).toBe(200);
  return { browser, tokens: body as unknown as TokenSet };
}

export function decodeJwt(token: string) {
  const [header = "", payload = ""] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(header, "base64url").toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>,
  };
}

/** Verifies an RS256 JWT's signature with the IdP's published JWKS. */
export async function verifyWithJwks(idp: Idp, token: string): Promise<boolean> {
  const response = await inject(idp.listener, {
    method: "GET",
    url: "/jwks",
    headers: { host: "127.0.0.1:4000" },
  });
  const { keys } = JSON.parse(response.body) as { keys: Array<Record<string, string>> };
  const { header } = decodeJwt(token);
  const jwk = keys.find((key) => key.kid === header.kid);
  if (!jwk || header.alg !== "RS256") return false;
  const [h, p, s = ""] = token.split(".");
  const key = createPublicKey({ key: jwk, format: "jwk" });
  return verify("RSA-SHA256", Buffer.from(`${h}.${p}`), key, Buffer.from(s, "base64url"));
}
