/**
 * The flow inspector against the real IdP, BFF and API: a person's session
 * records the protocol steps in order, who talked to whom and which
 * specification asks for each step, and never a secret, a code, a token or a
 * cookie value, however the log is read.
 */
import { DEV_WEB_BFF_SECRET } from "@oidc-bff/idp";
import type { FlowLogView } from "@oidc-bff/shared";
import { afterEach, describe, expect, it } from "vitest";

import { validateConfig } from "../src/config.ts";
import { bffSettingsFromEnvironment } from "../src/env.ts";
import { createBff } from "../src/index.ts";
import { ENDED_LOG_TTL_SECONDS } from "../src/inspector/ended-log-cookie.ts";
import { createFlowLogStore, type FlowLogContent, type FlowLogStore } from "../src/inspector/flow-log.ts";
import type { BffLogger } from "../src/logger.ts";
import { INSPECTOR_COOKIE, SESSION_COOKIE } from "../src/session/cookies.ts";
import type { SessionData } from "../src/session/data.ts";
import { createSealer } from "../src/session/seal.ts";
import { BFF, COOKIE_SECRET, logIn, startSystem, TestBrowser, type TestSystem, USERS } from "./harness.ts";
import { createHostileOp, HOSTILE_ISSUER } from "./hostile-op.ts";

const HOST = new URL(BFF).host;
const JWT_SHAPE = /eyJ[\w-]{5,}\.eyJ[\w-]{5,}\./;

let system: TestSystem | undefined;
afterEach(async () => {
  await system?.close();
  system = undefined;
});

/** Parameters and form fields whose values are secrets of the protocol. */
const SECRET_FIELDS = [
  "code",
  "state",
  "nonce",
  "code_challenge",
  "code_verifier",
  "refresh_token",
  "access_token",
  "id_token",
  "token",
  "logout_token",
  "id_token_hint",
  "ticket",
];

/**
 * Watches every request between the parties and keeps every secret value that
 * crossed: query and form fields, token responses, Authorization and Cookie
 * headers, Set-Cookie values and the codes in redirects.
 */
function collectSecrets(target: TestSystem): Set<string> {
  const secrets = new Set<string>([DEV_WEB_BFF_SECRET, COOKIE_SECRET]);
  const keep = (value: string | null | undefined) => {
    if (value && value.length >= 8) secrets.add(value);
  };
  const fromParameters = (parameters: URLSearchParams) => {
    for (const name of SECRET_FIELDS) for (const value of parameters.getAll(name)) keep(value);
  };
  const original = target.fetch;
  target.fetch = async (input, init) => {
    const request = new Request(input, init);
    fromParameters(new URL(request.url).searchParams);
    const authorization = request.headers.get("authorization");
    keep(authorization);
    keep(authorization?.split(" ")[1]);
    for (const pair of request.headers.get("cookie")?.split("; ") ?? [])
      keep(pair.slice(pair.indexOf("=") + 1));
    if (request.headers.get("content-type")?.startsWith("application/x-www-form-urlencoded")) {
      fromParameters(new URLSearchParams(await request.clone().text()));
    }
    const response = await original(request);
    for (const line of response.headers.getSetCookie())
      keep(line.split(";")[0]?.split("=").slice(1).join("="));
    const location = response.headers.get("location");
    if (location) fromParameters(new URL(location, request.url).searchParams);
    if (new URL(request.url).pathname === "/token" && response.ok) {
      const body = (await response.clone().json()) as Record<string, unknown>;
      for (const name of ["access_token", "refresh_token", "id_token"])
        keep(body[name] as string | undefined);
    }
    return response;
  };
  return secrets;
}

/** The BFF's session id for this browser (read with the test's cookie secret). */
async function sessionId(browser: TestBrowser): Promise<string> {
  const sealed = browser.cookie(HOST, "__Host-bff-session")?.value ?? "";
  const unsealed = await createSealer([COOKIE_SECRET]).unseal<SessionData>("session", sealed);
  if (!unsealed.ok) throw new Error("cannot unseal the session cookie");
  return unsealed.value.sid;
}

async function inspect(browser: TestBrowser): Promise<FlowLogView> {
  const response = await browser.api("/bff/inspector");
  expect(response.status).toBe(200);
  expect(response.headers.get("cache-control")).toBe("no-store");
  return (await response.json()) as FlowLogView;
}

/** Waits for the IdP's back-channel logout, which it sends on its own time. */
async function eventually<View extends FlowLogContent>(
  read: () => View | Promise<View>,
  title: string,
): Promise<View> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const view = await read();
    if (view.steps.some((step) => step.title === title)) return view;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return read();
}

const row = (step: FlowLogView["steps"][number]) => [step.title, step.from, step.to, step.spec.label];

/** Logs out as the SPA does, and follows the answer to the BFF's end-session route (which sends to the IdP). */
async function logOut(browser: TestBrowser): Promise<Response> {
  const answer = await browser.api("/bff/logout", { method: "POST" });
  expect(answer.status).toBe(200);
  const { redirectTo } = (await answer.clone().json()) as { redirectTo: string };
  expect((await browser.fetch(`${BFF}${redirectTo}`)).status).toBe(302);
  return answer;
}

/** The Set-Cookie line of a cookie, with its attributes, or undefined. */
const setCookieLine = (response: Response, name: string) =>
  response.headers.getSetCookie().find((line) => line.startsWith(`${name}=`));

/**
 * Ten minutes later on the BFF's clock the access token has expired: the next call refreshes.
 * The clock then goes back, so that the IdP's logout tokens are not too old for the BFF.
 */
async function callAfterExpiry(running: TestSystem, browser: TestBrowser, calls = 1): Promise<number[]> {
  running.advance(10 * 60 * 1000);
  const answers = await Promise.all(Array.from({ length: calls }, () => browser.api("/api/contacts")));
  running.advance(-10 * 60 * 1000);
  return answers.map((answer) => answer.status);
}

async function startWithInspector(flowLogs?: FlowLogStore, logger?: BffLogger): Promise<TestSystem> {
  system = await startSystem(
    { flowInspector: true },
    { ...(flowLogs ? { flowLogs } : {}), ...(logger ? { logger } : {}) },
  );
  return system;
}

describe("the flow inspector", () => {
  it("records login, an API call, a refresh and logout in order, with who talked to whom and the spec", async () => {
    const flowLogs = createFlowLogStore({ now: Date.now, sessionLifetimeMs: 3600_000 });
    const running = await startWithInspector(flowLogs);
    const alice = await logIn(running);
    const sid = await sessionId(alice);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    expect(await callAfterExpiry(running, alice)).toEqual([200]);

    const beforeLogout = await inspect(alice);
    expect(beforeLogout.steps.map(row)).toEqual([
      ["Authorization request", "browser", "idp", "RFC 6749 §4.1.1"],
      ["Authorization response", "browser", "bff", "RFC 9207 §2.4"],
      ["Token request (authorization code)", "bff", "idp", "RFC 6749 §4.1.3"],
      ["Token response", "idp", "bff", "OIDC Core §3.1.3.7"],
      ["UserInfo request", "bff", "idp", "OIDC Core §5.3.1"],
      ["UserInfo response", "idp", "bff", "OIDC Core §5.3.2"],
      ["Token request for the API (refresh with resource)", "bff", "idp", "RFC 8707 §2.2"],
      ["Token response (refresh)", "idp", "bff", "RFC 9700 §4.14.2"],
      ["Session created", "bff", "browser", "OAuth 2.0 for Browser-Based Apps §6.1"],
      ["API call: GET /contacts → 200", "bff", "api", "RFC 6750 §2.1"],
      ["Refresh request", "bff", "idp", "RFC 6749 §6"],
      ["Token response (refresh)", "idp", "bff", "RFC 9700 §4.14.2"],
      ["API call: GET /contacts → 200", "bff", "api", "RFC 6750 §2.1"],
    ]);
    expect(beforeLogout.steps.map((step) => step.seq)).toEqual(beforeLogout.steps.map((_, i) => i + 1));
    for (const step of beforeLogout.steps) {
      expect(step.spec.href).toMatch(/^https:\/\//);
      expect(step.explanation.length).toBeGreaterThan(20);
      expect(Date.parse(step.at)).not.toBeNaN();
    }

    // What the steps say, decoded: the parameters sent, the ID token's claims, the API's audience.
    const [authorize, callback, tokenRequest, tokenResponse] = beforeLogout.steps;
    expect(authorize?.details).toMatchObject({
      endpoint: "http://127.0.0.1:4000/auth",
      parameters: {
        client_id: "web-bff",
        response_type: "code",
        code_challenge_method: "S256",
        redirect_uri: `${BFF}/bff/callback`,
        resource: "http://localhost:4001",
        state: expect.stringMatching(/^present, \d+ chars/),
        nonce: expect.stringMatching(/^present, \d+ chars/),
        code_challenge: expect.stringMatching(/^present, 43 chars/),
      },
    });
    expect(callback?.details).toMatchObject({
      parameters: { iss: "http://127.0.0.1:4000", code: expect.stringMatching(/^present/) },
    });
    expect(tokenRequest?.details).toMatchObject({
      endpoint: "http://127.0.0.1:4000/token",
      parameters: { grant_type: "authorization_code", code_verifier: expect.stringMatching(/^present, 43/) },
    });
    expect(tokenResponse?.details).toMatchObject({
      id_token: {
        format: expect.stringContaining("JWT"),
        header: { alg: "RS256" },
        claims: { sub: "user-alice", aud: "web-bff", nonce: expect.stringMatching(/^present/) },
      },
      refresh_token: { length: expect.any(Number), value: "not shown" },
    });
    // Both refreshes say what they sent: the API's resource indicator, and the refresh token's length only.
    for (const refresh of [beforeLogout.steps[6], beforeLogout.steps[10]]) {
      expect(refresh?.details.parameters).toEqual({
        grant_type: "refresh_token",
        resource: "http://localhost:4001",
        refresh_token: { length: expect.any(Number), value: "not shown" },
      });
    }
    const apiToken = beforeLogout.steps[7]?.details.access_token as { claims?: Record<string, unknown> };
    expect(apiToken.claims).toMatchObject({ aud: "http://localhost:4001", scope: expect.any(String) });
    expect(apiToken.claims?.jti).toMatch(/^present/);

    await logOut(alice);
    // The session is over, but its log is kept until the session would have expired, and the
    // back channel lands in it.
    const afterLogout = await eventually(() => flowLogs.view(sid), "Back-channel logout");
    const logout = afterLogout.steps.slice(beforeLogout.steps.length).map(row);
    const backChannel = ["Back-channel logout", "idp", "bff", "OIDC Back-Channel Logout 1.0 §2.6"];
    expect(logout.filter((step) => step[0] !== "Back-channel logout")).toEqual([
      ["Logout", "browser", "bff", "OAuth 2.0 for Browser-Based Apps §6.1"],
      ["Refresh token revoked", "bff", "idp", "RFC 7009 §2.1"],
      ["Logout answer", "bff", "browser", "OIDC RP-Initiated Logout 1.0 §2"],
      ["End-session request", "browser", "idp", "OIDC RP-Initiated Logout 1.0 §2"],
    ]);
    // Sent by the IdP when the grant is revoked: after the revocation, whenever it arrives.
    const revokedAt = logout.findIndex((step) => step[0] === "Refresh token revoked");
    expect(logout.findIndex((step) => step[0] === "Back-channel logout")).toBeGreaterThan(revokedAt);
    expect(logout).toContainEqual(backChannel);
  });

  it("never records a secret, a code, state, nonce, a token or a cookie value (X2)", async () => {
    const flowLogs = createFlowLogStore({ now: Date.now, sessionLifetimeMs: 3600_000 });
    const running = await startWithInspector(flowLogs);
    const secrets = collectSecrets(running);
    const alice = await logIn(running);
    const sid = await sessionId(alice);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    expect(await callAfterExpiry(running, alice, 2)).toEqual([200, 200]);
    const served = await (await alice.api("/bff/inspector")).text();
    await logOut(alice);
    const kept = JSON.stringify(await eventually(() => flowLogs.view(sid), "Back-channel logout"));
    // What the browser that logged out reads of its ended session, with the inspector cookie.
    const servedEnded = JSON.stringify(await eventually(() => inspect(alice), "Back-channel logout"));

    // The collection is real: codes, PKCE verifiers, every token the IdP issued, the cookies.
    const collected = [...secrets];
    expect(collected.filter((value) => JWT_SHAPE.test(value)).length).toBeGreaterThanOrEqual(4);
    expect(collected.some((value) => value.startsWith("Fe26.2*"))).toBe(true);
    expect(collected.length).toBeGreaterThan(15);
    // And the log is real: it describes those tokens.
    expect(kept).toContain("Back-channel logout");
    expect(kept).toContain("user-alice");

    expect(servedEnded).toContain('"session":"ended"');
    for (const log of [served, kept, servedEnded]) {
      for (const secret of collected) expect(log.includes(secret), "a secret value in the log").toBe(false);
      expect(JWT_SHAPE.test(log)).toBe(false);
    }
  });

  it("shows each person only their own session's steps", async () => {
    const running = await startWithInspector();
    const alice = await logIn(running, USERS.alice);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    const bob = await logIn(running, USERS.bob);

    const bobs = await inspect(bob);
    expect(bobs.steps.filter((step) => step.title === "Authorization request")).toHaveLength(1);
    expect(bobs.steps.some((step) => step.title.startsWith("API call"))).toBe(false);
    expect(JSON.stringify(bobs)).toContain("user-bob");
    expect(JSON.stringify(bobs)).not.toContain("user-alice");
    const alices = await inspect(alice);
    expect(JSON.stringify(alices)).not.toContain("user-bob");
    expect(alices.steps.some((step) => step.title.startsWith("API call"))).toBe(true);
  });

  it("after logout, lets the browser that logged out read the ended session's log, read-only", async () => {
    const running = await startWithInspector();
    const alice = await logIn(running);
    const answer = await logOut(alice);

    // The session cookie is gone; the inspector cookie, sealed and script-proof, names the log.
    expect(alice.cookie(HOST, SESSION_COOKIE)).toBeUndefined();
    const line = setCookieLine(answer, INSPECTOR_COOKIE) ?? "";
    expect(line.split("; ").slice(1).sort()).toEqual(
      ["HttpOnly", "Max-Age=900", "Path=/", "SameSite=Strict", "Secure"].sort(),
    );
    expect(alice.cookie(HOST, INSPECTOR_COOKIE)?.value).toMatch(/^Fe26\.2\*/);

    const ended = await eventually(() => inspect(alice), "Back-channel logout");
    expect(ended.session).toBe("ended");
    const titles = ended.steps.map((step) => step.title);
    expect(titles[0]).toBe("Authorization request");
    for (const title of [
      "Logout",
      "Refresh token revoked",
      "Logout answer",
      "End-session request",
      "Back-channel logout",
    ]) {
      expect(titles).toContain(title);
    }
    expect(ended.steps.find((step) => step.title === "Logout")?.details.inspectorCookie).toMatch(
      /^__Host-bff-inspector: set for 15 minutes/,
    );

    // Read-only: it cannot be cleared, and it gives no access to anything else.
    expect((await alice.api("/bff/inspector", { method: "DELETE" })).status).toBe(401);
    expect((await inspect(alice)).steps).toHaveLength(ended.steps.length);
    expect(await (await alice.api("/bff/session")).json()).toEqual({ authenticated: false });
    expect((await alice.api("/api/contacts")).status).toBe(401);

    // Not without the cookie: another browser, or this one once the cookie is gone.
    const another = await new TestBrowser(running).api("/bff/inspector");
    expect(another.status).toBe(401);
    expect(another.headers.get("content-type")).toContain("application/problem+json");
    const pass = alice.cookie(HOST, INSPECTOR_COOKIE)?.value ?? "";
    alice.jar.get(HOST)?.delete(INSPECTOR_COOKIE);
    expect((await alice.api("/bff/inspector")).status).toBe(401);
    alice.setCookie(HOST, INSPECTOR_COOKIE, pass);

    // Another browser with its own session sees its own log, never the ended one.
    const bob = await logIn(running, USERS.bob);
    const bobs = await inspect(bob);
    expect(bobs.session).toBe("current");
    expect(JSON.stringify(bobs)).not.toContain("user-alice");
    expect(bobs.steps.map((step) => step.title)).not.toContain("Logout");

    // Fifteen minutes on the BFF's clock, and the log is this browser's no more.
    running.advance(ENDED_LOG_TTL_SECONDS * 1000);
    expect((await alice.api("/bff/inspector")).status).toBe(401);
  });

  it("refuses an inspector cookie that is forged, tampered with, or another seal of the BFF", async () => {
    const running = await startWithInspector();
    const alice = await logIn(running);
    const sessionSeal = alice.cookie(HOST, SESSION_COOKIE)?.value ?? "";
    const sid = await sessionId(alice);
    await logOut(alice);
    const pass = alice.cookie(HOST, INSPECTOR_COOKIE)?.value ?? "";
    expect((await alice.api("/bff/inspector")).status).toBe(200);

    const otherSecret = createSealer(["another-secret-of-at-least-32-characters!!"]);
    const candidates = {
      "the session cookie's seal": sessionSeal,
      "a seal of the ended session's id with another secret": await otherSecret.seal(
        "ended-flow-log",
        { sid, expiresAt: Date.now() + 600_000 },
        600,
      ),
      "a tampered pass": `${pass.slice(0, -4)}AAAA`,
      "the session id in clear": sid,
    };
    for (const [what, value] of Object.entries(candidates)) {
      const stranger = new TestBrowser(running);
      stranger.setCookie(HOST, INSPECTOR_COOKIE, value);
      expect((await stranger.api("/bff/inspector")).status, what).toBe(401);
    }
  });

  it("serves the live session's log again once the browser logs in after a logout", async () => {
    const running = await startWithInspector();
    const alice = await logIn(running);
    await logOut(alice);
    expect((await inspect(alice)).session).toBe("ended");
    await alice.login(USERS.alice);
    const current = await inspect(alice);
    expect(current.session).toBe("current");
    expect(current.steps.map((step) => step.title)).not.toContain("Logout");
    expect(current.steps[0]?.title).toBe("Authorization request");
    // The new login ends the browser's pass to the old log: in a shared browser the next
    // person cannot read the previous one's logout, even once their own session is gone.
    expect(alice.cookie("localhost:3000", "__Host-bff-inspector")).toBeUndefined();
  });

  it("shows the scope a refresh sends for the API (Entra's apiScopes), exactly as sent", async () => {
    const apiScope = "api://1234-app/contacts.read";
    const op = await createHostileOp();
    op.behaviour = { audienceRule: "first-resource-scope" };
    const api = "http://localhost:4001";
    const route = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const request = new Request(input, init);
      if (request.url.startsWith(HOSTILE_ISSUER)) return op.fetch(request);
      if (request.url.startsWith(api)) return Response.json([]);
      throw new TypeError("fetch failed");
    };
    const bff = createBff(
      {
        issuer: HOSTILE_ISSUER,
        clientId: "web-bff",
        clientSecret: "secret",
        redirectUri: `${BFF}/bff/callback`,
        postLogoutRedirectUri: `${BFF}/`,
        apiBaseUrl: api,
        cookieSecrets: [COOKIE_SECRET],
        scopes: "openid profile offline_access",
        apiScopes: apiScope,
        mode: "test",
        dangerouslyAllowInsecureHttpIssuer: true,
        flowInspector: true,
      },
      { fetch: route },
    );
    const browser = new TestBrowser(
      {
        fetch: async (input, init) => {
          const request = new Request(input, init);
          return request.url.startsWith(BFF) ? bff.fetch(request) : route(request);
        },
      },
      { bff: BFF, idp: HOSTILE_ISSUER },
    );
    expect((await browser.navigate(`${BFF}/bff/login?returnTo=/`)).url).toBe(`${BFF}/`);

    const sent = op.tokenRequests.find((form) => form.get("grant_type") === "refresh_token");
    expect(sent?.get("scope")).toBe(`${apiScope} offline_access`);
    const step = (await inspect(browser)).steps.find((one) =>
      one.title.startsWith("Token request for the API"),
    );
    expect(step?.title).toBe("Token request for the API (refresh with scope)");
    expect(step?.spec.label).toBe("RFC 6749 §6");
    expect(step?.details.parameters).toEqual({
      grant_type: "refresh_token",
      scope: sent?.get("scope"),
      refresh_token: { length: sent?.get("refresh_token")?.length, value: "not shown" },
    });
  });

  it("records refreshes shared between requests: joined in flight, and taken from the store", async () => {
    const running = await startWithInspector();
    const alice = await logIn(running);
    const oldCookie = alice.cookie(HOST, "__Host-bff-session")?.value ?? "";
    // Within the refresh leeway of the 300 s token, but before the cookie is due to be re-sealed
    // for activity (which would adopt the newer tokens and skip the refresh altogether).
    running.advance(285 * 1000);
    const answers = await Promise.all(Array.from({ length: 5 }, () => alice.api("/api/contacts")));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);

    // A request still carrying the cookie from before the refresh.
    const straggler = new TestBrowser(running);
    straggler.setCookie(HOST, "__Host-bff-session", oldCookie);
    expect((await straggler.api("/api/contacts")).status).toBe(200);

    const titles = (await inspect(alice)).steps.map((step) => step.title);
    expect(titles.filter((title) => title === "Refresh request")).toHaveLength(1);
    expect(titles.filter((title) => title === "Joined a refresh already in flight")).toHaveLength(4);
    expect(titles).toContain("Took the outcome another process stored");
    expect(titles.filter((title) => title.startsWith("API call"))).toHaveLength(6);
  });

  it("answers 401 without a session, 403 without the anti-CSRF header, and clears on DELETE", async () => {
    const running = await startWithInspector();
    const anonymous = await new TestBrowser(running).api("/bff/inspector");
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("content-type")).toContain("application/problem+json");

    const alice = await logIn(running);
    expect((await alice.fetch(`${BFF}/bff/inspector`)).status).toBe(403);
    expect((await alice.api("/bff/inspector", { method: "PUT" })).status).toBe(405);
    expect((await inspect(alice)).steps.length).toBeGreaterThan(5);
    expect((await alice.api("/bff/inspector", { method: "DELETE" })).status).toBe(204);
    expect((await inspect(alice)).steps).toEqual([]);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    const [after] = (await inspect(alice)).steps;
    expect(after?.title).toBe("API call: GET /contacts → 200");
    expect(after?.seq).toBeGreaterThan(5);
  });

  it("is off by default: nothing is recorded and the route is a 404", async () => {
    const flowLogs = createFlowLogStore({ now: Date.now, sessionLifetimeMs: 3600_000 });
    system = await startSystem({}, { flowLogs });
    const alice = await logIn(system);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    const response = await alice.api("/bff/inspector");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: "not_found" });
    const sid = await sessionId(alice);
    expect(flowLogs.view(sid).steps).toEqual([]);

    // Logging out sets no inspector cookie, and a well-sealed one is not read either.
    const answer = await logOut(alice);
    expect(answer.headers.getSetCookie().length).toBeGreaterThan(0);
    expect(setCookieLine(answer, INSPECTOR_COOKIE)).toBeUndefined();
    expect(alice.cookie(HOST, INSPECTOR_COOKIE)).toBeUndefined();
    const pass = await createSealer([COOKIE_SECRET]).seal(
      "ended-flow-log",
      { sid, expiresAt: Date.now() + 600_000 },
      600,
    );
    alice.setCookie(HOST, INSPECTOR_COOKIE, pass);
    expect((await alice.api("/bff/inspector")).status).toBe(404);
  });

  it("never breaks a request when recording fails; the failure is logged", async () => {
    const warnings: string[] = [];
    const logger: BffLogger = { info() {}, warn: (line) => warnings.push(line), error() {} };
    const broken: FlowLogStore = {
      ...createFlowLogStore({ now: Date.now, sessionLifetimeMs: 3600_000 }),
      append() {
        throw new Error("the log is broken");
      },
    };
    const running = await startWithInspector(broken, logger);
    const alice = await logIn(running);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    const failures = warnings.filter((line) => line.startsWith("flow inspector:"));
    expect(failures.length).toBeGreaterThan(3);
    expect(failures[0]).toMatch(/^flow inspector: could not record a step: Error: the log is broken/);
  });
});

describe("the flow inspector's switch", () => {
  const valid = {
    issuer: "https://id.example.com",
    clientId: "web-bff",
    clientSecret: "secret",
    redirectUri: "https://app.example.com/bff/callback",
    postLogoutRedirectUri: "https://app.example.com/",
    apiBaseUrl: "https://api.example.com",
    cookieSecrets: [COOKIE_SECRET],
  };

  it("is refused in production mode, by configuration and by environment", () => {
    expect(validateConfig({ ...valid, flowInspector: true })).toContainEqual({
      field: "flowInspector",
      message: expect.stringContaining("refused in production mode"),
    });
    expect(validateConfig({ ...valid, mode: "development", flowInspector: true })).toEqual([]);

    const env = {
      BFF_ISSUER: valid.issuer,
      BFF_CLIENT_ID: valid.clientId,
      BFF_CLIENT_SECRET: valid.clientSecret,
      BFF_REDIRECT_URI: valid.redirectUri,
      BFF_POST_LOGOUT_REDIRECT_URI: valid.postLogoutRedirectUri,
      BFF_API_BASE_URL: valid.apiBaseUrl,
      BFF_COOKIE_SECRETS: COOKIE_SECRET,
    };
    expect(() => bffSettingsFromEnvironment({ ...env, BFF_FLOW_INSPECTOR: "on" })).toThrow(
      /BFF_FLOW_INSPECTOR is a development aid and is refused in production mode/,
    );
    expect(() => bffSettingsFromEnvironment({ ...env, BFF_FLOW_INSPECTOR: "yes" })).toThrow(
      /BFF_FLOW_INSPECTOR must be on or off/,
    );
    const development = bffSettingsFromEnvironment({
      ...env,
      BFF_MODE: "development",
      BFF_FLOW_INSPECTOR: "on",
    });
    expect(development.config.flowInspector).toBe(true);
    expect(bffSettingsFromEnvironment(env).config.flowInspector).toBeUndefined();
  });
});
