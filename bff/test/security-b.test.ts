/**
 * Security checklist, section B (session cookies and browser-facing
 * hardening): the cases the other suites assert only in part. Everything runs
 * against the real IdP, BFF and API of harness.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { DEV_WEB_BFF_SECRET, hashPassword } from "@oidc-bff/idp";
import { afterEach, describe, expect, it } from "vitest";

import { validateConfig } from "../src/config.ts";
import { bffSettingsFromEnvironment } from "../src/env.ts";
import { type BffConfig, createBff } from "../src/index.ts";
import { SPA_CSP } from "../src/routes/spa.ts";
import { MAX_SESSION_CHUNKS } from "../src/session/session-cookie.ts";
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

const SESSION = "__Host-bff-session";
const LOGIN = "__Host-bff-login";
const HOST = new URL(BFF).host;
const MINUTE = 60_000;

let system: TestSystem | undefined;
afterEach(async () => {
  await system?.close();
  system = undefined;
});

/** A user whose ID token and userinfo are large enough that the session needs several cookies. */
const BART = { username: "bart", password: "bart-test-password" };
async function systemWithLargeTokens(overrides: Partial<BffConfig> = {}): Promise<TestSystem> {
  const long = "Bartholomew ".repeat(70).trim();
  return startSystem(
    overrides,
    {},
    {
      extraUsers: [
        {
          username: BART.username,
          sub: "user-bart",
          passwordHash: await hashPassword(BART.password),
          claims: { name: long, given_name: long, email: "bart@example.com", email_verified: true },
        },
      ],
    },
  );
}

/** The session's cookies in the jar, in order: the session cookie first, then its chunks. */
function sessionCookies(browser: TestBrowser): [string, string][] {
  return browser.cookies
    .all(HOST)
    .filter(({ name }) => name === SESSION || name.startsWith(`${SESSION}-`))
    .map(({ name, value }) => [name, value] as [string, string])
    .sort(([a], [b]) => a.localeCompare(b));
}

/** The Set-Cookie lines of a response, by cookie name. */
function setCookies(response: Response): Map<string, string> {
  return new Map(response.headers.getSetCookie().map((line) => [line.slice(0, line.indexOf("=")), line]));
}

/** A Set-Cookie line that deletes the cookie with the attributes it was set with. */
function expectDeleted(line: string | undefined) {
  expect(line).toBeDefined();
  expect(line).toMatch(/^[^=]+=;/);
  expect(line).toMatch(/Max-Age=0/i);
  expectHostOnlyAttributes(line ?? "", "Strict");
}

function expectHostOnlyAttributes(line: string, sameSite: "Strict" | "Lax") {
  expect(line).toMatch(/^__Host-/);
  expect(line).toMatch(/;\s*HttpOnly/i);
  expect(line).toMatch(/;\s*Secure/i);
  expect(line).toMatch(/;\s*Path=\/(;|$)/);
  expect(line).toMatch(new RegExp(`;\\s*SameSite=${sameSite}`, "i"));
  expect(line).not.toMatch(/Domain=/i);
}

/**
 * Logs out through the BFF and the IdP as a browser does: POST /bff/logout, the end-session
 * redirect, the IdP's "Sign out?" page answered with its own form. Returns where it lands.
 */
async function logOutEverywhere(browser: TestBrowser): Promise<string> {
  const logout = await browser.api("/bff/logout", { method: "POST" });
  expect(logout.status).toBe(200);
  const { redirectTo } = (await logout.json()) as { redirectTo: string };
  const atIdp = await browser.navigate(`${BFF}${redirectTo}`);
  expect(atIdp.url.startsWith(`${IDP}/session/end`)).toBe(true);
  const page = await atIdp.response.text();
  const action = /<form[^>]*id="op.logoutForm"[^>]*action="([^"]+)"/.exec(page)?.[1] ?? "";
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)?.[1] ?? "";
  const confirm = await browser.fetch(new URL(action, IDP).href, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ xsrf, logout: "yes" }).toString(),
  });
  const location = confirm.headers.get("location");
  expect(location).toBeTruthy();
  return (await browser.navigate(new URL(location ?? "", IDP).href)).url;
}

describe("no token reaches the browser", () => {
  it("no access or refresh token in any body or header, redirects included; the ID token only in the end-session redirect to the IdP (B1)", async () => {
    system = await startSystem();
    const running = system;
    // Every token the IdP issues goes to the BFF's token requests; collect them there.
    const issued = { access: new Set<string>(), refresh: new Set<string>(), id: new Set<string>() };
    const routed = running.fetch;
    running.fetch = async (input, init) => {
      const response = await routed(input, init);
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.origin === IDP && url.pathname === "/token" && response.ok) {
        const body = (await response.clone().json()) as Record<string, unknown>;
        if (typeof body.access_token === "string") issued.access.add(body.access_token);
        if (typeof body.refresh_token === "string") issued.refresh.add(body.refresh_token);
        if (typeof body.id_token === "string") issued.id.add(body.id_token);
      }
      return response;
    };

    // What the person's browser receives: every status, header and body.
    const received: { url: string; headers: [string, string][]; body: string }[] = [];
    const browser = new TestBrowser({
      fetch: async (input, init) => {
        const response = await running.fetch(input, init);
        received.push({
          url: String(input),
          headers: [...response.headers.entries()],
          body: await response.clone().text(),
        });
        return response;
      },
    });

    await browser.login(USERS.alice, "/contacts");
    expect((await browser.api("/bff/session")).status).toBe(200);
    expect((await browser.api("/api/contacts")).status).toBe(200);
    const created = await browser.api("/api/contacts", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Carol", email: "carol@example.com" }),
    });
    expect(created.status).toBe(201);
    // Errors and refusals say what went wrong, never with a token.
    expect((await browser.api("/api/no-such-route")).status).toBeGreaterThanOrEqual(400);
    expect((await browser.fetch(`${BFF}/api/contacts`)).status).toBe(403);
    expect((await browser.fetch(`${BFF}/bff/callback?state=forged&code=x`)).status).toBe(400);
    // The access token expires: the next call refreshes (rotation: a new refresh token too).
    running.advance(10 * MINUTE);
    expect((await browser.api("/api/contacts")).status).toBe(200);
    expect(await logOutEverywhere(browser)).toBe(`${BFF}/`);

    // The record is real: a login and a refresh, each with its own tokens.
    expect(issued.access.size).toBeGreaterThanOrEqual(2);
    expect(issued.refresh.size).toBeGreaterThanOrEqual(2);
    expect(issued.id.size).toBeGreaterThanOrEqual(1);
    expect(received.length).toBeGreaterThan(10);

    const everywhere = (entry: (typeof received)[number]) =>
      [entry.body, ...entry.headers.map(([name, value]) => `${name}: ${value}`)].join("\n");
    for (const entry of received) {
      for (const token of [...issued.access, ...issued.refresh]) {
        expect(everywhere(entry).includes(token), `a token in the answer to ${entry.url}`).toBe(false);
      }
    }
    // RP-Initiated Logout sends the ID token as id_token_hint (docs/decisions/004): only in the
    // Location of the one redirect to the IdP's end-session endpoint, which script never sees.
    const withIdToken = received.filter((entry) =>
      [...issued.id].some((token) => everywhere(entry).includes(token)),
    );
    expect(withIdToken.map((entry) => new URL(entry.url).pathname)).toEqual(["/bff/logout/end-session"]);
    const [endSession] = withIdToken;
    const location = new URL(endSession?.headers.find(([name]) => name === "location")?.[1] ?? "");
    expect(location.origin).toBe(IDP);
    expect(issued.id.has(location.searchParams.get("id_token_hint") ?? "")).toBe(true);
    const withoutLocation = {
      ...endSession,
      headers: endSession?.headers.filter(([n]) => n !== "location") ?? [],
    };
    for (const token of issued.id)
      expect(everywhere(withoutLocation as (typeof received)[number])).not.toContain(token);
  });
});

describe("split session cookies", () => {
  it("gives every chunk of a split session the session cookie's attributes: __Host-, HttpOnly, Secure, Path=/, Strict, no Domain (B2)", async () => {
    system = await systemWithLargeTokens();
    const bart = new TestBrowser(system);
    const start = await bart.fetch(`${BFF}/bff/login?returnTo=/`);
    expectHostOnlyAttributes(setCookies(start).get(LOGIN) ?? "", "Lax");
    await bart.login(BART);

    const cookies = sessionCookies(bart);
    expect(cookies.map(([name]) => name)).toEqual([SESSION, `${SESSION}-1`]);
    for (const [name] of cookies) expectHostOnlyAttributes(bart.cookie(HOST, name)?.line ?? "", "Strict");

    // Re-written after a refresh: the same attributes on every part.
    system.advance(10 * MINUTE);
    const refreshed = await bart.api("/api/contacts");
    expect(refreshed.status).toBe(200);
    const lines = setCookies(refreshed);
    expect([...lines.keys()].sort()).toEqual([SESSION, `${SESSION}-1`]);
    for (const line of lines.values()) expectHostOnlyAttributes(line, "Strict");
  });

  it("refuses a split session with a chunk swapped in from another session, and deletes every part (B8)", async () => {
    system = await systemWithLargeTokens();
    const first = await logIn(system, BART);
    const second = await logIn(system, BART);
    const secondChunk = second.cookie(HOST, `${SESSION}-1`)?.value ?? "";
    expect(secondChunk).not.toBe(first.cookie(HOST, `${SESSION}-1`)?.value);
    // Both chunks are valid parts of real sessions of the same person: only their mix is wrong.
    first.setCookie(HOST, `${SESSION}-1`, secondChunk);

    const response = await first.api("/api/contacts");
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toMatch(/application\/problem\+json/);
    const lines = setCookies(response);
    expectDeleted(lines.get(SESSION));
    expectDeleted(lines.get(`${SESSION}-1`));
    expect(sessionCookies(first)).toEqual([]);
    expect(await (await first.api("/bff/session")).json()).toEqual({ authenticated: false });
    // The other session is untouched.
    expect((await second.api("/api/contacts")).status).toBe(200);
  });

  it("treats a split session with a part missing as no session, and deletes the parts that came (B8)", async () => {
    system = await systemWithLargeTokens({ sessionAbsoluteLifetimeSeconds: 3600 });
    const bart = await logIn(system, BART);
    const [[, first = ""] = [], [, second = ""] = []] = sessionCookies(bart);
    // Three parts announced, two sent: the session cookie and its first chunk stay, the last is lost.
    const header = `${SESSION}=${first.replace(/^2~/, "3~")}; ${SESSION}-1=${second}`;
    const response = await system.bff.fetch(
      new Request(`${BFF}/bff/session`, { headers: { cookie: header, "x-csrf": "1" } }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ authenticated: false });
    const lines = setCookies(response);
    expectDeleted(lines.get(SESSION));
    expectDeleted(lines.get(`${SESSION}-1`));

    // The browser loses a chunk (evicted, or cleared by hand): 401, and what is left is deleted.
    bart.cookies.delete(HOST, `${SESSION}-1`);
    const missing = await bart.api("/api/contacts");
    expect(missing.status).toBe(401);
    expectDeleted(setCookies(missing).get(SESSION));
    expect(sessionCookies(bart)).toEqual([]);
  });

  it("answers absurd chunk counts, indexes and floods of chunk cookies with a quick 401, never a 500 (B8)", async () => {
    system = await systemWithLargeTokens();
    const bart = await logIn(system, BART);
    const [[, first = ""] = [], [, second = ""] = []] = sessionCookies(bart);
    const body = first.replace(/^\d~/, "");
    const flood = Array.from({ length: 2000 }, (_, index) => `${SESSION}-${index + 1}=${index}`).join("; ");
    const headers = [
      `${SESSION}=0~${body}; ${SESSION}-1=${second}`,
      `${SESSION}=1~${body}; ${SESSION}-1=${second}`,
      `${SESSION}=9~${body}; ${SESSION}-1=${second}`,
      `${SESSION}=${MAX_SESSION_CHUNKS + 1}~${body}; ${SESSION}-1=${second}; ${SESSION}-2=${second}; ${SESSION}-3=${second}`,
      `${SESSION}=99999999999999999999~${body}; ${SESSION}-1=${second}`,
      `${SESSION}=-1~${body}; ${SESSION}--1=${second}`,
      `${SESSION}=2~${body}; ${SESSION}-01=${second}`,
      `${SESSION}=2~${body}; ${SESSION}-999999999999=${second}`,
      `${SESSION}=2~${body}; ${flood}`,
      `${SESSION}=2~${"A".repeat(12_000)}; ${SESSION}-1=${"B".repeat(12_000)}`,
    ];
    for (const cookie of headers) {
      const started = performance.now();
      const response = await system.bff.fetch(
        new Request(`${BFF}/api/contacts`, { headers: { cookie, "x-csrf": "1" } }),
      );
      const elapsed = performance.now() - started;
      expect(response.status, cookie.slice(0, 60)).toBe(401);
      expect(elapsed, cookie.slice(0, 60)).toBeLessThan(500);
      // The answer deletes what it can name: the session cookie and chunk names up to the limit, never one per cookie sent.
      const deleted = response.headers.getSetCookie();
      expect(deleted.length).toBeLessThanOrEqual(MAX_SESSION_CHUNKS + 1);
      for (const line of deleted) expectDeleted(line);
    }
    // The real session, unharmed by the noise before it.
    expect((await bart.api("/api/contacts")).status).toBe(200);
  });
});

describe("logout and expiry clear the cookies", () => {
  it("logout deletes the session cookie and every chunk with the attributes they were set with (B10)", async () => {
    system = await systemWithLargeTokens();
    const bart = await logIn(system, BART);
    expect(sessionCookies(bart).length).toBe(2);
    const response = await bart.api("/bff/logout", { method: "POST" });
    expect(response.status).toBe(200);
    const lines = setCookies(response);
    expectDeleted(lines.get(SESSION));
    expectDeleted(lines.get(`${SESSION}-1`));
    expect(sessionCookies(bart)).toEqual([]);
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("a session past its absolute lifetime is answered 401 and every part of it deleted (B10)", async () => {
    system = await systemWithLargeTokens({ sessionAbsoluteLifetimeSeconds: 3600 });
    const bart = await logIn(system, BART);
    system.advance(61 * MINUTE);
    const response = await bart.api("/api/contacts");
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: "session_expired" });
    const lines = setCookies(response);
    expectDeleted(lines.get(SESSION));
    expectDeleted(lines.get(`${SESSION}-1`));
    expect(sessionCookies(bart)).toEqual([]);
  });
});

describe("cookie secrets", () => {
  const production: BffConfig = {
    issuer: "https://id.example.com",
    clientId: "web-bff",
    clientSecret: "a-client-secret",
    redirectUri: "https://app.example.com/bff/callback",
    postLogoutRedirectUri: "https://app.example.com/",
    apiBaseUrl: "https://api.example.com",
    cookieSecrets: ["Vq3xk9R2mZt7LpW4nB8cY1dF6gH0jK5s"],
    mode: "production",
  };
  const cookieSecretProblems = (config: BffConfig) =>
    validateConfig(config).filter((problem) => problem.field === "cookieSecrets");

  it("refuses in production a secret published in the docs, a placeholder or a development default, in any position (B11)", () => {
    expect(cookieSecretProblems(production)).toEqual([]);
    const known = [
      // docs/reuse.md and examples/my-app: copied into many projects.
      "a-test-only-cookie-secret-of-32-characters-or-more",
      // The IdP's development defaults are marked "change-me"; so are many templates.
      `${DEV_WEB_BFF_SECRET}-${DEV_WEB_BFF_SECRET}`,
      "dev-idp-cookie-key-change-me-this-is-not-a-secret",
      "replace-me-with-a-long-random-secret",
      "x".repeat(48),
      "abcdabcdabcdabcdabcdabcdabcdabcd",
    ];
    for (const secret of known) {
      for (const cookieSecrets of [[secret], [...production.cookieSecrets, secret]]) {
        const problems = cookieSecretProblems({ ...production, cookieSecrets });
        expect(problems, secret).toHaveLength(1);
        expect(problems[0]?.message).toMatch(/^secret #\d (is published|is a placeholder|is too regular)/);
        expect(problems[0]?.message).not.toContain(secret);
        // The BFF does not start with it.
        expect(() => createBff({ ...production, cookieSecrets })).toThrow(/cookieSecrets/);
      }
      // On a laptop the examples keep working.
      expect(
        cookieSecretProblems({
          ...production,
          mode: "development",
          issuer: "http://127.0.0.1:4000",
          dangerouslyAllowInsecureHttpIssuer: true,
          cookieSecrets: [secret],
        }),
      ).toEqual([]);
    }
  });

  it("names BFF_COOKIE_SECRETS, never its value, when the environment holds a published secret (B11)", () => {
    const published = "a-test-only-cookie-secret-of-32-characters-or-more";
    let message = "";
    try {
      bffSettingsFromEnvironment({
        BFF_ISSUER: production.issuer,
        BFF_CLIENT_ID: production.clientId,
        BFF_CLIENT_SECRET: "a-client-secret",
        BFF_REDIRECT_URI: production.redirectUri,
        BFF_POST_LOGOUT_REDIRECT_URI: production.postLogoutRedirectUri,
        BFF_API_BASE_URL: production.apiBaseUrl,
        BFF_COOKIE_SECRETS: published,
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/BFF_COOKIE_SECRETS/);
    expect(message).toMatch(/published/);
    expect(message).not.toContain(published);
  });
});

describe("cross-origin requests", () => {
  it("gives a foreign origin no CORS grant on /bff/* and /api/*: preflights, reads and writes alike (B13)", async () => {
    system = await startSystem();
    const alice = await logIn(system);
    const evil = "https://evil.example";
    const paths = [
      "/bff/session",
      "/bff/logout",
      "/bff/login",
      "/bff/callback",
      "/api/contacts",
      "/api/contacts/1",
    ];
    for (const path of paths) {
      const preflight = await alice.fetch(`${BFF}${path}`, {
        method: "OPTIONS",
        headers: {
          origin: evil,
          "access-control-request-method": "POST",
          "access-control-request-headers": "x-csrf, content-type",
        },
      });
      const simple = await alice.fetch(`${BFF}${path}`, { headers: { origin: evil, "x-csrf": "1" } });
      const write = await alice.fetch(`${BFF}${path}`, {
        method: "POST",
        headers: { origin: evil, "x-csrf": "1", "content-type": "application/json" },
        body: "{}",
      });
      for (const response of [preflight, simple, write]) {
        expect(response.status, path).toBeLessThan(500);
        for (const [name] of response.headers) expect(name, path).not.toMatch(/^access-control-/);
      }
      // Nothing a preflight could grant: it is answered like any unknown method.
      expect(preflight.status, path).toBeGreaterThanOrEqual(400);
    }
    // The foreign origin's POST changed nothing: the session and the contacts are as they were.
    expect(await (await alice.api("/bff/session")).json()).toMatchObject({ authenticated: true });
  });
});

describe("security headers", () => {
  it("serves the SPA with a strict CSP, nosniff and a same-origin referrer policy, and index.html loads no inline or foreign script (B14)", async () => {
    const spaDir = mkdtempSync(join(tmpdir(), "bff-spa-"));
    try {
      writeFileSync(join(spaDir, "index.html"), "<!doctype html><title>app</title>");
      writeFileSync(join(spaDir, "app.js"), "console.log(1)");
      system = await startSystem({ spaDir });
      for (const path of ["/", "/contacts", "/index.html", "/?state=x"]) {
        const page = await system.bff.fetch(new Request(`${BFF}${path}`));
        expect(page.status, path).toBe(200);
        const csp = page.headers.get("content-security-policy") ?? "";
        expect(csp, path).toBe(SPA_CSP);
        const directives = new Map(
          csp.split(";").map((d) => {
            const [name = "", ...values] = d.trim().split(/\s+/);
            return [name, values.join(" ")];
          }),
        );
        expect(directives.get("script-src")).toBe("'self'");
        expect(directives.get("object-src")).toBe("'none'");
        expect(directives.get("base-uri")).toBe("'none'");
        expect(directives.get("frame-ancestors")).toBe("'none'");
        expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
        expect(page.headers.get("x-content-type-options")).toBe("nosniff");
        expect(page.headers.get("referrer-policy")).toBe("same-origin");
      }
      const script = await system.bff.fetch(new Request(`${BFF}/app.js`));
      expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
      expect(script.headers.get("x-content-type-options")).toBe("nosniff");
    } finally {
      rmSync(spaDir, { recursive: true, force: true });
    }

    // The SPA's own page (Vite builds index.html from it): scripts are external and same-origin,
    // so 'self' is enough and no nonce or hash is needed; no SRI needed, nothing is foreign.
    const { readFileSync } = await import("node:fs");
    const html = readFileSync(new URL("../../web/index.html", import.meta.url), "utf8");
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes = "", content = ""] of scripts) {
      expect(content.trim()).toBe("");
      expect(attributes).toMatch(/src="\/[^/]/);
    }
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it("sends HSTS in production mode only, on BFF answers of every kind (B14)", async () => {
    const config: BffConfig = {
      issuer: "https://id.example.com",
      clientId: "web-bff",
      clientSecret: "a-client-secret",
      redirectUri: "https://app.example.com/bff/callback",
      postLogoutRedirectUri: "https://app.example.com/",
      apiBaseUrl: "https://api.example.com",
      cookieSecrets: [COOKIE_SECRET],
      mode: "production",
    };
    // No network: the IdP and the API are unreachable, which is an answer too (502 / 503).
    const offline = (async () => {
      throw new TypeError("fetch failed");
    }) as typeof fetch;
    const bff = createBff(config, { fetch: offline, logger: { info() {}, warn() {}, error() {} } });
    for (const [path, init] of [
      ["/bff/session", {}],
      ["/bff/no-such-route", {}],
      ["/bff/logout", { method: "POST" }],
      ["/api/contacts", { headers: { "x-csrf": "1" } }],
      ["/bff/login", {}],
    ] as const) {
      const response = await bff.fetch(new Request(`https://app.example.com${path}`, init));
      const hsts = response.headers.get("strict-transport-security") ?? "";
      expect(hsts, path).toMatch(/max-age=(\d+)/);
      expect(Number(/max-age=(\d+)/.exec(hsts)?.[1]), path).toBeGreaterThanOrEqual(31_536_000);
      expect(response.headers.get("x-content-type-options"), path).toBe("nosniff");
    }
    // On plain-http development origins HSTS would pin localhost to https: not sent.
    system = await startSystem();
    const dev = await system.bff.fetch(new Request(`${BFF}/bff/session`));
    expect(dev.headers.get("strict-transport-security")).toBeNull();
  });
});

describe("the post-logout landing", () => {
  it("landing with another state, or none, after logout or while logged in, creates no session and changes nothing (D5)", async () => {
    const spaDir = mkdtempSync(join(tmpdir(), "bff-spa-"));
    try {
      writeFileSync(join(spaDir, "index.html"), "<!doctype html><title>app</title>");
      system = await startSystem({ spaDir });
      const alice = await logIn(system);
      expect(await logOutEverywhere(alice)).toBe(`${BFF}/`);

      const bob = await logIn(system, USERS.bob);
      const bobCookies = JSON.stringify(sessionCookies(bob));
      for (const browser of [alice, bob, new TestBrowser(system)]) {
        for (const landing of [
          "/?state=forged-by-someone-else",
          "/",
          "/?state=",
          "/?state=a&state=b&code=x&iss=x",
        ]) {
          const before = system.idpRequests.length;
          const response = await browser.fetch(`${BFF}${landing}`);
          expect(response.status, landing).toBe(200);
          expect(response.headers.get("content-type")).toMatch(/^text\/html/);
          expect(response.headers.getSetCookie(), landing).toEqual([]);
          // Nothing was exchanged or revoked on the way.
          expect(system.idpRequests.length, landing).toBe(before);
        }
      }
      expect(await (await alice.api("/bff/session")).json()).toEqual({ authenticated: false });
      expect(sessionCookies(alice)).toEqual([]);
      // A person still logged in stays so, with the same cookies.
      expect(JSON.stringify(sessionCookies(bob))).toBe(bobCookies);
      expect((await bob.api("/api/contacts")).status).toBe(200);
    } finally {
      rmSync(spaDir, { recursive: true, force: true });
    }
  });
});
