/**
 * Real providers' quirks (docs/providers.md), each played by the quirky provider
 * fixture (hostile-op.ts) or shown by the real embedded IdP (harness.ts): the
 * BFF either copes, by configuration or by tolerant code, or refuses with a
 * clear answer — never a 500, never a stack trace.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type BffConfig, type BffLogger, createBff } from "../src/index.ts";
import { BFF, COOKIE_SECRET, IDP, logIn, startSystem, TestBrowser, type TestSystem } from "./harness.ts";
import { createHostileOp, HOSTILE_ISSUER, type HostileBehaviour, type HostileOp } from "./hostile-op.ts";

const SESSION = "__Host-bff-session";
const HOST = new URL(BFF).host;
const API = "http://localhost:4001";

interface Quirky {
  op: HostileOp;
  browser: TestBrowser;
  /** The Authorization header of every call that reached the API. */
  apiCalls: string[];
  /** Everything the BFF logged. */
  logged: string[];
  /** Moves the BFF's clock. */
  advance(ms: number): void;
  /** Logs in, and fails the test unless the login completed. */
  login(): Promise<void>;
}

/** A BFF in front of the quirky provider and a stand-in API that records the tokens it receives. */
async function quirkyProvider(behaviour: HostileBehaviour, config: Partial<BffConfig> = {}): Promise<Quirky> {
  const op = await createHostileOp();
  op.behaviour = behaviour;
  const apiCalls: string[] = [];
  const logged: string[] = [];
  const logger: BffLogger = {
    info: (message) => logged.push(message),
    warn: (message) => logged.push(message),
    error: (message) => logged.push(message),
  };
  let offset = 0;
  const route = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    if (request.url.startsWith(HOSTILE_ISSUER)) return op.fetch(request);
    if (request.url.startsWith(API)) {
      apiCalls.push(request.headers.get("authorization") ?? "");
      return Response.json({ ok: true });
    }
    throw new TypeError("fetch failed");
  };
  const bff = createBff(
    {
      issuer: HOSTILE_ISSUER,
      clientId: "web-bff",
      clientSecret: "secret",
      redirectUri: `${BFF}/bff/callback`,
      postLogoutRedirectUri: `${BFF}/`,
      apiBaseUrl: API,
      cookieSecrets: [COOKIE_SECRET],
      scopes: "openid profile offline_access",
      mode: "test",
      dangerouslyAllowInsecureHttpIssuer: true,
      ...config,
    },
    { fetch: route, logger, now: () => Date.now() + offset },
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
  return {
    op,
    browser,
    apiCalls,
    logged,
    advance: (ms) => {
      offset += ms;
    },
    async login() {
      const { url, response } = await browser.navigate(`${BFF}/bff/login?returnTo=/`);
      if (url !== `${BFF}/`)
        throw new Error(`login ended at ${url} with ${response.status}: ${await response.text()}`);
    },
  };
}

const bearer = (call: string | undefined) => call?.replace(/^Bearer /, "") ?? "";
const refreshRequests = (op: HostileOp) =>
  op.tokenRequests.filter((form) => form.get("grant_type") === "refresh_token");

/** What a person must never see: a stack trace or our file layout. */
function expectNoInternals(text: string) {
  expect(text).not.toMatch(/\n\s+at .+:\d+|node_modules|\.ts:\d+/);
}

describe("a provider that returns no new refresh token on refresh (Google, Entra)", () => {
  it("keeps using the one it has, refresh after refresh, each time with a new access token", async () => {
    // 60 s access tokens, refreshed 30 s before they expire: two refreshes within a minute and a
    // half, well inside the two minutes a refresh's outcome is remembered (session/refresh.ts).
    const quirky = await quirkyProvider({ keepRefreshToken: true, expiresIn: 60 });
    await quirky.login();
    const [loginTokens] = quirky.op.tokenRequests;
    expect(loginTokens?.get("grant_type")).toBe("authorization_code");

    for (let round = 0; round < 3; round++) {
      quirky.advance(45_000);
      const response = await quirky.browser.api("/api/contacts");
      expect(response.status).toBe(200);
    }
    const refreshes = refreshRequests(quirky.op);
    expect(refreshes).toHaveLength(3);
    // The only refresh token ever issued, used each time.
    const issued = new Set(refreshes.map((form) => form.get("refresh_token")));
    expect(issued.size).toBe(1);
    // Each API call carried the access token of the refresh just made, not a stale one.
    expect(new Set(quirky.apiCalls.map(bearer)).size).toBe(3);
    const last = quirky.op.accessTokens.get(bearer(quirky.apiCalls.at(-1)));
    expect(last).toBeDefined();
  });
});

describe("a provider with strict rotation (the real IdP): a new refresh token each time", () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startSystem();
  });
  afterAll(() => system.close());

  it("each refresh presents the refresh token the previous one returned", async () => {
    const bodies: string[] = [];
    const routed = system.fetch;
    system.fetch = async (input, init) => {
      const request = new Request(input, init);
      if (request.url === `${IDP}/token`) bodies.push(await request.clone().text());
      return routed(request);
    };
    try {
      const alice = await logIn(system);
      for (let round = 0; round < 2; round++) {
        system.advance(10 * 60 * 1000);
        expect((await alice.api("/api/contacts")).status).toBe(200);
      }
    } finally {
      system.fetch = routed;
    }
    const presented = bodies
      .map((body) => new URLSearchParams(body))
      .filter((form) => form.get("grant_type") === "refresh_token")
      .map((form) => form.get("refresh_token"));
    // One refresh at login (the API's token, docs/decisions/002), one per expiry.
    expect(presented).toHaveLength(3);
    expect(new Set(presented).size).toBe(3);
  });
});

describe("token and refresh errors without an OAuth error body", () => {
  const refused: [string, { status: number; body: string; contentType: string }][] = [
    ["an empty 400", { status: 400, body: "", contentType: "text/plain" }],
    ["an HTML 400", { status: 400, body: "<html><h1>Bad Request</h1></html>", contentType: "text/html" }],
    ["an empty 401", { status: 401, body: "", contentType: "text/plain" }],
    [
      "an HTML 403 from a firewall",
      { status: 403, body: "<html>Forbidden</html>", contentType: "text/html" },
    ],
  ];
  it.each(refused)("a refresh answered with %s: the session ends, 401 session_expired", async (_, answer) => {
    const quirky = await quirkyProvider({});
    await quirky.login();
    quirky.op.behaviour = { tokenResponse: answer };
    quirky.advance(10 * 60 * 1000);

    const response = await quirky.browser.api("/api/contacts");
    expect(response.status).toBe(401);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ code: "session_expired" });
    expectNoInternals(text);
    expect(quirky.browser.cookie(HOST, SESSION)).toBeUndefined();
    expect(quirky.apiCalls).toHaveLength(0);
  });

  const outages: [string, { status: number; body: string; contentType: string }][] = [
    ["an empty 500", { status: 500, body: "", contentType: "text/plain" }],
    ["an HTML 502 from a proxy", { status: 502, body: "<html>Bad Gateway</html>", contentType: "text/html" }],
    ["an HTML 503", { status: 503, body: "<html>Maintenance</html>", contentType: "text/html" }],
    [
      "an HTML 429 from a rate limiter",
      { status: 429, body: "<html>Slow down</html>", contentType: "text/html" },
    ],
  ];
  it.each(outages)(
    "a refresh answered with %s: 503 with Retry-After, the session kept",
    async (_, answer) => {
      const quirky = await quirkyProvider({});
      await quirky.login();
      quirky.op.behaviour = { tokenResponse: answer };
      quirky.advance(10 * 60 * 1000);

      const response = await quirky.browser.api("/api/contacts");
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
      const text = await response.text();
      expect(JSON.parse(text)).toMatchObject({ code: "idp_unavailable" });
      expectNoInternals(text);

      // The provider is back: the same session refreshes and the call goes through.
      quirky.op.behaviour = {};
      expect((await quirky.browser.api("/api/contacts")).status).toBe(200);
      expect(quirky.apiCalls).toHaveLength(1);
    },
  );

  it.each([
    ["an empty 500", { status: 500, body: "", contentType: "text/plain" }, 503],
    ["an HTML 502", { status: 502, body: "<html>Bad Gateway</html>", contentType: "text/html" }, 503],
    ["an empty 401", { status: 401, body: "", contentType: "text/plain" }, 400],
  ])(
    "a code exchange answered with %s: a readable page (%#), no session",
    async (_, tokenResponse, status) => {
      const quirky = await quirkyProvider({ tokenResponse });
      const { response } = await quirky.browser.navigate(`${BFF}/bff/login?returnTo=/`);
      expect(response.status).toBe(status);
      expect(response.headers.get("content-type")).toMatch(/^text\/html/);
      expectNoInternals(await response.text());
      expect(quirky.browser.cookie(HOST, SESSION)).toBeUndefined();
    },
  );
});

describe("nonce: always sent, always checked", () => {
  it("a provider that requires a nonce gets a fresh one per login, and the ID token must carry it", async () => {
    const quirky = await quirkyProvider({ requireNonce: true });
    await quirky.login();
    await quirky.login();
    const nonces = quirky.op.authorizationRequests.map((query) => query.get("nonce"));
    expect(nonces).toHaveLength(2);
    for (const nonce of nonces) expect(nonce).toMatch(/^[\w-]{43,}$/);
    expect(nonces[0]).not.toBe(nonces[1]);
  });

  it("an ID token with another nonce is refused: no session", async () => {
    const quirky = await quirkyProvider({
      requireNonce: true,
      idToken: { claims: { nonce: "replayed-nonce" } },
    });
    const { response } = await quirky.browser.navigate(`${BFF}/bff/login?returnTo=/`);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("Sign-in failed");
    expect(quirky.browser.cookie(HOST, SESSION)).toBeUndefined();
  });
});

describe("a provider without an end_session_endpoint (Google)", () => {
  async function logOut(quirky: Quirky): Promise<string> {
    const response = await quirky.browser.api("/bff/logout", { method: "POST" });
    expect(response.status).toBe(200);
    const { redirectTo } = (await response.json()) as { redirectTo: string };
    const { visited } = await quirky.browser.navigate(`${BFF}${redirectTo}`, { stopBefore: HOSTILE_ISSUER });
    return visited.at(-1) ?? "";
  }

  it("logout ends the BFF session and comes straight back to the post-logout URI, with a note in the log", async () => {
    const quirky = await quirkyProvider({ noEndSessionEndpoint: true });
    await quirky.login();
    const stale = quirky.browser.cookie(HOST, SESSION)?.value ?? "";

    expect(await logOut(quirky)).toBe(`${BFF}/`);
    expect(quirky.op.requests.some((request) => request.includes("/session/end"))).toBe(false);
    expect(quirky.logged.join("\n")).toMatch(/no end_session_endpoint.*provider's session stays open/);
    expect(await (await quirky.browser.api("/bff/session")).json()).toEqual({ authenticated: false });
    // The old cookie, replayed, is no session either.
    quirky.browser.setCookie(HOST, SESSION, stale);
    expect(await (await quirky.browser.api("/bff/session")).json()).toMatchObject({ authenticated: false });
  });

  it("the control: with an end_session_endpoint, logout goes on to it", async () => {
    const quirky = await quirkyProvider({});
    await quirky.login();
    const { redirectTo } = (await (await quirky.browser.api("/bff/logout", { method: "POST" })).json()) as {
      redirectTo: string;
    };
    const end = await quirky.browser.fetch(`${BFF}${redirectTo}`);
    expect(end.headers.get("location")).toMatch(new RegExp(`^${HOSTILE_ISSUER}/session/end\\?`));
  });
});

describe("how the API's token is asked for", () => {
  it("Auth0: `audience` on the authorization request; the code exchange's token is the API's, no refresh at login", async () => {
    const quirky = await quirkyProvider(
      { audienceRule: "audience-param" },
      { audience: "https://contacts.example" },
    );
    await quirky.login();
    const [authorization] = quirky.op.authorizationRequests;
    expect(authorization?.get("audience")).toBe("https://contacts.example");
    expect(authorization?.has("resource")).toBe(false);
    expect(quirky.op.tokenRequests.map((form) => form.get("grant_type"))).toEqual(["authorization_code"]);

    expect((await quirky.browser.api("/api/contacts")).status).toBe(200);
    expect(quirky.op.accessTokens.get(bearer(quirky.apiCalls[0]))?.audience).toBe("https://contacts.example");

    // Later refreshes keep the grant's audience; they carry neither `audience` nor `resource`.
    quirky.advance(10 * 60 * 1000);
    expect((await quirky.browser.api("/api/contacts")).status).toBe(200);
    const [refresh] = refreshRequests(quirky.op);
    expect(refresh?.has("audience") || refresh?.has("resource")).toBe(false);
    expect(quirky.op.accessTokens.get(bearer(quirky.apiCalls[1]))?.audience).toBe("https://contacts.example");
  });

  it("Entra: API scopes consented at authorization, a Graph token for userinfo, the API's by refresh with `scope`", async () => {
    const apiScope = "api://1234-app/contacts.read";
    const quirky = await quirkyProvider({ audienceRule: "first-resource-scope" }, { apiScopes: apiScope });
    // The quirky userinfo refuses an API token: the login only completes with the Graph one.
    await quirky.login();
    expect(quirky.op.authorizationRequests[0]?.get("scope")).toBe(
      `openid profile offline_access ${apiScope}`,
    );
    const [code, loginRefresh] = quirky.op.tokenRequests;
    expect(code?.get("grant_type")).toBe("authorization_code");
    expect(code?.get("scope")).toBe("openid profile offline_access");
    expect(loginRefresh?.get("grant_type")).toBe("refresh_token");
    expect(loginRefresh?.get("scope")).toBe(`${apiScope} offline_access`);

    expect((await quirky.browser.api("/api/contacts")).status).toBe(200);
    expect(quirky.op.accessTokens.get(bearer(quirky.apiCalls[0]))?.audience).toBe("api://1234-app");
    const session = (await (await quirky.browser.api("/bff/session")).json()) as { scopes: string[] };
    expect(session.scopes).toEqual([apiScope]);

    quirky.advance(10 * 60 * 1000);
    expect((await quirky.browser.api("/api/contacts")).status).toBe(200);
    expect(refreshRequests(quirky.op).at(-1)?.get("scope")).toBe(`${apiScope} offline_access`);
    expect(quirky.op.accessTokens.get(bearer(quirky.apiCalls[1]))?.audience).toBe("api://1234-app");
  });

  it("Google: extra authorization parameters for a refresh token; a prompt the page asks for wins", async () => {
    const quirky = await quirkyProvider(
      {},
      { authorizationParams: { access_type: "offline", prompt: "consent" } },
    );
    await quirky.login();
    await quirky.browser.navigate(`${BFF}/bff/login?returnTo=/&prompt=none`);
    const [first, silent] = quirky.op.authorizationRequests;
    expect(first?.get("access_type")).toBe("offline");
    expect(first?.get("prompt")).toBe("consent");
    expect(silent?.get("access_type")).toBe("offline");
    expect(silent?.get("prompt")).toBe("none");
  });

  it.each<[string, Partial<BffConfig>, RegExp]>([
    [
      "resource and audience together",
      { resource: "https://contacts.example", audience: "https://contacts.example" },
      /audience cannot be combined with resource/,
    ],
    ["an empty audience", { audience: " " }, /audience must be the API's identifier/],
    [
      "API scopes that are OpenID scopes",
      { apiScopes: "openid" },
      /apiScopes must name only the API's scopes/,
    ],
    [
      "an authorization parameter the BFF sets itself",
      { authorizationParams: { state: "fixed" } },
      /authorizationParams must not set "state"/,
    ],
  ])("refuses %s at start-up", async (_, config, message) => {
    await expect(quirkyProvider({}, config)).rejects.toThrow(message);
  });
});

describe("a refresh with or without an ID token", () => {
  it("without one: the session goes on with the login's ID token (claims and logout hint)", async () => {
    const quirky = await quirkyProvider({ omitIdTokenOnRefresh: true });
    await quirky.login();
    quirky.advance(10 * 60 * 1000);
    expect((await quirky.browser.api("/api/contacts")).status).toBe(200);
    expect(refreshRequests(quirky.op)).toHaveLength(1);
    const session = (await (await quirky.browser.api("/bff/session")).json()) as {
      user: { sub: string; name: string };
    };
    expect(session.user).toMatchObject({ sub: "user-mallory", name: "Mallory" });
  });

  it("with one about the same person: validated and kept (its newer claims show)", async () => {
    const quirky = await quirkyProvider({ refreshIdTokenClaims: { name: "Mallory Renamed" } });
    await quirky.login();
    quirky.advance(10 * 60 * 1000);
    expect((await quirky.browser.api("/api/contacts")).status).toBe(200);
    const session = (await (await quirky.browser.api("/bff/session")).json()) as { user: { name: string } };
    expect(session.user.name).toBe("Mallory Renamed");
  });

  it.each<[string, HostileBehaviour]>([
    ["about another person", { refreshIdTokenClaims: { sub: "user-eve" } }],
    ["signed by a key the provider never published", { idToken: { key: "stranger" } }],
  ])("with one %s: the session ends", async (_, behaviour) => {
    const quirky = await quirkyProvider({});
    await quirky.login();
    quirky.op.behaviour = behaviour;
    quirky.advance(10 * 60 * 1000);
    const response = await quirky.browser.api("/api/contacts");
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: "session_expired" });
    expect(quirky.apiCalls).toHaveLength(0);
  });
});

describe("a token response without scope (LemonLDAP::NG): the scope requested (RFC 6749 §5.1)", () => {
  const gated: Partial<BffConfig> = {
    scopes: "openid profile offline_access contacts:read",
    additionalScopes: "contacts:write",
    apiRoutes: [
      { path: "/contacts", methods: ["GET"], scopes: ["contacts:read"] },
      { path: "/contacts", methods: ["POST"], scopes: ["contacts:write"] },
    ],
  };
  const scopesOf = async (quirky: Quirky) =>
    ((await (await quirky.browser.api("/bff/session")).json()) as { scopes: string[] }).scopes;
  const post = (quirky: Quirky) =>
    quirky.browser.api("/api/contacts", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "x" }),
    });

  it("the session holds the scopes asked for, and the routes they gate work, before and after a refresh", async () => {
    const quirky = await quirkyProvider({ omitScope: true }, gated);
    await quirky.login();
    expect(quirky.op.tokenRequests.every((form) => !form.has("scope"))).toBe(true);
    expect(await scopesOf(quirky)).toEqual(["openid", "profile", "offline_access", "contacts:read"]);
    expect((await quirky.browser.api("/api/contacts")).status).toBe(200);
    expect((await post(quirky)).status).toBe(403);

    // RFC 6749 §6: a refresh answer without scope leaves the scope as it was.
    quirky.advance(10 * 60 * 1000);
    expect((await quirky.browser.api("/api/contacts")).status).toBe(200);
    expect(refreshRequests(quirky.op)).toHaveLength(1);
    expect(await scopesOf(quirky)).toContain("contacts:read");
  });

  it("incremental authorization adds the scope asked for to the session's", async () => {
    const quirky = await quirkyProvider({ omitScope: true }, gated);
    await quirky.login();
    const { url } = await quirky.browser.navigate(`${BFF}/bff/login?scope=contacts:write&returnTo=/`);
    expect(url).toBe(`${BFF}/`);
    expect(await scopesOf(quirky)).toEqual(
      expect.arrayContaining(["openid", "contacts:read", "contacts:write"]),
    );
    expect((await post(quirky)).status).toBe(200);
  });

  it("with resource indicators: the refresh at login keeps the scopes of the code exchange", async () => {
    const quirky = await quirkyProvider({ omitScope: true }, { ...gated, resource: "https://api.example" });
    await quirky.login();
    expect(refreshRequests(quirky.op)).toHaveLength(1);
    expect(await scopesOf(quirky)).toContain("contacts:read");
    expect((await quirky.browser.api("/api/contacts")).status).toBe(200);
  });
});

describe("client_secret_basic at a provider that does not decode its form-encoding (Glewlwyd, LemonLDAP::NG)", () => {
  const HINT =
    "the provider may not decode RFC 6749 §2.3.1 form-encoding in Basic; set BFF_CLIENT_AUTHENTICATION=client_secret_post";

  it.each<[string, NonNullable<HostileBehaviour["basicWithoutDecoding"]>]>([
    ["403 unauthorized_client (Glewlwyd)", { status: 403, error: "unauthorized_client" }],
    ["401 invalid_client (LemonLDAP::NG)", { status: 401, error: "invalid_client" }],
    ["401 with a Basic challenge", { status: 401, error: "invalid_client", challenge: true }],
  ])("answered %s: the sign-in page and the log say what to change", async (_, refusal) => {
    const quirky = await quirkyProvider({ basicWithoutDecoding: refusal });
    // The id "web-bff" has a "-", which the encoding changes: said once, at start-up.
    expect(quirky.logged.filter((line) => line.includes(HINT))).toHaveLength(1);
    const { response } = await quirky.browser.navigate(`${BFF}/bff/login?returnTo=/`);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    const page = await response.text();
    expect(page).toContain(HINT);
    expectNoInternals(page);
    expect(quirky.logged.filter((line) => line.includes(HINT))).toHaveLength(3);
    expect(quirky.logged).toContainEqual(
      expect.stringMatching(/^code exchange: the provider refused the client's credentials/),
    );
  });

  it("works with client_secret_post, with no warning", async () => {
    const quirky = await quirkyProvider(
      { basicWithoutDecoding: { status: 401, error: "invalid_client" } },
      { clientAuthentication: "client_secret_post" },
    );
    await quirky.login();
    expect(quirky.logged.filter((line) => line.includes(HINT))).toEqual([]);
  });

  it("says nothing at start-up when the id and secret are letters and digits", async () => {
    const quirky = await quirkyProvider({}, { clientId: "webbff", clientSecret: "secret0123456789" });
    expect(quirky.logged.filter((line) => line.includes(HINT))).toEqual([]);
  });

  it("another refusal, or a provider that decodes, gets no advice about the encoding", async () => {
    const quirky = await quirkyProvider({
      tokenResponse: { status: 400, body: '{"error":"invalid_request"}', contentType: "application/json" },
    });
    const { response } = await quirky.browser.navigate(`${BFF}/bff/login?returnTo=/`);
    expect(await response.text()).not.toContain(HINT);
  });
});

describe("a provider without a revocation endpoint (LemonLDAP::NG)", () => {
  const NO_REVOCATION =
    /^logout: the provider has no revocation_endpoint, .*offline_access.*drop offline_access/;
  type Steps = { steps: { title: string; explanation: string; details: Record<string, unknown> }[] };

  it("with offline_access: the log warns at logout and the flow inspector says why and what to drop", async () => {
    const quirky = await quirkyProvider({}, { flowInspector: true });
    await quirky.login();
    expect((await quirky.browser.api("/bff/logout", { method: "POST" })).status).toBe(200);
    expect(quirky.op.requests.filter((request) => request.includes("revoc"))).toEqual([]);
    expect(quirky.logged.filter((line) => NO_REVOCATION.test(line))).toHaveLength(1);

    const { steps } = (await (await quirky.browser.api("/bff/inspector")).json()) as Steps;
    const step = steps.find((candidate) => candidate.title.startsWith("Refresh token not revoked"));
    expect(step?.explanation).toMatch(/no revocation_endpoint.*Drop offline_access/);
    expect(step?.details).toMatchObject({ offline_access: true });
  });

  it("without offline_access: no warning, only a note", async () => {
    const quirky = await quirkyProvider({}, { scopes: "openid profile", flowInspector: true });
    await quirky.login();
    expect((await quirky.browser.api("/bff/logout", { method: "POST" })).status).toBe(200);
    expect(quirky.logged.filter((line) => line.includes("revocation_endpoint"))).toEqual([
      "logout: the provider has no revocation_endpoint; the refresh token ends with the provider's session",
    ]);
  });
});

describe("the issuer must match discovery exactly, trailing slash included", () => {
  it.each([
    ["configured with a slash, discovered without", `${HOSTILE_ISSUER}/`, HOSTILE_ISSUER],
    ["configured without a slash, discovered with one (Auth0's form)", HOSTILE_ISSUER, `${HOSTILE_ISSUER}/`],
    [
      "a path with a slash against one without (Keycloak's realms)",
      `${HOSTILE_ISSUER}/realms/demo/`,
      `${HOSTILE_ISSUER}/realms/demo`,
    ],
  ])(
    "%s: a clear error quoting both values, and the login never leaves",
    async (_, configured, discovered) => {
      const quirky = await quirkyProvider({ discoveryIssuer: discovered }, { issuer: configured });
      const { response, url } = await quirky.browser.navigate(`${BFF}/bff/login?returnTo=/`);
      expect(new URL(url).pathname).toBe("/bff/login");
      expect(response.status).toBe(503);
      const page = (await response.text()).replaceAll("&#34;", '"');
      expect(page).toContain(`"${discovered}"`);
      expect(page).toContain(`"${configured}"`);
      expect(quirky.logged.join("\n")).toContain(`names the issuer "${discovered}"`);
      expect(quirky.op.authorizationRequests).toHaveLength(0);
    },
  );

  it("configured exactly as discovered, trailing slash and all: the login works", async () => {
    const quirky = await quirkyProvider(
      { discoveryIssuer: `${HOSTILE_ISSUER}/` },
      { issuer: `${HOSTILE_ISSUER}/` },
    );
    await quirky.login();
    expect(quirky.browser.cookie(HOST, SESSION)).toBeDefined();
  });

  it("the real IdP, configured with a slash it does not have: the same clear error (X5)", async () => {
    const system = await startSystem({ issuer: `${IDP}/` });
    try {
      const { response } = await new TestBrowser(system).navigate(`${BFF}/bff/login?returnTo=/`);
      expect(response.status).toBe(503);
      expect((await response.text()).replaceAll("&#34;", '"')).toContain(`names the issuer "${IDP}"`);
    } finally {
      await system.close();
    }
  });
});
