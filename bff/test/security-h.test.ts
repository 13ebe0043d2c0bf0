/**
 * Cross-cutting cases of the security checklist (docs/security.md, group H)
 * that need the whole system:
 *
 * - H2: a full run (login, API calls, a refresh, failures, logout with its
 *   back-channel notice) with every component's console and the BFF's logger
 *   captured, then a search of all that was written for every secret the run
 *   produced: tokens, codes, state, nonce, PKCE values, cookie values, the
 *   client secret, passwords.
 * - H4: the BFF's clock tolerance for ID tokens (exp, nbf, iat) and logout
 *   tokens (exp, nbf, iat) is one bound, 30 s: a token 20 s off is accepted,
 *   one 45 s off is refused, for every claim.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatWithOptions } from "node:util";

import { DEV_WEB_BFF_SECRET } from "@oidc-bff/idp";
import { exportJWK, generateKeyPair } from "jose";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { consoleLogger, createBff, silentLogger } from "../src/index.ts";
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
import { createHostileOp, HOSTILE_ISSUER, type HostileBehaviour, type HostileOp } from "./hostile-op.ts";
import { idpSigningKey, type SigningJwk, signLogoutToken } from "./logout-tokens.ts";

const SESSION = "__Host-bff-session";
const HOST = new URL(BFF).host;
const dir = mkdtempSync(join(tmpdir(), "bff-security-h-"));
const keysPath = join(dir, "jwks.json");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Protocol parameters whose values are public (addresses, names): logging them is fine. */
const PUBLIC_PARAMETERS = new Set([
  "iss",
  "scope",
  "client_id",
  "redirect_uri",
  "post_logout_redirect_uri",
  "returnTo",
  "resource",
  "response_type",
  "code_challenge_method",
  "grant_type",
  "token_type_hint",
  "prompt",
]);

const seconds = () => Math.floor(Date.now() / 1000);

/** A logout token as the IdP would sign it (its real key), then altered by `claims`. */
const logoutToken = (key: SigningJwk, claims: Record<string, unknown> = {}) =>
  signLogoutToken(key, { claims });

describe("no credentials in any log after a full run (H2)", () => {
  let system: TestSystem;
  /** Everything written: console (all components) and process output, formatted as a terminal would show it. */
  const written: string[] = [];
  /** Every secret value the run produced, collected from the traffic itself. */
  const secrets = new Set<string>();
  const keep = (value: string | null | undefined) => {
    // Short values (a `1`, `Bearer`, a status) would match by chance; real secrets are long.
    if (value && value.length >= 12) secrets.add(value);
  };

  beforeEach(async () => {
    written.length = 0;
    secrets.clear();
    const capture =
      (stream: string) =>
      (...args: unknown[]) => {
        written.push(`${stream}: ${formatWithOptions({ depth: Number.POSITIVE_INFINITY }, ...args)}`);
      };
    for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const) {
      vi.spyOn(console, method).mockImplementation(capture(method));
    }
    for (const stream of ["stdout", "stderr"] as const) {
      vi.spyOn(process[stream], "write").mockImplementation((chunk: string | Uint8Array) => {
        written.push(`${stream}: ${String(chunk)}`);
        return true;
      });
    }

    system = await startSystem({}, { logger: consoleLogger }, { keysPath });
    const routed = system.fetch;
    system.fetch = async (input, init) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      for (const [name, value] of url.searchParams) if (!PUBLIC_PARAMETERS.has(name)) keep(value);
      const authorization = request.headers.get("authorization");
      keep(authorization);
      keep(authorization?.replace(/^(Bearer|Basic) /, ""));
      for (const cookie of request.headers.get("cookie")?.split(/;\s*/) ?? []) keep(cookie.split("=")[1]);
      const body = request.method === "POST" ? await request.clone().text() : "";
      for (const [name, value] of new URLSearchParams(body)) if (!PUBLIC_PARAMETERS.has(name)) keep(value);
      const response = await routed(request);
      for (const line of response.headers.getSetCookie()) keep(/^[^=]+=([^;]*)/.exec(line)?.[1]);
      const location = response.headers.get("location");
      if (location) {
        for (const [name, value] of new URL(location, url).searchParams) {
          if (!PUBLIC_PARAMETERS.has(name)) keep(value);
        }
      }
      if (url.origin === IDP && url.pathname === "/token" && response.ok) {
        const tokens = (await response.clone().json()) as Record<string, unknown>;
        for (const name of ["access_token", "refresh_token", "id_token"]) keep(tokens[name] as string);
      }
      return response;
    };
    for (const value of [DEV_WEB_BFF_SECRET, COOKIE_SECRET, USERS.alice.password, USERS.bob.password]) {
      keep(value);
    }
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await system.close();
  });

  it("writes no token, code, state, nonce, verifier, cookie value or secret, in any component's log (H2)", async () => {
    const idpKey = idpSigningKey(keysPath);

    // A login, calls through the proxy, a write, and a refresh when the access token is due.
    const alice = await logIn(system);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    const created = await alice.api("/api/contacts", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Log Test", email: "log-test@example.com" }),
    });
    expect(created.status).toBe(201);
    const refreshes = system.refreshCount();
    system.advance(10 * 60 * 1000);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    expect(system.refreshCount()).toBe(refreshes + 1);

    // Failures, where logs are written: a forged callback, a back-channel token signed by a stranger,
    // one that is expired, a refresh while the IdP is down, a replayed session cookie, a bad bearer at the API.
    const forgedCode = `forged-code-${randomUUID()}`;
    const forgedState = `forged-state-${randomUUID()}`;
    keep(forgedCode);
    keep(forgedState);
    expect((await alice.fetch(`${BFF}/bff/callback?code=${forgedCode}&state=${forgedState}`)).status).toBe(
      400,
    );
    const { privateKey } = await generateKeyPair("RS256", { extractable: true });
    const stranger = { ...(await exportJWK(privateKey)), kid: idpKey.kid };
    for (const token of [
      await logoutToken(stranger),
      await logoutToken(idpKey, { exp: seconds() - 600, iat: seconds() - 700 }),
    ]) {
      keep(token);
      const refused = await system.fetch(`${BFF}/bff/backchannel-logout`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ logout_token: token }).toString(),
      });
      expect(refused.status).toBe(400);
    }
    const bob = await logIn(system, USERS.bob);
    system.advance(10 * 60 * 1000);
    system.idpDown = true;
    expect([401, 502, 503]).toContain((await bob.api("/api/contacts")).status);
    system.idpDown = false;
    const badBearer = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from('{"sub":"x"}').toString("base64url")}.c2lnbmF0dXJl`;
    keep(badBearer);
    expect(
      (
        await system.fetch("http://localhost:4001/contacts", {
          headers: { authorization: `Bearer ${badBearer}` },
        })
      ).status,
    ).toBe(401);

    // Logout: revocation, the end-session redirect, and the IdP's back-channel logout token
    // (with the BFF's clock back in step with the IdP's, so that the token is accepted).
    system.advance(-20 * 60 * 1000);
    const captured = alice.cookie(HOST, SESSION)?.value;
    const logout = await alice.api("/bff/logout", { method: "POST" });
    expect(logout.status).toBe(200);
    const { redirectTo } = (await logout.json()) as { redirectTo: string };
    await alice.navigate(`${BFF}${redirectTo}`);
    const replay = new TestBrowser(system);
    replay.setCookie(HOST, SESSION, captured ?? "");
    expect((await replay.api("/api/contacts")).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 100));

    // The run wrote logs (so the search below searched something), and collected the secrets it looks for.
    expect(written.length).toBeGreaterThan(3);
    expect(secrets.size).toBeGreaterThan(20);
    const log = written.join("\n");
    const leaked = [...secrets].filter((secret) => log.includes(secret));
    expect(leaked.map((secret) => `${secret.slice(0, 16)}… (${secret.length} chars)`)).toEqual([]);
    // Any JWT at all, even one this test did not see (a header and a payload, base64url JSON).
    expect(log).not.toMatch(/eyJ[\w-]{8,}\.eyJ[\w-]{8,}/);
  });
});

describe("one clock tolerance, 30 s, for ID tokens and logout tokens (H4)", () => {
  describe("ID tokens", () => {
    let op: HostileOp;
    let browser: TestBrowser;
    beforeEach(async () => {
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
          fetch: async (input, init) => op.fetch(new Request(input, init)),
          logger: silentLogger,
        },
      );
      const routes = async (input: string | URL | Request, init?: RequestInit) => {
        const request = new Request(input, init);
        return request.url.startsWith(HOSTILE_ISSUER) ? op.fetch(request) : bff.fetch(request);
      };
      browser = new TestBrowser({ fetch: routes }, { bff: BFF, idp: HOSTILE_ISSUER });
    });

    async function logsIn(claims: Record<string, unknown>): Promise<boolean> {
      op.behaviour = { idToken: { claims } } satisfies HostileBehaviour;
      const { url } = await browser.navigate(`${BFF}/bff/login?returnTo=/`);
      return url === `${BFF}/` && browser.cookie(HOST, SESSION) !== undefined;
    }

    it.each<[string, (skew: number) => Record<string, unknown>]>([
      ["exp in the past", (skew) => ({ iat: seconds() - 300, exp: seconds() - skew })],
      ["nbf in the future", (skew) => ({ nbf: seconds() + skew })],
      ["iat in the future", (skew) => ({ iat: seconds() + skew, exp: seconds() + 300 })],
    ])("accepts an ID token with %s by 20 s, and refuses one 45 s off (H4)", async (_, claims) => {
      expect(await logsIn(claims(20))).toBe(true);
      browser.cookies.clear();
      expect(await logsIn(claims(45))).toBe(false);
    });
  });

  describe("logout tokens", () => {
    let system: TestSystem;
    let idpKey: SigningJwk;
    beforeEach(async () => {
      system = await startSystem({}, {}, { keysPath });
      idpKey = idpSigningKey(keysPath);
    });
    afterEach(async () => {
      await system.close();
    });

    const post = (token: string) =>
      system.fetch(`${BFF}/bff/backchannel-logout`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ logout_token: token }).toString(),
      });

    it.each<[string, (skew: number) => Record<string, unknown>]>([
      // Issued no more than 30 s before now, or the session logged in just now would count as
      // begun after the logout (a logout by person ends the sessions begun before its iat, H4).
      ["exp in the past", (skew) => ({ iat: seconds() - Math.max(25, skew + 1), exp: seconds() - skew })],
      ["nbf in the future", (skew) => ({ nbf: seconds() + skew })],
      ["iat in the future", (skew) => ({ iat: seconds() + skew, exp: seconds() + 120 })],
    ])("accepts a logout token with %s by 20 s, and refuses one 45 s off (H4)", async (_, claims) => {
      const refused = await logIn(system);
      expect((await post(await logoutToken(idpKey, claims(45)))).status).toBe(400);
      expect((await refused.api("/api/contacts")).status).toBe(200);

      expect((await post(await logoutToken(idpKey, claims(20)))).status).toBe(200);
      expect((await refused.api("/api/contacts")).status).toBe(401);
    });
  });
});
