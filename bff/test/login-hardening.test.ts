/**
 * Login and callback cases of the security checklist (docs/security.md) that
 * the main integration tests leave open: what exactly goes to the IdP, what
 * the login cookie reveals, and callbacks that must never redeem a code.
 * Real IdP, BFF and API in one process (harness.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { BFF, IDP, logIn, startSystem, TestBrowser, type TestSystem, USERS } from "./harness.ts";

const SESSION = "__Host-bff-session";
const LOGIN = "__Host-bff-login";
const HOST = new URL(BFF).host;

let system: TestSystem;
beforeEach(async () => {
  system = await startSystem();
});
afterEach(async () => {
  await system.close();
});

/** Every request that reaches the IdP's token endpoint, with its headers and form. */
function watchTokenRequests(): Array<{ headers: Headers; form: URLSearchParams }> {
  const seen: Array<{ headers: Headers; form: URLSearchParams }> = [];
  const original = system.fetch;
  system.fetch = async (input, init) => {
    const request = new Request(input, init);
    if (request.url === `${IDP}/token`) {
      seen.push({
        headers: new Headers(request.headers),
        form: new URLSearchParams(await request.clone().text()),
      });
    }
    return original(request);
  };
  return seen;
}

/** Starts a login in `browser` and returns the authorization request's parameters. */
async function startLogin(browser: TestBrowser, query = "returnTo=/") {
  const response = await browser.fetch(`${BFF}/bff/login?${query}`);
  expect(response.status).toBe(302);
  return new URL(response.headers.get("location") ?? "");
}

/** A callback URL carrying a real code for `user`, with the browser stopped before it. */
async function callbackFor(browser: TestBrowser, user: { username: string; password: string } = USERS.alice) {
  const { url } = await browser.navigate(`${BFF}/bff/login?returnTo=/`, {
    user,
    consent: "allow",
    stopBefore: `${BFF}/bff/callback`,
  });
  return new URL(url);
}

describe("the authorization request", () => {
  it("is the code flow with the exact redirect_uri and no response_mode; the code goes back with client authentication (A1)", async () => {
    const browser = new TestBrowser(system);
    const request = await startLogin(browser);
    expect(request.origin + request.pathname).toBe(`${IDP}/auth`);
    expect(request.searchParams.get("response_type")).toBe("code");
    expect(request.searchParams.getAll("redirect_uri")).toEqual([`${BFF}/bff/callback`]);
    expect(request.searchParams.has("response_mode")).toBe(false);
    expect(request.searchParams.get("client_id")).toBe("web-bff");

    const tokenRequests = watchTokenRequests();
    await browser.navigate(request.href, { user: USERS.alice, consent: "allow" });
    const exchange = tokenRequests.find(({ form }) => form.get("grant_type") === "authorization_code");
    expect(exchange).toBeDefined();
    // client_secret_basic: the secret in the Authorization header, never in the form.
    expect(exchange?.headers.get("authorization")).toMatch(/^Basic /);
    expect(exchange?.form.has("client_secret")).toBe(false);
    expect(exchange?.form.get("redirect_uri")).toBe(`${BFF}/bff/callback`);
    expect(exchange?.form.get("code_verifier")).toMatch(/^[\w-]{43,128}$/);
  });

  it("has fresh state, nonce and PKCE challenge for every login (A2)", async () => {
    const browser = new TestBrowser(system);
    const requests = [
      await startLogin(browser),
      await startLogin(browser),
      await startLogin(new TestBrowser(system)),
    ];
    for (const name of ["state", "nonce", "code_challenge"]) {
      const values = requests.map((request) => request.searchParams.get(name));
      expect(new Set(values).size, name).toBe(3);
      for (const value of values) expect(value?.length, name).toBeGreaterThanOrEqual(22); // ≥ 128 bits in base64url
    }
  });

  it("never takes protocol parameters from the browser's query (A17)", async () => {
    const browser = new TestBrowser(system);
    const hostile = new URLSearchParams({
      returnTo: "/",
      client_id: "evil-client",
      redirect_uri: "https://evil.example/cb",
      response_type: "token",
      response_mode: "fragment",
      state: "attacker-state",
      nonce: "attacker-nonce",
      code_challenge: "attacker-challenge",
      code_challenge_method: "plain",
      request: "eyJhbGciOiJub25lIn0.e30.",
      request_uri: "https://evil.example/request",
      resource: "https://evil.example/api",
    });
    const request = await startLogin(browser, hostile.toString());
    const params = request.searchParams;
    expect(params.get("client_id")).toBe("web-bff");
    expect(params.getAll("redirect_uri")).toEqual([`${BFF}/bff/callback`]);
    expect(params.get("response_type")).toBe("code");
    expect(params.get("code_challenge_method")).toBe("S256");
    for (const [name, value] of hostile) {
      if (name !== "returnTo") expect(params.getAll(name), name).not.toContain(value);
    }
    for (const name of ["request", "request_uri", "response_mode"])
      expect(params.has(name), name).toBe(false);
  });

  it("keeps its secrets sealed in the login cookie: no state, nonce, verifier or returnTo readable (A3)", async () => {
    const browser = new TestBrowser(system);
    const request = await startLogin(browser, "returnTo=/contacts/secret-page");
    const sealed = browser.cookie(HOST, LOGIN)?.value ?? "";
    expect(sealed).toMatch(/^Fe26\.2\*/);
    const readable = [
      sealed,
      decodeURIComponent(sealed),
      ...sealed.split("*").map((part) => Buffer.from(part, "base64url").toString("latin1")),
    ].join("\n");
    for (const secret of [
      request.searchParams.get("state"),
      request.searchParams.get("nonce"),
      "secret-page",
    ]) {
      expect(readable).not.toContain(secret);
    }
    // The verifier is never sent anywhere before the code exchange; only its hash is.
    expect(readable).not.toMatch(/codeVerifier|returnTo|"state"/);
  });
});

describe("a callback that must never redeem a code", () => {
  const tokenCalls = () => system.idpRequests.filter((request) => request === "POST /token").length;

  it("with a wrong state: 400, no token request, and the real login still completes (A4)", async () => {
    const browser = new TestBrowser(system);
    const callback = await callbackFor(browser);
    const before = tokenCalls();
    const forged = new URL(callback);
    forged.searchParams.set("state", "not-the-state");
    expect((await browser.fetch(forged.href)).status).toBe(400);
    expect(tokenCalls()).toBe(before);
    expect(browser.cookie(HOST, SESSION)).toBeUndefined();
    // A forged callback cannot spend the browser's real login (another tab's, say).
    expect((await browser.fetch(callback.href)).status).toBe(302);
    expect(browser.cookie(HOST, SESSION)).toBeDefined();
  });

  it("without state, with an expired login cookie, or one sealed by another BFF: 400, no token request (A5)", async () => {
    const browser = new TestBrowser(system);
    const callback = await callbackFor(browser);
    const before = tokenCalls();

    const noState = new URL(callback);
    noState.searchParams.delete("state");
    expect((await browser.fetch(noState.href)).status).toBe(400);

    // A login cookie from a BFF with another secret (another deployment, or a forged seal).
    const otherBff = system.anotherBff({ cookieSecrets: ["another-cookie-secret-of-32-characters-or-more"] });
    const foreign = new TestBrowser({
      fetch: async (input, init) => otherBff.fetch(new Request(input, init)),
    });
    const foreignRequest = await startLogin(foreign);
    const stranger = new TestBrowser(system);
    stranger.setCookie(HOST, LOGIN, foreign.cookie(HOST, LOGIN)?.value ?? "");
    const foreignCallback = new URL(callback);
    foreignCallback.searchParams.set("state", foreignRequest.searchParams.get("state") ?? "");
    expect((await stranger.fetch(foreignCallback.href)).status).toBe(400);

    // The real login, eleven minutes later: the transaction has expired (it lives ten).
    system.advance(11 * 60 * 1000);
    const late = await browser.fetch(callback.href);
    expect(late.status).toBe(400);
    expect(await late.text()).toContain("took too long");
    expect(tokenCalls()).toBe(before);
    expect(browser.cookie(HOST, SESSION)).toBeUndefined();
    expect(stranger.cookie(HOST, SESSION)).toBeUndefined();
  });

  it("with another person's code under this browser's state (code injection): refused by PKCE, no session (A10)", async () => {
    const attacker = new TestBrowser(system);
    const stolen = await callbackFor(attacker, USERS.bob);
    const victim = new TestBrowser(system);
    const request = await startLogin(victim);
    const injected = new URL(`${BFF}/bff/callback`);
    injected.searchParams.set("code", stolen.searchParams.get("code") ?? "");
    injected.searchParams.set("state", request.searchParams.get("state") ?? "");
    injected.searchParams.set("iss", IDP);
    const tokenRequests = watchTokenRequests();
    const response = await victim.fetch(injected.href);
    expect([400, 502]).toContain(response.status);
    expect(victim.cookie(HOST, SESSION)).toBeUndefined();
    expect(await (await victim.api("/bff/session")).json()).toEqual({ authenticated: false });
    // It did reach the IdP, with the victim's verifier, which does not match bob's challenge.
    expect(tokenRequests).toHaveLength(1);
    expect(String(await response.text())).not.toMatch(/\n\s+at /);
  });

  it("with an iss one character away from the issuer: 400, no token request (A8)", async () => {
    for (const iss of [
      `${IDP}/`,
      IDP.replace("http:", "https:"),
      IDP.toUpperCase(),
      `${IDP}:4000`,
      IDP.slice(0, -1),
    ]) {
      const browser = new TestBrowser(system);
      const callback = await callbackFor(browser);
      const before = tokenCalls();
      callback.searchParams.set("iss", iss);
      expect((await browser.fetch(callback.href)).status, iss).toBe(400);
      expect(tokenCalls(), iss).toBe(before);
      expect(browser.cookie(HOST, SESSION), iss).toBeUndefined();
    }
  });

  it("with an error response: a page with the description escaped, no token request, the login spent (A7)", async () => {
    const browser = new TestBrowser(system);
    const request = await startLogin(browser);
    const state = request.searchParams.get("state") ?? "";
    const before = tokenCalls();
    const errorCallback = new URL(`${BFF}/bff/callback`);
    errorCallback.searchParams.set("error", "access_denied");
    errorCallback.searchParams.set("error_description", '<script>alert("x")</script>');
    errorCallback.searchParams.set("state", state);
    errorCallback.searchParams.set("iss", IDP);
    const response = await browser.fetch(errorCallback.href);
    expect(response.status).toBe(400);
    const page = await response.text();
    expect(page).not.toContain("<script>");
    expect(tokenCalls()).toBe(before);
    expect(browser.cookie(HOST, SESSION)).toBeUndefined();
    // The transaction is spent: the same state cannot be used again, not even with a code.
    const retry = new URL(errorCallback);
    retry.searchParams.delete("error");
    retry.searchParams.delete("error_description");
    retry.searchParams.set("code", "a-code");
    const again = await browser.fetch(retry.href);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain("could not be matched");
    expect(tokenCalls()).toBe(before);
  });

  it("answers login and callback uncacheable, with a referrer policy that keeps code and state on the origin (A18)", async () => {
    const browser = new TestBrowser(system);
    const login = await browser.fetch(`${BFF}/bff/login?returnTo=/`);
    const callback = await callbackFor(browser);
    const done = await browser.fetch(callback.href);
    const failed = await browser.fetch(callback.href);
    for (const response of [login, done, failed]) {
      expect(response.headers.get("cache-control")).toBe("no-store");
      expect(["no-referrer", "same-origin"]).toContain(response.headers.get("referrer-policy"));
    }
    expect(done.status).toBe(302);
    const next = done.headers.get("location") ?? "";
    expect(next).toBe("/");
    expect(failed.status).toBe(400);
  });
});

describe("the session cookie", () => {
  it("holds no token, no claim and no readable value; any changed byte makes it no session (B3)", async () => {
    const tokenRequests = watchTokenRequests();
    const original = system.fetch;
    const answers: string[] = [];
    system.fetch = async (input, init) => {
      const response = await original(input, init);
      if (new Request(input, init).url === `${IDP}/token`) answers.push(await response.clone().text());
      return response;
    };
    const alice = await logIn(system);
    system.fetch = original;
    expect(tokenRequests.length).toBeGreaterThan(0);
    const tokens = answers.flatMap((answer) => {
      const body = JSON.parse(answer) as Record<string, string>;
      return [body.access_token, body.refresh_token, body.id_token].filter((t): t is string => Boolean(t));
    });
    expect(tokens.length).toBeGreaterThanOrEqual(3);

    const sealed = alice.cookie(HOST, SESSION)?.value ?? "";
    const readable = [
      sealed,
      ...sealed.split("*").map((part) => Buffer.from(part, "base64url").toString("latin1")),
    ].join("\n");
    // A JWT in clear starts with its header ({"alg": or {"typ":); three letters alone ("eyJ")
    // also turn up by chance in a few KB of base64url about once in a hundred logins.
    for (const jwtStart of ["eyJhbGciOi", "eyJ0eXAiOi", "eyJraWQiOi"])
      expect(readable).not.toContain(jwtStart);
    for (const token of tokens) expect(readable).not.toContain(token.slice(0, 16));
    for (const claim of ["user-alice", "alice@", "Alice"]) expect(readable).not.toContain(claim);

    // Flip one character in each part of the seal: never a session, never a 500.
    const parts = sealed.split("*");
    for (let index = 1; index < parts.length; index++) {
      const part = parts[index] ?? "";
      if (part.length === 0) continue;
      const flipped = [...parts];
      const middle = Math.floor(part.length / 2);
      flipped[index] = `${part.slice(0, middle)}${part[middle] === "A" ? "B" : "A"}${part.slice(middle + 1)}`;
      const tampered = new TestBrowser(system);
      tampered.setCookie(HOST, SESSION, flipped.join("*"));
      expect((await tampered.api("/api/contacts")).status, `part ${index}`).toBe(401);
      expect(await (await tampered.api("/bff/session")).json()).toEqual({ authenticated: false });
    }
    expect((await alice.api("/api/contacts")).status).toBe(200);
  });
});

describe("requests a cross-site page could send", () => {
  it("are refused before the API whatever their content type, and for an origin that only starts like ours (C3)", async () => {
    const alice = await logIn(system);
    let reachedApi = 0;
    const original = system.fetch;
    system.fetch = async (input, init) => {
      if (new Request(input, init).url.startsWith("http://localhost:4001/contacts")) reachedApi++;
      return original(input, init);
    };
    const body = "name=Mallory&email=mallory@evil.example";
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "Application/X-WWW-Form-Urlencoded",
      "multipart/form-data; boundary=x",
      "TEXT/PLAIN;charset=UTF-8",
      undefined,
    ]) {
      const response = await alice.fetch(`${BFF}/api/contacts`, {
        method: "POST",
        headers: type ? { "content-type": type } : {},
        body,
      });
      expect(response.status, String(type)).toBe(403);
    }
    for (const origin of [`${BFF}.attacker.example`, "http://localhost:30000", "null"]) {
      const response = await alice.api("/api/contacts", {
        method: "POST",
        headers: { origin, "content-type": "application/json" },
        body: JSON.stringify({ name: "Mallory", email: "mallory@evil.example" }),
      });
      expect(response.status, origin).toBe(403);
    }
    system.fetch = original;
    expect(reachedApi).toBe(0);
  });

  it("never pass the anti-CSRF header or the browser's Authorization on to the API (C4)", async () => {
    const alice = await logIn(system);
    const seen: Headers[] = [];
    const original = system.fetch;
    system.fetch = async (input, init) => {
      const request = new Request(input, init);
      if (request.url.startsWith("http://localhost:4001")) seen.push(new Headers(request.headers));
      return original(request);
    };
    const response = await alice.api("/api/contacts", { headers: { authorization: "Basic YWxpY2U6eA==" } });
    system.fetch = original;
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.get("x-csrf")).toBeNull();
    expect(seen[0]?.get("authorization")).toMatch(/^Bearer eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
  });
});
