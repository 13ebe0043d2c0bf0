/**
 * Security checklist, section F (the embedded OpenID Provider): the cases whose
 * expected behaviour the other IdP tests only partly assert. Each test names its
 * case id; docs/security.md cites them.
 */
import { inject } from "light-my-request";
import { afterEach, describe, expect, it, vi } from "vitest";

import { createIdp, type Idp } from "../src/app.ts";
import {
  assertProductionReady,
  DEFAULT_REFRESH_TOKEN_GRACE_SECONDS,
  developmentIdpConfig,
  type IdpConfig,
} from "../src/config.ts";
import { hashPassword } from "../src/password.ts";
import { providerConfiguration } from "../src/provider-config.ts";
import {
  API,
  authorizationRequest,
  Browser,
  decodeJwt,
  exchangeCode,
  ISSUER,
  interactionUid,
  location,
  loggedInTokens,
  POST_LOGOUT_REDIRECT_URI,
  REDIRECT_URI,
  refresh,
  signIn,
  type TokenSet,
  testConfig,
  testIdp,
  userinfo,
  verifyWithJwks,
} from "./helpers.ts";

const CLI = "contacts-cli";
const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const DAY = 24 * 60 * 60 * 1000;

let idp: Idp | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await idp?.close();
  idp = undefined;
});

async function start(...args: Parameters<typeof testIdp>): Promise<Idp> {
  idp = await testIdp(...args);
  return idp;
}

/** A request from the command line (a public client: client_id in the body, no Authorization). */
async function fromDevice(target: Idp, path: string, form: Record<string, string>) {
  const response = await inject(target.listener, {
    method: "POST",
    url: path,
    headers: { host: "127.0.0.1:4000", "content-type": "application/x-www-form-urlencoded" },
    payload: new URLSearchParams({ client_id: CLI, ...form }).toString(),
  });
  return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
}

function xsrfOf(page: string): string {
  const value = /name="xsrf" value="([^"]+)"/.exec(page)?.[1];
  if (!value) throw new Error(`no xsrf field in ${page}`);
  return value;
}

/** The person enters the code, presses Continue, signs in and allows, on the IdP's pages. */
async function approveDevice(target: Idp, userCode: string): Promise<string> {
  const browser = new Browser(target);
  const entry = await browser.get("/device");
  const confirm = await browser.post("/device", { xsrf: xsrfOf(entry.body), user_code: userCode });
  let response = await browser.post("/device", {
    xsrf: xsrfOf(confirm.body),
    user_code: userCode,
    confirm: "yes",
  });
  for (let step = 0; step < 8; step++) {
    if (response.statusCode === 200) return response.body;
    const next = location(response);
    if (new URL(next, ISSUER).pathname.startsWith("/interaction/")) {
      const uid = interactionUid(next);
      const page = await browser.get(next);
      response = page.body.includes(`action="/interaction/${uid}/login"`)
        ? await browser.post(`/interaction/${uid}/login`, {
            username: "alice",
            password: "alice-dev-password",
          })
        : await browser.post(`/interaction/${uid}/confirm`, {});
    } else {
      response = await browser.get(next);
    }
  }
  throw new Error("too many steps");
}

async function deviceLogin(target: Idp) {
  const started = await fromDevice(target, "/device/auth", {
    scope: "openid offline_access contacts:read contacts:write",
    resource: API,
  });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  return started.body as { device_code: string; user_code: string; expires_in: number };
}

const pollDevice = (target: Idp, deviceCode: string) =>
  fromDevice(target, "/token", { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, resource: API });

describe("redirect URIs are compared as exact strings (F1)", () => {
  it.each([
    ["a path suffix", `${REDIRECT_URI}/evil`],
    ["a longer path", `${REDIRECT_URI}-evil`],
    ["dot segments (%2e%2e)", "http://localhost:3000/bff/%2e%2e/callback"],
    ["dot segments leading back to the same path", "http://localhost:3000/bff/x/../callback"],
    ["userinfo (trusted@evil)", "http://localhost:3000@evil.example/bff/callback"],
    ["userinfo on the right host", "http://attacker@localhost:3000/bff/callback"],
    ["a fragment", `${REDIRECT_URI}#fragment`],
    ["an empty fragment", `${REDIRECT_URI}#`],
    ["another scheme", REDIRECT_URI.replace("http:", "https:")],
    ["an explicit default port", "http://localhost:80/bff/callback"],
    ["a percent-encoded path", "http://localhost:3000/bff/%63allback"],
  ])("shows an error page and never redirects when redirect_uri has %s (F1)", async (_case, redirectUri) => {
    const target = await start();
    const browser = new Browser(target);
    const response = await browser.get(authorizationRequest({ redirect_uri: redirectUri }).url);
    expect(response.statusCode).toBe(400);
    expect(response.headers.location).toBeUndefined();
    expect(response.headers["content-type"]).toMatch(/text\/html/);
    expect(response.body).toContain("redirect_uri");
    expect(response.body).not.toMatch(/at \S+ \(|node_modules/);
    // Not even a code was prepared for it: no session, no interaction cookie.
    expect(browser.cookies).toEqual([]);
  });

  it("still redirects to the exact registered URI, so the refusals above are about the URI (F1)", async () => {
    const target = await start();
    const toLogin = location(await new Browser(target).get(authorizationRequest().url));
    expect(toLogin).toMatch(/^\/interaction\//);
  });
});

describe("refresh tokens of the web BFF (F6)", () => {
  it("rotate on every use, and stop at the grant's absolute lifetime however often they rotate (F6)", async () => {
    // Only Date is faked: oidc-provider and the store read the time from it.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const config = testConfig();
    expect(config.ttl).toMatchObject({ refreshToken: 24 * 60 * 60, grant: 14 * 24 * 60 * 60 });
    const target = await start();

    // A login that asked for offline access: its refresh token is not tied to the IdP
    // session, so only the grant's lifetime caps it.
    const browser = new Browser(target);
    const request = authorizationRequest({ prompt: "consent" });
    const code = (await signIn(browser, request)).searchParams.get("code") as string;
    const exchanged = await exchangeCode(target, code, request.verifier);
    expect(exchanged.status).toBe(200);
    expect(String(exchanged.body.scope).split(" ")).toContain("offline_access");
    let current = exchanged.body.refresh_token as string;

    // Every refresh answers a new refresh token, which lives 24 hours: refreshed half a
    // day apart, the chain would go on for ever without an absolute cap.
    const start_ = Date.now();
    let rotations = 0;
    while (Date.now() - start_ < 13.5 * DAY) {
      vi.setSystemTime(Date.now() + DAY / 2);
      const next = await refresh(target, current, { resource: API });
      expect(next.status, JSON.stringify(next.body)).toBe(200);
      expect(next.body.refresh_token).not.toBe(current);
      current = next.body.refresh_token as string;
      rotations++;
    }
    expect(rotations).toBe(27);

    // Past the grant's 14 days the freshest refresh token (issued 12 hours ago) stops working.
    vi.setSystemTime(start_ + 14 * DAY + 60_000);
    const late = await refresh(target, current, { resource: API });
    expect(late.status).toBe(400);
    expect(late.body.error).toBe("invalid_grant");
  });

  it("revoke the whole grant, the fresh token too, when a spent one is replayed after the grace period (F6)", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const target = await start();
    const { tokens } = await loggedInTokens(target);
    const first = await refresh(target, tokens.refresh_token as string);
    expect(first.status).toBe(200);
    const rotated = (first.body as unknown as TokenSet).refresh_token as string;
    expect(rotated).not.toBe(tokens.refresh_token);

    // Within the grace period the client may retry a refresh whose answer it lost (refresh-token-grace.test.ts).
    vi.setSystemTime(Date.now() + (DEFAULT_REFRESH_TOKEN_GRACE_SECONDS + 1) * 1000);
    const replay = await refresh(target, tokens.refresh_token as string);
    expect(replay.body.error).toBe("invalid_grant");
    expect((await refresh(target, rotated)).body.error).toBe("invalid_grant");
    expect((await userinfo(target, (first.body as unknown as TokenSet).access_token)).status).toBe(401);
  });
});

describe("refresh tokens of the public command line (F7)", () => {
  it("rotate on every use; replaying a spent one revokes the grant, so the fresh one stops working too (F7)", async () => {
    const target = await start();
    const device = await deviceLogin(target);
    await approveDevice(target, device.user_code);
    const issued = await pollDevice(target, device.device_code);
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    const first = String(issued.body.refresh_token);

    const rotated = await fromDevice(target, "/token", {
      grant_type: "refresh_token",
      refresh_token: first,
      resource: API,
    });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    const second = String(rotated.body.refresh_token);
    expect(second).not.toBe(first);

    // An attacker (or a second copy of the CLI) replays the spent token...
    const replay = await fromDevice(target, "/token", { grant_type: "refresh_token", refresh_token: first });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe("invalid_grant");
    // ...and the grant is gone: the legitimate, fresh refresh token is refused as well.
    const afterReplay = await fromDevice(target, "/token", {
      grant_type: "refresh_token",
      refresh_token: second,
      resource: API,
    });
    expect(afterReplay.status).toBe(400);
    expect(afterReplay.body.error).toBe("invalid_grant");
  });
});

describe("the issuer and its metadata do not depend on the request (F10)", () => {
  async function discovery(target: Idp, headers: Record<string, string>) {
    const response = await inject(target.listener, {
      method: "GET",
      url: "/.well-known/openid-configuration",
      headers: { host: "127.0.0.1:4000", ...headers },
    });
    expect(response.statusCode).toBe(200);
    return JSON.parse(response.body) as Record<string, unknown>;
  }

  /** Every URL in the document: the issuer and the endpoints. */
  function urlsIn(metadata: Record<string, unknown>): string[] {
    return Object.values(metadata).filter(
      (value): value is string => typeof value === "string" && /^https?:\/\//.test(value),
    );
  }

  it.each([
    ["a spoofed Host", { host: "evil.example" }],
    [
      "X-Forwarded-Host and X-Forwarded-Proto",
      { "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" },
    ],
    ["Forwarded", { forwarded: "host=evil.example;proto=https" }],
    [
      "X-Forwarded-Port and X-Forwarded-Prefix",
      { "x-forwarded-port": "8443", "x-forwarded-prefix": "/evil" },
    ],
  ])("publishes the configured issuer and endpoints under %s (F10)", async (_case, headers) => {
    const target = await start();
    const honest = await discovery(target, {});
    const spoofed = await discovery(target, headers);
    expect(spoofed.issuer).toBe(ISSUER);
    expect(spoofed).toEqual(honest);
    for (const url of urlsIn(spoofed)) expect(url.startsWith(`${ISSUER}/`) || url === ISSUER).toBe(true);
    expect(spoofed.authorization_response_iss_parameter_supported).toBe(true);
    expect(spoofed.code_challenge_methods_supported).toEqual(["S256"]);
  });

  it("builds its endpoints from an https issuer behind a TLS-terminating proxy, not from the plain-http hop (F10)", async () => {
    const target = await start({ issuer: "https://id.example.com" });
    const metadata = await discovery(target, { host: "127.0.0.1:4000" });
    expect(metadata.issuer).toBe("https://id.example.com");
    for (const url of urlsIn(metadata)) expect(url).toMatch(/^https:\/\/id\.example\.com(\/|$)/);
  });

  it("sends the device to a verification page on the issuer whatever Host the device request carries (F10)", async () => {
    const target = await start();
    const response = await inject(target.listener, {
      method: "POST",
      url: "/device/auth",
      headers: {
        host: "evil.example",
        "x-forwarded-host": "evil.example",
        "content-type": "application/x-www-form-urlencoded",
      },
      payload: new URLSearchParams({ client_id: CLI, scope: "openid", resource: API }).toString(),
    });
    const body = JSON.parse(response.body) as Record<string, string>;
    expect(body.verification_uri).toBe(`${ISSUER}/device`);
    expect(body.verification_uri_complete?.startsWith(`${ISSUER}/device?`)).toBe(true);
  });

  it("puts the configured iss in the authorization response under a spoofed Host (F10)", async () => {
    const target = await start();
    const browser = new Browser(target);
    const request = authorizationRequest({ code_challenge: undefined, code_challenge_method: undefined });
    const response = await browser.request("GET", request.url, { headers: { host: "evil.example" } });
    const callback = new URL(location(response));
    expect(callback.searchParams.get("error")).toBe("invalid_request");
    expect(callback.searchParams.get("iss")).toBe(ISSUER);
  });
});

describe("ID tokens (F12)", () => {
  it("are signed with RS256 from the JWKS, echo the nonce, and carry the IdP session's sid (F12)", async () => {
    // The back-channel logout URI is registered, as in development and production.
    const target = await start({
      webBff: { backchannelLogoutUri: "http://localhost:3000/bff/backchannel-logout" },
    });
    const browser = new Browser(target);
    const request = authorizationRequest();
    const code = (await signIn(browser, request)).searchParams.get("code") as string;
    const { body } = await exchangeCode(target, code, request.verifier);
    const idToken = String(body.id_token);

    const { header, payload } = decodeJwt(idToken);
    expect(header.alg).toBe("RS256");
    expect(await verifyWithJwks(target, idToken)).toBe(true);
    expect(payload.nonce).toBe(request.nonce);
    expect(typeof payload.sid).toBe("string");
    expect(String(payload.sid).length).toBeGreaterThanOrEqual(20);

    // The same IdP session gives the same sid on the next login (no new sign-in).
    const again = authorizationRequest();
    const code2 = new URL(location(await browser.get(again.url))).searchParams.get("code") as string;
    const second = await exchangeCode(target, code2, again.verifier);
    expect(decodeJwt(String(second.body.id_token)).payload.sid).toBe(payload.sid);

    // What the discovery document promises: asymmetric algorithms only, and sid support.
    const metadata = JSON.parse(
      (
        await inject(target.listener, {
          method: "GET",
          url: "/.well-known/openid-configuration",
          headers: { host: "127.0.0.1:4000" },
        })
      ).body,
    ) as Record<string, unknown>;
    const algs = metadata.id_token_signing_alg_values_supported as string[];
    expect(algs).not.toContain("none");
    expect(algs.filter((alg) => alg.startsWith("HS"))).toEqual([]);
    expect(metadata.backchannel_logout_session_supported).toBe(true);
  });
});

describe("back-channel logout tokens the IdP sends (F13)", () => {
  it("are logout+jwt tokens for the client with iss, aud, iat, exp about 2 minutes, jti, sub, the sid of the ID token, the event and no nonce (F13)", async () => {
    const posted: Array<{ url: string; form: URLSearchParams }> = [];
    const config = testConfig({
      webBff: { backchannelLogoutUri: "http://localhost:3000/bff/backchannel-logout" },
    });
    idp = await createIdp(config, {
      fetch: async (url, init) => {
        posted.push({ url: String(url), form: new URLSearchParams(String(init?.body)) });
        return new Response(null, { status: 200 });
      },
    });
    const target = idp;
    const { browser, tokens } = await loggedInTokens(target);

    // RP-initiated logout at the IdP: the IdP tells the client through the back channel.
    const query = new URLSearchParams({
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI,
    });
    const confirmation = await browser.get(`/session/end?${query}`);
    const before = Math.floor(Date.now() / 1000);
    await browser.post("/session/end/confirm", { xsrf: xsrfOf(confirmation.body), logout: "yes" });
    await vi.waitFor(() => expect(posted).toHaveLength(1));

    const [sent] = posted;
    expect(sent?.url).toBe("http://localhost:3000/bff/backchannel-logout");
    const logoutToken = String(sent?.form.get("logout_token"));
    expect(await verifyWithJwks(target, logoutToken)).toBe(true);
    const { header, payload } = decodeJwt(logoutToken);
    expect(header).toMatchObject({ typ: "logout+jwt", alg: "RS256" });
    expect(payload).toMatchObject({
      iss: ISSUER,
      aud: "web-bff",
      sub: "user-alice",
      events: { "http://schemas.openid.net/event/backchannel-logout": {} },
    });
    expect(typeof payload.jti).toBe("string");
    expect(Number(payload.iat)).toBeGreaterThanOrEqual(before - 1);
    expect(Number(payload.exp) - Number(payload.iat)).toBeGreaterThan(0);
    expect(Number(payload.exp) - Number(payload.iat)).toBeLessThanOrEqual(120);
    expect(payload).not.toHaveProperty("nonce");
    // The IdP session that ended, as the ID token named it: relying parties that find their
    // sessions by sid (mod_auth_openidc) need it (X23).
    expect(payload.sid).toBe(decodeJwt(tokens.id_token as string).payload.sid);
    // Nothing of an ID token's person data either.
    expect(payload).not.toHaveProperty("email");
    expect(payload).not.toHaveProperty("name");
  });
});

describe("RP-initiated logout at the IdP (F14)", () => {
  it("refuses an id_token_hint issued to another client than client_id: an error page, no redirect, still signed in (F14)", async () => {
    const target = await start();
    const { browser, tokens } = await loggedInTokens(target);
    const query = new URLSearchParams({
      id_token_hint: tokens.id_token as string,
      client_id: CLI,
      post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI,
    });
    const response = await browser.get(`/session/end?${query}`);
    expect(response.statusCode).toBe(400);
    expect(response.headers.location).toBeUndefined();
    expect(response.body).toContain("client_id");
    expect(response.body).not.toMatch(/at \S+ \(|node_modules/);
    // The IdP session is untouched: the next authorization request goes straight back.
    expect(location(await browser.get(authorizationRequest().url))).toMatch(/^http:\/\/localhost:3000\//);
  });

  it.each([
    ["an id_token_hint signed by someone else", () => forgedIdToken()],
    ["an id_token_hint that is not a JWT", async () => "not-a-jwt"],
  ])("refuses %s: an error page, no redirect (F14)", async (_case, hint) => {
    const target = await start();
    const { browser } = await loggedInTokens(target);
    const query = new URLSearchParams({
      id_token_hint: await hint(),
      post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI,
      state: "s",
    });
    const response = await browser.get(`/session/end?${query}`);
    expect(response.statusCode).toBe(400);
    expect(response.headers.location).toBeUndefined();
    expect(response.body).not.toContain("op.logoutForm");
  });

  it.each([
    ["only client_id", { client_id: "web-bff" }],
    ["neither client_id nor id_token_hint", {}],
  ])(
    "with %s: asks the person, then signs out without redirecting to the post-logout URI (F14)",
    async (_case, params) => {
      const target = await start();
      const { browser } = await loggedInTokens(target);
      const query = new URLSearchParams({
        ...params,
        post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI,
        state: "s",
      });
      const confirmation = await browser.get(`/session/end?${query}`);
      expect(confirmation.statusCode).toBe(200);
      expect(confirmation.body).toContain("op.logoutForm");
      // Nothing happened yet: the person has to press Sign out.
      expect(location(await browser.get(authorizationRequest().url))).toMatch(/^http:\/\/localhost:3000\//);

      const done = await browser.post("/session/end/confirm", {
        xsrf: xsrfOf(confirmation.body),
        logout: "yes",
      });
      const next = location(done);
      expect(new URL(next, ISSUER).origin).toBe(ISSUER);
      expect(next).not.toContain("state=");
      const page = await browser.get(next);
      expect(page.body).toContain("You are signed out");
      expect(location(await browser.get(authorizationRequest().url))).toMatch(/^\/interaction\//);
    },
  );

  it("without any hint: a confirmation page first, and no sign-out until the person confirms (F14)", async () => {
    const target = await start();
    const { browser } = await loggedInTokens(target);
    const confirmation = await browser.get("/session/end");
    expect(confirmation.statusCode).toBe(200);
    expect(confirmation.body).toContain("op.logoutForm");
    expect(location(await browser.get(authorizationRequest().url))).toMatch(/^http:\/\/localhost:3000\//);
    // A forged confirmation (no xsrf value from the page) signs nobody out.
    const forged = await browser.post("/session/end/confirm", { logout: "yes" });
    expect(forged.statusCode).toBe(400);
    expect(location(await browser.get(authorizationRequest().url))).toMatch(/^http:\/\/localhost:3000\//);
  });
});

async function forgedIdToken(): Promise<string> {
  // An ID token for web-bff, signed by an IdP with other keys.
  const other = await createIdp(testConfig());
  try {
    return String((await loggedInTokens(other)).tokens.id_token);
  } finally {
    await other.close();
  }
}

describe("production mode refuses development defaults (F19)", () => {
  async function productionConfig(): Promise<IdpConfig> {
    return {
      ...developmentIdpConfig({
        issuer: "https://id.example.com",
        storePath: "/var/lib/idp/idp.sqlite",
        keysPath: "/var/lib/idp/jwks.json",
        webBff: {
          clientSecret: "a-real-secret-of-at-least-32-characters!",
          redirectUris: ["https://app.example.com/bff/callback"],
          postLogoutRedirectUris: ["https://app.example.com/"],
          backchannelLogoutUri: "https://app.example.com/bff/backchannel-logout",
        },
        reportingService: { clientSecret: "another-real-secret-of-at-least-32-characters" },
        contactsApi: { clientSecret: "the-api-introspection-secret-of-32-characters" },
        apiAudience: "https://api.example.com",
      }),
      mode: "production",
      cookieKeys: ["a-real-cookie-key-of-at-least-32-characters"],
      users: [
        {
          username: "carol",
          sub: "user-carol",
          passwordHash: await hashPassword("a long passphrase"),
          claims: {},
        },
      ],
    };
  }

  it("refuses http redirect and post-logout URIs outside loopback, and accepts loopback ones (F19)", async () => {
    const good = await productionConfig();
    await expect(assertProductionReady(good)).resolves.toBeUndefined();
    const withHttp: IdpConfig = {
      ...good,
      clients: good.clients.map((client) =>
        client.clientId === "web-bff"
          ? {
              ...client,
              redirectUris: ["http://app.example.com/bff/callback", "http://127.0.0.1:3000/bff/callback"],
              postLogoutRedirectUris: ["http://app.example.com/"],
            }
          : client,
      ),
    };
    const message = await assertProductionReady(withHttp).catch((error: Error) => error.message);
    expect(message).toContain("client web-bff: http://app.example.com/bff/callback must use https");
    expect(message).toContain("client web-bff: http://app.example.com/ must use https");
    expect(message).not.toContain("127.0.0.1:3000");
    await expect(createIdp(withHttp)).rejects.toMatchObject({ code: "not_production_ready" });
  });

  it("never enables oidc-provider's development login, which accepts any username and password (F19)", async () => {
    for (const config of [await productionConfig(), testConfig()]) {
      const configuration = providerConfiguration(config, {
        adapter: () => {
          throw new Error("not used");
        },
        jwks: { keys: [] },
        users: { findBySub: () => undefined } as never,
      });
      expect(configuration.features?.devInteractions?.enabled).toBe(false);
    }
    // And behaviourally: the login page is ours, and a made-up person cannot sign in.
    const target = await start();
    const browser = new Browser(target);
    const toLogin = location(await browser.get(authorizationRequest().url));
    const uid = interactionUid(toLogin);
    const refused = await browser.post(`/interaction/${uid}/login`, {
      username: "mallory",
      password: "anything",
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.headers.location).toBeUndefined();
  });
});

describe("the device flow on the IdP (F24)", () => {
  it("gives device codes the 600-second default lifetime: pending at 599 s, expired_token after 600 s (F24)", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const target = await start();
    const device = await deviceLogin(target);
    expect(device.expires_in).toBe(600);
    const issuedAt = Date.now();

    vi.setSystemTime(issuedAt + 599_000);
    expect((await pollDevice(target, device.device_code)).body.error).toBe("authorization_pending");
    vi.setSystemTime(issuedAt + 601_000);
    const late = await pollDevice(target, device.device_code);
    expect(late.status).toBe(400);
    expect(late.body.error).toBe("expired_token");
  });

  it("revokes what a device code gave when the spent code is presented again (F24)", async () => {
    const target = await start();
    const device = await deviceLogin(target);
    await approveDevice(target, device.user_code);
    const issued = await pollDevice(target, device.device_code);
    expect(issued.status).toBe(200);

    const again = await pollDevice(target, device.device_code);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe("invalid_grant");
    // The refresh token issued from the code is revoked with its grant.
    const refreshed = await fromDevice(target, "/token", {
      grant_type: "refresh_token",
      refresh_token: String(issued.body.refresh_token),
      resource: API,
    });
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe("invalid_grant");
  });
});
