/**
 * Back-channel logout (OpenID Connect Back-Channel Logout 1.0): the IdP tells
 * the BFF that a person's sessions are over, and sessions living in cookies the
 * BFF cannot reach still end. Every malformed or hostile logout token is refused
 * and ends nothing.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import { BFF, IDP, logIn, startSystem, TestBrowser, type TestSystem, USERS } from "./harness.ts";
import { BACKCHANNEL_EVENT, idpSigningKey, type SigningJwk, signLogoutToken } from "./logout-tokens.ts";

const dir = mkdtempSync(join(tmpdir(), "bff-backchannel-"));
const keysPath = join(dir, "jwks.json");

let system: TestSystem;
let idpKey: SigningJwk;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(async () => {
  system = await startSystem({}, {}, { keysPath });
  idpKey = idpSigningKey(keysPath);
});
afterEach(async () => {
  await system.close();
});

const loggedIn = (user: { username: string; password: string } = USERS.alice) => logIn(system, user);

/** Polls until the browser's API call answers `status` (back-channel delivery is asynchronous). */
async function eventually(browser: TestBrowser, status: number): Promise<number> {
  let last = 0;
  for (let attempt = 0; attempt < 40; attempt++) {
    last = (await browser.api("/api/contacts")).status;
    if (last === status) return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return last;
}

/** A logout token as our IdP would sign it, then altered. */
const logoutToken = (
  options: { claims?: Record<string, unknown>; header?: Record<string, unknown>; key?: SigningJwk } = {},
) => signLogoutToken(options.key ?? idpKey, options);

const post = (token: string, contentType = "application/x-www-form-urlencoded") =>
  system.fetch(`${BFF}/bff/backchannel-logout`, {
    method: "POST",
    headers: { "content-type": contentType },
    body: new URLSearchParams({ logout_token: token }).toString(),
  });

describe("the IdP ends a person's sessions through the back channel", () => {
  it("alice logs out in one browser: her session in the other browser ends too (D9)", async () => {
    const first = await loggedIn();
    const second = await loggedIn();
    expect((await second.api("/api/contacts")).status).toBe(200);

    expect((await first.api("/bff/logout", { method: "POST" })).status).toBe(200);
    expect(await eventually(second, 401)).toBe(401);
    expect(system.idpRequests).toContain("POST /token/revocation");
    // Bob was never part of it.
    const bob = new TestBrowser(system);
    await bob.login(USERS.bob);
    expect((await bob.api("/api/contacts")).status).toBe(200);
  });

  it("a session begun after the logout is not affected", async () => {
    const first = await loggedIn();
    expect((await first.api("/bff/logout", { method: "POST" })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const later = await loggedIn();
    expect((await later.api("/api/contacts")).status).toBe(200);
  });

  it("accepts a valid logout token by sub with 200, and a replay of it with 400 (D8m)", async () => {
    const browser = await loggedIn();
    const token = await logoutToken();
    const response = await post(token);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect((await browser.api("/api/contacts")).status).toBe(401);
    const replay = await post(token);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: "invalid_request" });
  });

  it("a logout by person ends the sessions begun before it was issued; a replay of it cannot reach a later one (D8m)", async () => {
    const before = await loggedIn();
    const token = await logoutToken();
    // Delivered 100 s after it was issued (still inside the 120 s a logout token is accepted),
    // after alice logged in again elsewhere.
    system.advance(100_000);
    const after = await loggedIn();
    expect((await post(token)).status).toBe(200);
    expect((await before.api("/api/contacts")).status).toBe(401);
    expect((await after.api("/api/contacts")).status).toBe(200);
    // Were the jti forgotten (the store could not say), the replay would change nothing either.
    expect((await post(token)).status).toBe(400);
    expect((await after.api("/api/contacts")).status).toBe(200);
  });

  it("a replay right after a logout by person touches nothing: a session begun since stays (D8m)", async () => {
    const before = await loggedIn();
    const token = await logoutToken();
    expect((await post(token)).status).toBe(200);
    expect((await before.api("/api/contacts")).status).toBe(401);
    system.advance(5_000);
    const since = await loggedIn();
    system.advance(5_000);
    expect((await post(token)).status).toBe(400);
    expect((await since.api("/api/contacts")).status).toBe(200);
  });

  it("ends only the IdP session named by sid, when the token names one", async () => {
    const browser = await loggedIn();
    const { idTokenClaims } = (await (await browser.api("/bff/session")).json()) as {
      idTokenClaims: Record<string, unknown>;
    };
    // The view hides sid; a token for another IdP session must leave this one alone.
    expect(idTokenClaims.sid).toBeUndefined();
    expect((await post(await logoutToken({ claims: { sid: "another-idp-session" } }))).status).toBe(200);
    expect((await browser.api("/api/contacts")).status).toBe(200);
  });
});

describe("the IdP's own logout tokens name the IdP session (sid) as well as the person (X23)", () => {
  /** Watches the traffic: every ID token the IdP issues and every logout token it posts to the BFF. */
  function watch() {
    const idTokens: string[] = [];
    const logoutTokens: Record<string, unknown>[] = [];
    const original = system.fetch;
    system.fetch = async (input, init) => {
      const request = new Request(input, init);
      if (request.url === `${BFF}/bff/backchannel-logout`) {
        const token = new URLSearchParams(await request.clone().text()).get("logout_token") ?? "";
        logoutTokens.push(decodeJwt(token));
      }
      const response = await original(request);
      if (request.url === `${IDP}/token`) {
        const { id_token: idToken } = (await response.clone().json()) as { id_token?: string };
        if (idToken) idTokens.push(idToken);
      }
      return response;
    };
    return { idTokens, logoutTokens };
  }

  /** Signs out at the IdP itself (RP-initiated logout with the ID token as hint), not through the BFF. */
  async function signOutAtIdp(browser: TestBrowser, idToken: string) {
    const query = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: `${BFF}/` });
    const atIdp = await browser.navigate(`${IDP}/session/end?${query}`);
    const page = await atIdp.response.text();
    const action = /<form[^>]*id="op.logoutForm"[^>]*action="([^"]+)"/.exec(page)?.[1] ?? "";
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)?.[1] ?? "";
    const confirm = await browser.fetch(new URL(action, IDP).href, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ xsrf, logout: "yes" }).toString(),
    });
    expect(confirm.status).toBe(303);
  }

  it("the end of an IdP session: its sid, the ID token's, ends that session and no other of the person (X23)", async () => {
    const seen = watch();
    const laptop = await loggedIn();
    const [laptopIdToken] = seen.idTokens;
    const phone = await loggedIn();
    const sid = decodeJwt(laptopIdToken ?? "").sid;
    expect(typeof sid).toBe("string");

    await signOutAtIdp(laptop, laptopIdToken ?? "");
    await vi.waitFor(() => expect(seen.logoutTokens).toHaveLength(1));
    expect(seen.logoutTokens[0]).toMatchObject({ sub: "user-alice", sid });
    expect(await eventually(laptop, 401)).toBe(401);
    // The phone has its own IdP session, which is still open: its BFF session stays.
    expect((await phone.api("/api/contacts")).status).toBe(200);
  });

  it("the BFF's own logout still ends every session of the person (X23)", async () => {
    const seen = watch();
    const laptop = await loggedIn();
    const phone = await loggedIn();
    expect((await laptop.api("/bff/logout", { method: "POST" })).status).toBe(200);
    expect(await eventually(phone, 401)).toBe(401);
    // The revoked grant is the person's, not one IdP session's: named by sub alone.
    expect(seen.logoutTokens[0]).toMatchObject({ sub: "user-alice" });
    expect(seen.logoutTokens[0]).not.toHaveProperty("sid");
  });
});

describe("a logout token that must be refused (400), ending nothing (D10)", () => {
  let stranger: SigningJwk;
  beforeAll(async () => {
    const { privateKey } = await generateKeyPair("RS256", { extractable: true });
    stranger = { ...(await exportJWK(privateKey)), kid: "stranger" };
  });

  const cases: [string, () => Promise<string>][] = [
    ["signed by a key the IdP never published", () => logoutToken({ key: { ...stranger, kid: idpKey.kid } })],
    ["typed as an access token (typ at+jwt) (D8k)", () => logoutToken({ header: { typ: "at+jwt" } })],
    [
      "typed as another kind of token (typ application/id_token+jwt) (D8k)",
      () => logoutToken({ header: { typ: "application/id_token+jwt" } }),
    ],
    ["from another issuer (D8d)", () => logoutToken({ claims: { iss: "https://evil.example" } })],
    ["for another client (D8e)", () => logoutToken({ claims: { aud: "another-client" } })],
    ["issued 10 minutes ago", () => logoutToken({ claims: { iat: Math.floor(Date.now() / 1000) - 600 } })],
    ["without the back-channel logout event (D8i)", () => logoutToken({ claims: { events: { other: {} } } })],
    ["without an events claim at all (D8h)", () => logoutToken({ claims: { events: undefined } })],
    ["with a nonce (an ID token in disguise) (D8j)", () => logoutToken({ claims: { nonce: "n" } })],
    ["naming neither sub nor sid (D8g)", () => logoutToken({ claims: { sub: undefined } })],
    ["without a jti", () => logoutToken({ claims: { jti: undefined } })],
    ["not a JWT at all", async () => "not-a-token"],
    [
      "unsigned (alg none) (D8b)",
      async () => {
        const valid = await logoutToken();
        const [, payload] = valid.split(".");
        const header = Buffer.from(JSON.stringify({ alg: "none", typ: "logout+jwt" })).toString("base64url");
        return `${header}.${payload}.`;
      },
    ],
    [
      "signed with another algorithm than ID tokens (HS256 keyed with the public key) (D8c)",
      async () => {
        const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicKey } = idpKey;
        const now = Math.floor(Date.now() / 1000);
        return new SignJWT({
          iss: IDP,
          aud: "web-bff",
          iat: now,
          jti: randomUUID(),
          sub: "user-alice",
          events: { [BACKCHANNEL_EVENT]: {} },
        })
          .setProtectedHeader({ alg: "HS256", typ: "logout+jwt", kid: idpKey.kid })
          .sign(new TextEncoder().encode(JSON.stringify(publicKey)));
      },
    ],
  ];

  it.each(cases)("%s", async (_, make) => {
    const browser = await loggedIn();
    const response = await post(await make());
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_request" });
    expect((await browser.api("/api/contacts")).status).toBe(200);
  });

  it("sent as JSON instead of a form", async () => {
    const response = await post(await logoutToken(), "application/json");
    expect(response.status).toBe(400);
  });
});
