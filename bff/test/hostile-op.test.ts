/**
 * The BFF against a hostile OpenID Provider (hostile-op.ts): every forged or
 * malformed answer is refused with a readable page, no session is created, and
 * the BFF never takes the next protocol step (userinfo) after a bad ID token.
 */
import { beforeEach, describe, expect, it } from "vitest";

import { createBff, silentLogger } from "../src/index.ts";
import { BFF, COOKIE_SECRET, TestBrowser } from "./harness.ts";
import { createHostileOp, HOSTILE_ISSUER, type HostileBehaviour, type HostileOp } from "./hostile-op.ts";

const SESSION = "__Host-bff-session";
const HOST = new URL(BFF).host;

let op: HostileOp;
let browser: TestBrowser;
/** Moves the BFF's clock, so that its access token expires without waiting. */
let offset = 0;

beforeEach(async () => {
  offset = 0;
  op = await createHostileOp();
  const bff = createBff(
    {
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
    },
    {
      fetch: async (input, init) => {
        const request = new Request(input, init);
        if (request.url.startsWith(HOSTILE_ISSUER)) return op.fetch(request);
        throw new TypeError("fetch failed");
      },
      logger: silentLogger,
      now: () => Date.now() + offset,
    },
  );
  const routes = async (input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    if (request.url.startsWith(HOSTILE_ISSUER)) return op.fetch(request);
    return bff.fetch(request);
  };
  browser = new TestBrowser({ fetch: routes }, { bff: BFF, idp: HOSTILE_ISSUER });
});

async function loginWith(behaviour: HostileBehaviour) {
  op.behaviour = behaviour;
  op.requests.length = 0;
  return browser.navigate(`${BFF}/bff/login?returnTo=/`);
}

describe("a well-behaved answer (the control)", () => {
  it("logs in: so each refusal below comes from the one thing it changes (A12k)", async () => {
    const { url } = await loginWith({});
    expect(url).toBe(`${BFF}/`);
    expect(browser.cookie(HOST, SESSION)).toBeDefined();
    expect(op.requests).toContain("GET /userinfo");
  });
});

describe("an ID token that must be refused: no session, no userinfo call", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases: [string, HostileBehaviour][] = [
    ["unsigned (alg none) (A12i)", { idToken: { signature: "none" } }],
    [
      "HS256 keyed with the provider's public key (algorithm confusion)",
      { idToken: { signature: "hs256-public-key" } },
    ],
    ["signed by a key the provider never published, under its kid (A12h)", { idToken: { key: "stranger" } }],
    [
      "signed by an unknown key with an unknown kid",
      { idToken: { key: "stranger", header: { kid: "who-knows" } } },
    ],
    [
      "carrying its own key in the header (jwk)",
      { idToken: { key: "stranger", header: { jwk: { kty: "RSA", n: "AQAB", e: "AQAB" } } } },
    ],
    ["from another issuer (A12a)", { idToken: { claims: { iss: "https://evil.example" } } }],
    ["for another client", { idToken: { claims: { aud: "another-client" } } }],
    [
      "for several audiences with another authorized party",
      { idToken: { claims: { aud: ["web-bff", "another-client"], azp: "another-client" } } },
    ],
    ["expired", { idToken: { claims: { exp: now() - 600, iat: now() - 900 } } }],
    ["issued in the future", { idToken: { claims: { iat: now() + 3600, exp: now() + 7200 } } }],
    ["with another login's nonce (A12g)", { idToken: { claims: { nonce: "not-the-nonce" } } }],
    ["without a nonce", { idToken: { claims: { nonce: undefined } } }],
    ["without a sub (A12d)", { idToken: { claims: { sub: undefined } } }],
    ["typed as an access token (at+jwt) (A12p)", { idToken: { header: { typ: "at+jwt" } } }],
    ["typed as a logout token (logout+jwt)", { idToken: { header: { typ: "logout+jwt" } } }],
    ["without an aud (A12b)", { idToken: { claims: { aud: undefined } } }],
  ];

  it.each(cases)("%s", async (_, behaviour) => {
    const { url, response } = await loginWith(behaviour);
    expect(new URL(url).pathname).toBe("/bff/callback");
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await response.text()).toContain("Sign-in failed");
    expect(browser.cookie(HOST, SESSION)).toBeUndefined();
    expect(op.requests).toContain("POST /token");
    expect(op.requests).not.toContain("GET /userinfo");
  });
});

describe("other hostile answers", () => {
  it("a userinfo answer about another person: no session", async () => {
    const { response } = await loginWith({ userinfoSub: "user-someone-else" });
    expect(response.status).toBe(400);
    expect(browser.cookie(HOST, SESSION)).toBeUndefined();
  });

  it("a discovery document naming another issuer: the login never leaves for it", async () => {
    const { response, url } = await loginWith({ discoveryIssuer: "https://evil.example" });
    expect(new URL(url).pathname).toBe("/bff/login");
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(600);
    expect(response.status).not.toBe(500);
    expect(op.requests).not.toContain("GET /auth");
  });

  it("an authorization response without iss, although the provider promised one (RFC 9207): no code redeemed", async () => {
    const { response } = await loginWith({ omitIssInCallback: true });
    expect(response.status).toBe(400);
    expect(op.requests).not.toContain("POST /token");
    expect(browser.cookie(HOST, SESSION)).toBeUndefined();
  });

  it.each([
    ["an HTML page with status 200", { status: 200, body: "<html>hello</html>", contentType: "text/html" }],
    [
      "JSON without an access token",
      { status: 200, body: '{"token_type":"Bearer"}', contentType: "application/json" },
    ],
    ["a 400 without an OAuth error body", { status: 400, body: "nope", contentType: "text/plain" }],
    [
      "an enormous JSON answer",
      { status: 200, body: `{"x":"${"a".repeat(2_000_000)}"}`, contentType: "application/json" },
    ],
  ])("a token answer that is %s: a readable page, never a 500", async (_, tokenResponse) => {
    const { response } = await loginWith({ tokenResponse });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).not.toBe(500);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(browser.cookie(HOST, SESSION)).toBeUndefined();
  });
});

describe("a refresh answered with an ID token that must be refused (C14): the session ends", () => {
  it.each<[string, HostileBehaviour]>([
    ["about another person", { idToken: { claims: { sub: "user-eve" } } }],
    ["from another issuer", { idToken: { claims: { iss: "https://evil.example" } } }],
    ["signed by a key the provider never published", { idToken: { key: "stranger" } }],
    ["for another client", { idToken: { claims: { aud: "another-client" } } }],
  ])("%s", async (_, behaviour) => {
    await loginWith({});
    expect(browser.cookie(HOST, SESSION)).toBeDefined();
    op.behaviour = behaviour;
    offset += 10 * 60 * 1000;
    const response = await browser.api("/api/contacts");
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: "session_expired" });
    expect(op.requests.filter((r) => r === "POST /token").length).toBe(2);
    expect(browser.cookie(HOST, SESSION)).toBeUndefined();
  });
});

describe("key selection (A12l, A12m, A12o)", () => {
  it("an ID token without kid, one key published: accepted with that key (A12l)", async () => {
    const { url } = await loginWith({ idToken: { header: { kid: undefined } } });
    expect(url).toBe(`${BFF}/`);
    expect(browser.cookie(HOST, SESSION)).toBeDefined();
  });

  it("an ID token without kid, several keys published: refused or verified, never a 500 (A12m)", async () => {
    const { url, response } = await loginWith({
      idToken: { header: { kid: undefined } },
      extraKeys: ["stranger"],
    });
    if (url === `${BFF}/`) {
      expect(browser.cookie(HOST, SESSION)).toBeDefined();
    } else {
      expect(response.status).toBe(400);
      expect(browser.cookie(HOST, SESSION)).toBeUndefined();
    }
  });

  it("keys no library can use, next to the right one: ignored, and the login works (A12o)", async () => {
    const { url } = await loginWith({ extraKeys: ["unusable"] });
    expect(url).toBe(`${BFF}/`);
    expect(browser.cookie(HOST, SESSION)).toBeDefined();
  });
});
