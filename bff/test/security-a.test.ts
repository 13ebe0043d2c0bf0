/**
 * Checklist cases of group A (docs/security.md) against the real IdP, BFF and
 * API in one process (harness.ts): what a login leaves in the logs, replayed
 * callbacks, returnTo values meant to leave the origin, what the callback
 * leaks, and whose identity a session is.
 */
import { hashPassword } from "@oidc-bff/idp";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { type BffLogger, silentLogger } from "../src/index.ts";
import { BFF, IDP, logIn, startSystem, TestBrowser, type TestSystem, USERS } from "./harness.ts";

const SESSION = "__Host-bff-session";
const LOGIN = "__Host-bff-login";
const HOST = new URL(BFF).host;

let system: TestSystem | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await system?.close();
  system = undefined;
});

/** Every code redemption that reached the IdP's token endpoint. */
function watchCodeRedemptions(on: TestSystem): URLSearchParams[] {
  const seen: URLSearchParams[] = [];
  const original = on.fetch;
  on.fetch = async (input, init) => {
    const request = new Request(input, init);
    if (request.url === `${IDP}/token`) {
      const form = new URLSearchParams(await request.clone().text());
      if (form.get("grant_type") === "authorization_code") seen.push(form);
    }
    return original(request);
  };
  return seen;
}

/** Navigates a login until the browser is about to come back to the callback; returns that URL. */
async function callbackFor(browser: TestBrowser, query = "returnTo=/") {
  const { url, response } = await browser.navigate(`${BFF}/bff/login?${query}`, {
    user: USERS.alice,
    consent: "allow",
    stopBefore: `${BFF}/bff/callback`,
  });
  return { url: new URL(url), response };
}

describe("the login's secrets and the logs (A2)", () => {
  it("no state, nonce, PKCE challenge or verifier, or code reaches a log line, on success or failure (A2)", async () => {
    const lines: string[] = [];
    const logger: BffLogger = {
      info: (m) => lines.push(m),
      warn: (m) => lines.push(m),
      error: (m) => lines.push(m),
    };
    // Anything written to the console by any party (IdP, API, BFF) counts as a log line too.
    for (const method of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        lines.push(args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : String(a))).join(" "));
      });
    }
    const on = await startSystem({}, { logger });
    system = on;
    const redemptions = watchCodeRedemptions(on);
    const browser = new TestBrowser(on);

    const secrets: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { url } = await callbackFor(browser);
      secrets.push(url.searchParams.get("code") ?? "", url.searchParams.get("state") ?? "");
      // A forged callback first (wrong state, so a line is logged), then the real one, then its replay.
      expect((await browser.fetch(`${BFF}/bff/callback?code=x&state=forged&iss=${IDP}`)).status).toBe(400);
      expect((await browser.fetch(url.href)).status).toBe(302);
      expect((await browser.fetch(url.href)).status).toBe(400);
    }
    // state, nonce and code_challenge as the authorization requests carried them.
    const starts = await Promise.all(
      [0, 1].map(
        async () => new URL((await browser.fetch(`${BFF}/bff/login`)).headers.get("location") ?? ""),
      ),
    );
    for (const start of starts) {
      for (const name of ["state", "nonce", "code_challenge"])
        secrets.push(start.searchParams.get(name) ?? "");
      // An error response for each pending login: the failure is logged, with what in it?
      expect(
        (
          await browser.fetch(
            `${BFF}/bff/callback?error=access_denied&state=${start.searchParams.get("state")}`,
          )
        ).status,
      ).toBe(400);
    }
    for (const redemption of redemptions) {
      secrets.push(redemption.get("code_verifier") ?? "", redemption.get("code") ?? "");
    }

    expect(redemptions).toHaveLength(2);
    expect(secrets.filter((s) => s.length >= 22)).toHaveLength(secrets.length);
    expect(lines.length).toBeGreaterThan(0);
    const log = lines.join("\n");
    for (const secret of secrets) expect(log).not.toContain(secret);
  });
});

describe("a callback URL used again (A6)", () => {
  beforeEach(async () => {
    system = await startSystem();
  });

  it("after a login, replaying it without, with the spent, or with a copied login cookie: 400, no new session, one redemption at the IdP unless the copy reaches it, and then the grant is revoked (A6)", async () => {
    const on = system as TestSystem;
    const redemptions = watchCodeRedemptions(on);
    const victim = new TestBrowser(on);
    const { url } = await callbackFor(victim);
    const copiedLoginCookie = victim.cookie(HOST, LOGIN)?.value ?? "";
    expect(copiedLoginCookie).not.toBe("");
    expect((await victim.fetch(url.href)).status).toBe(302);
    const session = victim.cookie(HOST, SESSION)?.value;
    expect(session).toBeDefined();
    expect(redemptions).toHaveLength(1);

    // The same browser (its login cookie is spent) and another one (from a Referer or a history).
    const attacker = new TestBrowser(on);
    for (const browser of [victim, attacker]) {
      const replay = await browser.fetch(url.href);
      expect(replay.status).toBe(400);
      expect(replay.headers.get("content-type")).toMatch(/^text\/html/);
    }
    expect(attacker.cookie(HOST, SESSION)).toBeUndefined();
    expect(await (await attacker.api("/bff/session")).json()).toEqual({ authenticated: false });
    expect(victim.cookie(HOST, SESSION)?.value).toBe(session);
    expect(redemptions).toHaveLength(1);

    // A copy of the login cookie taken before the callback still opens its seal: the code goes to
    // the IdP a second time, which refuses it and revokes what the first redemption granted (F5).
    attacker.setCookie(HOST, LOGIN, copiedLoginCookie);
    const replay = await attacker.fetch(url.href);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain("already used");
    expect(attacker.cookie(HOST, SESSION)).toBeUndefined();
    expect(redemptions).toHaveLength(2);
    on.advance(10 * 60 * 1000);
    const afterRevocation = await victim.api("/api/contacts");
    expect(afterRevocation.status).toBe(401);
    expect(await afterRevocation.json()).toMatchObject({ code: "session_expired" });
  });
});

describe("returnTo values that try to leave the origin (A16)", () => {
  beforeEach(async () => {
    system = await startSystem();
  });

  const HOSTILE = [
    "\\\\evil.example",
    "/%5cevil.example",
    "/%5Cevil.example",
    "/%2f%2fevil.example",
    "/%2F%2Fevil.example",
    "/%09/evil.example",
    "/\t/evil.example",
    "/%0a/evil.example",
    "/%0d/evil.example",
    "/\r\n/evil.example",
    "/\nLocation: https://evil.example",
    "/ /evil.example",
    "/%20/evil.example",
    "/./\\evil.example",
    "/../\\evil.example",
    "https://evil.example",
    "http:evil.example",
    "http:/evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "@evil.example",
    "/%E0%A4%A",
    "/%",
    "/%%32%66evil.example",
  ];

  /** Every character a browser would read the Location by: the result must be a path of our origin. */
  function expectOnOrigin(location: string) {
    expect(location.startsWith("/")).toBe(true);
    expect(location.startsWith("//")).toBe(false);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses.
    expect(location).not.toMatch(/[\\\s\u0000-\u001f\u007f]/);
    expect(new URL(location, BFF).origin).toBe(BFF);
  }

  it.each(HOSTILE)(
    "%j, raw in the query or encoded once more: the login ends on the BFF's origin (A16)",
    async (value) => {
      const browser = new TestBrowser(system as TestSystem);
      // Raw: the query parser decodes it once (a %09 arrives as a tab). Encoded: it arrives as written.
      const raw = [...value].map((ch) => (/[\s#&+\\<>"]/.test(ch) ? encodeURIComponent(ch) : ch)).join("");
      for (const query of [`returnTo=${raw}`, `returnTo=${encodeURIComponent(value)}`]) {
        const { url, response } = await callbackFor(browser, query);
        if (url.pathname !== "/bff/callback") {
          // Refused outright: a readable page on our origin, never a 500 and never a redirect.
          expect(url.origin).toBe(BFF);
          expect(response.status).toBe(400);
          continue;
        }
        const back = await browser.fetch(url.href);
        expect(back.status).toBe(302);
        expectOnOrigin(back.headers.get("location") ?? "");
      }
    },
  );
});

describe("what the login and the callback leave behind (A18)", () => {
  beforeEach(async () => {
    system = await startSystem();
  });

  it("login and callback, done or failed: no-store, no referrer, no code, state, iss or token in Location, no third-party content (A18)", async () => {
    const on = system as TestSystem;
    const tokens: string[] = [];
    const original = on.fetch;
    on.fetch = async (input, init) => {
      const response = await original(input, init);
      if (new Request(input, init).url === `${IDP}/token`) {
        const body = (await response.clone().json()) as Record<string, unknown>;
        for (const name of ["access_token", "refresh_token", "id_token"]) {
          if (typeof body[name] === "string") tokens.push(body[name]);
        }
      }
      return response;
    };
    const browser = new TestBrowser(on);
    const login = await browser.fetch(`${BFF}/bff/login?returnTo=${encodeURIComponent("/contacts?tab=1")}`);
    // The rest of the login, as the person does it; the browser stops before coming back.
    const { url } = await browser.navigate(login.headers.get("location") ?? "", {
      user: USERS.alice,
      consent: "allow",
      stopBefore: `${BFF}/bff/callback`,
    });
    const callback = new URL(url);
    const done = await browser.fetch(callback.href);
    const failed = await browser.fetch(callback.href);
    const denied = await browser.fetch(`${BFF}/bff/callback?error=access_denied&state=x&iss=${IDP}`);

    for (const response of [login, done, failed, denied]) {
      expect(response.headers.get("cache-control")).toBe("no-store");
      // The failed callback's page is at a URL holding the code and state: a link followed from it
      // must not carry that URL as Referer, not even to our own origin (and its access logs).
      expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    }
    expect(done.status).toBe(302);
    const location = done.headers.get("location") ?? "";
    expect(location).toBe("/contacts?tab=1");
    expect(tokens.length).toBeGreaterThanOrEqual(3);
    const secrets = [
      callback.searchParams.get("code"),
      callback.searchParams.get("state"),
      encodeURIComponent(IDP),
      IDP,
      ...tokens,
    ];
    for (const secret of secrets) expect(location).not.toContain(secret);
    expect(location).not.toMatch(/[?&](code|state|iss|session_state)=/);

    for (const page of [failed, denied]) {
      expect(page.status).toBe(400);
      expect(page.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
      const html = await page.text();
      // Only relative links to our own pages; nothing loaded from anywhere.
      expect(html).not.toMatch(/<(script|img|iframe|link|object|embed|form)\b/i);
      for (const [, href] of html.matchAll(/href="([^"]*)"/g)) expect(href).toMatch(/^\/(?!\/)/);
      for (const secret of secrets.slice(0, 2)) expect(html).not.toContain(secret);
    }
  });
});

describe("whose session it is (A22)", () => {
  it("a second account with alice's email is another person: its own sub, its own data, untouched by alice's logout (A22)", async () => {
    const on = await startSystem(
      {},
      {},
      {
        extraUsers: [
          {
            username: "alice-twin",
            sub: "user-alice-twin",
            passwordHash: await hashPassword("twin-test-password"),
            claims: { name: "Alice Liddell", email: "alice@example.com", email_verified: true },
          },
        ],
      },
    );
    system = on;
    const backchannel: string[] = [];
    const original = on.fetch;
    on.fetch = async (input, init) => {
      const request = new Request(input, init);
      if (request.url === `${BFF}/bff/backchannel-logout`) backchannel.push(await request.clone().text());
      return original(request);
    };
    const alice = await logIn(on, USERS.alice);
    const twin = await logIn(on, { username: "alice-twin", password: "twin-test-password" });
    type View = { user: { sub: string; email: string }; claimSources: Record<string, string> };
    const aliceView = (await (await alice.api("/bff/session")).json()) as View;
    const twinView = (await (await twin.api("/bff/session")).json()) as View;
    expect(twinView.user.email).toBe(aliceView.user.email);
    expect(aliceView.user.sub).toBe("user-alice");
    expect(twinView.user.sub).toBe("user-alice-twin");
    expect(aliceView.claimSources).toMatchObject({ sub: "id_token", email: "id_token" });

    const contactsOf = async (browser: TestBrowser) => {
      const response = await browser.api("/api/contacts");
      expect(response.status).toBe(200);
      return JSON.stringify(await response.json());
    };
    const before = await contactsOf(twin);
    const added = await alice.api("/api/contacts", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Dinah", email: "dinah@example.com" }),
    });
    expect(added.status).toBe(201);
    expect(await contactsOf(alice)).toContain("dinah@example.com");
    expect(await contactsOf(twin)).toBe(before);

    // Alice logs out everywhere (the IdP's back-channel call names her sub or session, not an email).
    const logout = await alice.api("/bff/logout", { method: "POST" });
    const { redirectTo } = (await logout.json()) as { redirectTo: string };
    await alice.navigate(new URL(redirectTo, BFF).href);
    expect(await (await alice.api("/bff/session")).json()).toEqual({ authenticated: false });
    expect(backchannel).toHaveLength(1);
    expect(((await (await twin.api("/bff/session")).json()) as View).user.sub).toBe("user-alice-twin");
  });

  it("a session begun with one issuer is no session for a BFF configured with another, same cookie secret (A22)", async () => {
    const on = await startSystem();
    system = on;
    const alice = await logIn(on, USERS.alice);
    expect((await (await alice.api("/bff/session")).json()) as object).toMatchObject({ authenticated: true });
    // The same deployment moved to another provider, whose "user-alice" may be anyone.
    const moved = on.anotherBff({ issuer: "http://127.0.0.1:4900" }, { logger: silentLogger });
    const cookies = alice.cookies.header({ url: `${BFF}/bff/session`, kind: "subresource", initiator: BFF });
    const response = await moved.fetch(
      new Request(`${BFF}/bff/session`, { headers: { cookie: cookies, "x-csrf": "1" } }),
    );
    expect(await response.json()).toEqual({ authenticated: false });
  });
});
