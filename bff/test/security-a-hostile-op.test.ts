/**
 * Checklist cases of group A (docs/security.md) that need an OpenID Provider
 * misbehaving on purpose: the hostile provider of hostile-op.ts, behind a fetch
 * that records every request and can re-sign its ID tokens or rewrite its
 * discovery document. The BFF under test is the real one.
 */
import { execFileSync } from "node:child_process";

import { exportJWK, importPKCS8, type JWK, SignJWT } from "jose";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import { type BffConfig, createBff, silentLogger } from "../src/index.ts";
import { BFF, COOKIE_SECRET, TestBrowser } from "./harness.ts";
import { createHostileOp, HOSTILE_ISSUER, type HostileBehaviour, type HostileOp } from "./hostile-op.ts";

const SESSION = "__Host-bff-session";
const HOST = new URL(BFF).host;
/** Where an attacker would host key material named in a token's header. */
const ATTACKER = "https://attacker.example";

let op: HostileOp;
/** Every URL any party fetched, in order. */
let fetched: string[];
/** Rewrites an answer of the provider on its way to the BFF or the browser. */
let rewrite: ((request: Request, response: Response) => Promise<Response>) | undefined;
/** What the attacker's server answers (JWKS or certificate), by path. */
let attackerFiles: Map<string, Response>;

const baseConfig: BffConfig = {
  issuer: HOSTILE_ISSUER,
  clientId: "web-bff",
  clientSecret: "secret",
  redirectUri: `${BFF}/bff/callback`,
  postLogoutRedirectUri: `${BFF}/`,
  apiBaseUrl: "http://localhost:4001",
  cookieSecrets: [COOKIE_SECRET],
  scopes: "openid profile",
  mode: "test",
  dangerouslyAllowInsecureHttpIssuer: true,
};

/** The provider, the attacker's server, and nothing else is reachable. */
async function toProvider(request: Request): Promise<Response> {
  fetched.push(request.url);
  if (request.url.startsWith(ATTACKER)) {
    const file = attackerFiles.get(new URL(request.url).pathname);
    return file ? file.clone() : new Response("not found", { status: 404 });
  }
  if (!request.url.startsWith(HOSTILE_ISSUER)) throw new TypeError("fetch failed");
  const response = await op.fetch(request.clone());
  return rewrite ? rewrite(request, response) : response;
}

/** A BFF with `overrides` in front of the hostile provider, and a browser for it. */
function system(overrides: Partial<BffConfig> = {}, routeFor = toProvider) {
  const bff = createBff(
    { ...baseConfig, ...overrides },
    {
      fetch: (input, init) => routeFor(new Request(input, init)),
      logger: silentLogger,
      now: () => Date.now(),
    },
  );
  const routes = async (input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    if (new URL(request.url).origin === BFF) return bff.fetch(request);
    return routeFor(request);
  };
  return {
    bff,
    browser: (idp = HOSTILE_ISSUER) => new TestBrowser({ fetch: routes }, { bff: BFF, idp }),
  };
}

beforeEach(async () => {
  op = await createHostileOp();
  fetched = [];
  rewrite = undefined;
  attackerFiles = new Map();
});

async function loginWith(browser: TestBrowser, behaviour: HostileBehaviour) {
  op.behaviour = behaviour;
  op.requests.length = 0;
  return browser.navigate(`${BFF}/bff/login?returnTo=/`);
}

/** The checklist's A12 outcome: a readable 400 page at the callback, no session, no userinfo call. */
async function expectRefusedIdToken(
  browser: TestBrowser,
  result: { url: string; response: Response },
): Promise<void> {
  expect(new URL(result.url).pathname).toBe("/bff/callback");
  expect(result.response.status).toBe(400);
  expect(result.response.headers.get("content-type")).toMatch(/^text\/html/);
  expect(await result.response.text()).toContain("Sign-in failed");
  expect(browser.cookie(HOST, SESSION)).toBeUndefined();
  expect(op.requests).toContain("POST /token");
  expect(op.requests).not.toContain("GET /userinfo");
  expect(await (await browser.api("/bff/session")).json()).toEqual({ authenticated: false });
}

describe("ID token claims the provider left out or bent (A12c, A12e, A12f)", () => {
  const now = () => Math.floor(Date.now() / 1000);
  it.each<[string, HostileBehaviour]>([
    [
      "several audiences and no azp: refused (A12c)",
      { idToken: { claims: { aud: ["web-bff", "another-client"], azp: undefined } } },
    ],
    [
      "several audiences, azp naming another client: refused (A12c)",
      { idToken: { claims: { aud: ["web-bff", "another-client"], azp: "another-client" } } },
    ],
    ["no iat: refused (A12e)", { idToken: { claims: { iat: undefined } } }],
    ["an iat that is not a number: refused (A12e)", { idToken: { claims: { iat: "yesterday" } } }],
    ["an iat an hour ahead: refused (A12e)", { idToken: { claims: { iat: now() + 3600 } } }],
    ["no exp: refused (A12f)", { idToken: { claims: { exp: undefined } } }],
    [
      "an exp two minutes past, beyond the clock skew allowed: refused (A12f)",
      { idToken: { claims: { exp: now() - 120, iat: now() - 400 } } },
    ],
  ])("%s", async (_, behaviour) => {
    const { browser } = system();
    const control = browser();
    // The same provider, well-behaved, logs in: the refusal below comes from the one claim changed.
    expect((await loginWith(control, {})).url).toBe(`${BFF}/`);
    const person = browser();
    await expectRefusedIdToken(person, await loginWith(person, behaviour));
  });
});

/** An RSA key pair and a self-signed certificate for it, as an attacker would make them. */
function attackerCertificate(): { privateKeyPem: string; certificateDer: string } {
  const pem = execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "-",
      "-out",
      "-",
      "-subj",
      "/CN=127.0.0.1",
      "-days",
      "1",
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
  );
  const privateKeyPem = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(pem)?.[0];
  const certificate = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem)?.[1];
  if (!privateKeyPem || !certificate) throw new Error("openssl made no key and certificate");
  return { privateKeyPem, certificateDer: certificate.replace(/\s/g, "") };
}

describe("key material named in the ID token's header (A12n)", () => {
  let attacker: { privateKey: Awaited<ReturnType<typeof importPKCS8>>; jwk: JWK; certificateDer: string };
  beforeAll(async () => {
    const { privateKeyPem, certificateDer } = attackerCertificate();
    const privateKey = await importPKCS8(privateKeyPem, "RS256", { extractable: true });
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...jwk } = await exportJWK(privateKey);
    attacker = { privateKey, jwk: { ...jwk, kid: "attacker-key", alg: "RS256", use: "sig" }, certificateDer };
  });

  /** The provider's token answer with its ID token re-signed by the attacker's key, under `header`. */
  function resignIdToken(header: Record<string, unknown>) {
    rewrite = async (request, response) => {
      if (new URL(request.url).pathname !== "/token" || !response.ok) return response;
      const body = (await response.json()) as { id_token: string };
      const claims = JSON.parse(Buffer.from(body.id_token.split(".")[1] ?? "", "base64url").toString());
      body.id_token = await new SignJWT(claims)
        .setProtectedHeader({ alg: "RS256", typ: "JWT", ...header })
        .sign(attacker.privateKey);
      return Response.json(body);
    };
  }

  it.each<[string, () => Record<string, unknown>]>([
    ["its own key (jwk)", () => ({ jwk: attacker.jwk })],
    ["a JWKS URL on the attacker's host (jku)", () => ({ jku: `${ATTACKER}/jwks`, kid: "attacker-key" })],
    ["a certificate URL on the attacker's host (x5u)", () => ({ x5u: `${ATTACKER}/cert.pem` })],
    ["its own certificate chain (x5c)", () => ({ x5c: [attacker.certificateDer] })],
    [
      "its own certificate chain under the provider's kid (x5c)",
      () => ({ x5c: [attacker.certificateDer], kid: "provider-key" }),
    ],
  ])(
    "an ID token signed by an attacker who names %s: refused, the named URL never fetched (A12n)",
    async (_, header) => {
      attackerFiles.set("/jwks", Response.json({ keys: [attacker.jwk] }));
      attackerFiles.set(
        "/cert.pem",
        new Response(`-----BEGIN CERTIFICATE-----\n${attacker.certificateDer}\n-----END CERTIFICATE-----\n`),
      );
      const { browser } = system();
      const person = browser();
      resignIdToken(header());
      await expectRefusedIdToken(person, await loginWith(person, {}));
      expect(fetched.filter((url) => url.startsWith(ATTACKER))).toEqual([]);
      // The only keys the BFF looked at are the issuer's own.
      expect(fetched.filter((url) => url.endsWith("/jwks"))).toEqual([`${HOSTILE_ISSUER}/jwks`]);
    },
  );
});

describe("the provider's signing keys change (A13)", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const jwksFetches = () => op.requests.filter((request) => request === "GET /jwks").length;
  /** Logs in a new browser; `op.requests` is kept, so JWKS fetches add up across logins. */
  async function freshLogin(browser: () => TestBrowser, behaviour: HostileBehaviour) {
    op.behaviour = behaviour;
    return browser().navigate(`${BFF}/bff/login?returnTo=/`);
  }

  it("a new key under a new kid: fetched again once, and the login works; a flood of random kids fetches at most once a minute (A13)", async () => {
    // Only Date is faked: the key cache's age is read from it; everything else runs for real.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const { browser } = system();

    expect((await freshLogin(browser, {})).url).toBe(`${BFF}/`);
    expect(jwksFetches()).toBe(1);

    // The provider rotates: the new key is published and signs from now on.
    vi.setSystemTime(Date.now() + 61_000);
    const rotated: HostileBehaviour = {
      extraKeys: ["stranger"],
      idToken: { key: "stranger", header: { kid: "stranger-key" } },
    };
    expect((await freshLogin(browser, rotated)).url).toBe(`${BFF}/`);
    expect(jwksFetches()).toBe(2);
    expect((await freshLogin(browser, rotated)).url).toBe(`${BFF}/`);
    expect(jwksFetches()).toBe(2);

    // Tokens under made-up kids, many at once: each refused, and the keys were just fetched.
    const randomKid = (): HostileBehaviour => ({
      extraKeys: ["stranger"],
      idToken: { key: "stranger", header: { kid: `kid-${crypto.randomUUID()}` } },
    });
    for (let i = 0; i < 5; i++) {
      const { url, response } = await freshLogin(browser, randomKid());
      expect(new URL(url).pathname).toBe("/bff/callback");
      expect(response.status).toBe(400);
    }
    expect(jwksFetches()).toBe(2);

    // A minute on, an unknown kid may fetch once more, and only once.
    vi.setSystemTime(Date.now() + 61_000);
    for (let i = 0; i < 5; i++) {
      const { response } = await freshLogin(browser, randomKid());
      expect(response.status).toBe(400);
    }
    expect(jwksFetches()).toBe(3);
    // And the rotated key still works without a fetch.
    expect((await freshLogin(browser, rotated)).url).toBe(`${BFF}/`);
    expect(jwksFetches()).toBe(3);
  });
});

describe("the UserInfo request (A14)", () => {
  it("carries the access token in the Authorization header only, never in the URL or a body (A14)", async () => {
    const seen: Request[] = [];
    const { browser } = system({}, async (request) => {
      if (request.url.startsWith(`${HOSTILE_ISSUER}/userinfo`)) seen.push(request.clone());
      return toProvider(request);
    });
    const person = browser();
    expect((await loginWith(person, {})).url).toBe(`${BFF}/`);
    expect(seen).toHaveLength(1);
    const [userinfo] = seen;
    const [accessToken] = [...op.accessTokens.keys()];
    expect(accessToken).toBeDefined();
    expect(userinfo?.method).toBe("GET");
    expect(userinfo?.url).toBe(`${HOSTILE_ISSUER}/userinfo`);
    expect(userinfo?.headers.get("authorization")).toBe(`Bearer ${accessToken}`);
    expect(await userinfo?.text()).toBe("");
  });

  it("answered about another person: no session, and the session route says so (A14)", async () => {
    const { browser } = system();
    const person = browser();
    const { response } = await loginWith(person, { userinfoSub: "user-someone-else" });
    expect(response.status).toBe(400);
    expect(op.requests).toContain("GET /userinfo");
    expect(person.cookie(HOST, SESSION)).toBeUndefined();
    expect(await (await person.api("/bff/session")).json()).toEqual({ authenticated: false });
  });
});

describe("a discovery document with a plain-http endpoint, in production mode (A15)", () => {
  /** The provider as an https issuer: its own URLs rewritten, one endpoint left on http. */
  const ISSUER = "https://op.example";
  const ENDPOINTS = [
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "end_session_endpoint",
  ] as const;

  function productionSystem(plainHttp: (typeof ENDPOINTS)[number] | undefined) {
    op.behaviour = { discoveryIssuer: ISSUER };
    return system(
      { issuer: ISSUER, mode: "production", dangerouslyAllowInsecureHttpIssuer: false },
      async (request) => {
        fetched.push(request.url);
        const url = new URL(request.url);
        if (url.host !== "op.example") throw new TypeError("fetch failed");
        // Both schemes reach the provider: what the BFF refuses, it refuses by itself.
        const response = await op.fetch(
          new Request(`${HOSTILE_ISSUER}${url.pathname}${url.search}`, request),
        );
        if (url.pathname !== "/.well-known/openid-configuration") return response;
        const document = (await response.json()) as Record<string, unknown>;
        for (const name of ENDPOINTS) {
          const value = String(document[name]).replace(HOSTILE_ISSUER, ISSUER);
          document[name] = name === plainHttp ? value.replace("https:", "http:") : value;
        }
        return Response.json(document);
      },
    );
  }

  it("the control: all https, the login and logout work in production mode (A15)", async () => {
    const { browser } = productionSystem(undefined);
    const person = browser(ISSUER);
    const { url } = await person.navigate(`${BFF}/bff/login?returnTo=/`);
    expect(url).toBe(`${BFF}/`);
    expect(person.cookie(HOST, SESSION)).toBeDefined();
    const logout = await person.api("/bff/logout", { method: "POST" });
    expect(logout.status).toBe(200);
    expect(fetched.some((u) => u.startsWith("http:"))).toBe(false);
  });

  it.each(ENDPOINTS)("%s on http: no login, no request and no redirect to it (A15)", async (plainHttp) => {
    const { browser } = productionSystem(plainHttp);
    const person = browser(ISSUER);
    const login = await person.fetch(`${BFF}/bff/login?returnTo=/`);
    expect(login.status).toBe(503);
    expect(login.headers.get("location")).toBeNull();
    expect(login.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await login.text()).toContain(`lists ${plainHttp} on plain http`);
    expect(fetched.filter((u) => u.startsWith("http:"))).toEqual([]);
    expect(op.requests).not.toContain("GET /auth");
    expect(person.cookie(HOST, SESSION)).toBeUndefined();
  });
});
