/**
 * Back-channel logout cases of the security checklist (docs/security.md) that
 * backchannel-logout.test.ts leaves open: a duplicated parameter, a key the IdP
 * does not publish under an unknown kid, missing times, a real ID token posted
 * as a logout token, and extra claims. Each refusal is a 400 that ends nothing.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { exportJWK, generateKeyPair } from "jose";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";

import { BFF, IDP, logIn, startSystem, type TestBrowser, type TestSystem } from "./harness.ts";
import { idpSigningKey, type SigningJwk, signLogoutToken } from "./logout-tokens.ts";

const dir = mkdtempSync(join(tmpdir(), "bff-logout-token-"));
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

const logoutToken = (claims: Record<string, unknown> = {}, key: SigningJwk = idpKey) =>
  signLogoutToken(key, { claims });

const post = (body: string) =>
  system.fetch(`${BFF}/bff/backchannel-logout`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });
const postToken = (token: string) => post(new URLSearchParams({ logout_token: token }).toString());

async function stillLoggedIn(browser: TestBrowser) {
  expect((await browser.api("/api/contacts")).status).toBe(200);
}

describe("a logout token that must be refused (400), ending nothing", () => {
  it("given twice in one form, even when the first one is valid (D7)", async () => {
    const alice = await logIn(system);
    const valid = await logoutToken();
    const response = await post(`logout_token=${valid}&logout_token=${await logoutToken()}`);
    expect(response.status).toBe(400);
    expect(response.headers.get("cache-control")).toBe("no-store");
    await stillLoggedIn(alice);
  });

  it("signed by an unpublished key under a kid the IdP never had: one JWKS fetch more at most (D8a)", async () => {
    const alice = await logIn(system);
    const { privateKey } = await generateKeyPair("RS256", { extractable: true });
    const stranger = { ...(await exportJWK(privateKey)), kid: "kid-the-idp-never-had" };
    const jwksFetches = () => system.idpRequests.filter((request) => request === "GET /jwks").length;
    const before = jwksFetches();
    for (let i = 0; i < 5; i++) expect((await postToken(await logoutToken({}, stranger))).status).toBe(400);
    expect(jwksFetches() - before).toBeLessThanOrEqual(1);
    await stillLoggedIn(alice);
  });

  it.each([
    ["without iat", { iat: undefined }],
    [
      "without exp, issued three minutes ago (past the 120 s limit and the 30 s tolerance)",
      { exp: undefined, iat: Math.floor(Date.now() / 1000) - 180 },
    ],
    ["expired a minute and a half ago", { exp: Math.floor(Date.now() / 1000) - 90 }],
  ])("%s (D8f)", async (_, claims) => {
    const alice = await logIn(system);
    expect((await postToken(await logoutToken(claims))).status).toBe(400);
    await stillLoggedIn(alice);
  });

  it("a real ID token from the IdP, posted as a logout token (D8l)", async () => {
    const idTokens: string[] = [];
    const original = system.fetch;
    system.fetch = async (input, init) => {
      const response = await original(input, init);
      if (new Request(input, init).url === `${IDP}/token`) {
        const { id_token: idToken } = (await response.clone().json()) as { id_token?: string };
        if (idToken) idTokens.push(idToken);
      }
      return response;
    };
    const alice = await logIn(system);
    system.fetch = original;
    expect(idTokens.length).toBeGreaterThan(0);
    for (const idToken of idTokens) expect((await postToken(idToken)).status).toBe(400);
    await stillLoggedIn(alice);
  });
});

describe("a logout token as Glewlwyd sends it: typed JWT, without exp (X21)", () => {
  const glewlwydToken = (
    claims: Record<string, unknown> = {},
    header: Record<string, unknown> = { typ: "JWT" },
  ) => signLogoutToken(idpKey, { claims: { exp: undefined, ...claims }, header });

  it("is accepted (200) and ends the session; its replay is refused (400) (X21)", async () => {
    const alice = await logIn(system);
    const token = await glewlwydToken();
    expect((await postToken(token)).status).toBe(200);
    expect((await alice.api("/api/contacts")).status).toBe(401);
    const replay = await postToken(token);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error_description: "This logout token was already used." });
  });

  it("is accepted without any typ too, and with exp as the current spec asks (X21)", async () => {
    const alice = await logIn(system);
    expect((await postToken(await glewlwydToken({}, { typ: undefined }))).status).toBe(200);
    expect((await alice.api("/api/contacts")).status).toBe(401);
    const again = await logIn(system);
    const withExp = await glewlwydToken({ exp: Math.floor(Date.now() / 1000) + 120 });
    expect((await postToken(withExp)).status).toBe(200);
    expect((await again.api("/api/contacts")).status).toBe(401);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      "issued three minutes ago (past the 120 s limit and the 30 s tolerance)",
      { iat: Math.floor(Date.now() / 1000) - 180 },
      { typ: "JWT" },
    ],
    [
      "issued in the future, beyond the clock tolerance",
      { iat: Math.floor(Date.now() / 1000) + 90 },
      { typ: "JWT" },
    ],
    ["with a nonce", { nonce: "n" }, { typ: "JWT" }],
    ["without the back-channel logout event", { events: { other: {} } }, { typ: "JWT" }],
    ["without a jti", { jti: undefined }, { typ: "JWT" }],
    ["typed as an access token (at+jwt)", {}, { typ: "at+jwt" }],
    ["typed as a security event token (secevent+jwt)", {}, { typ: "secevent+jwt" }],
  ])("is refused (400) %s, ending nothing (X21)", async (_, claims, header) => {
    const alice = await logIn(system);
    expect((await postToken(await glewlwydToken(claims, header))).status).toBe(400);
    await stillLoggedIn(alice);
  });
});

describe("a valid logout token", () => {
  it("with claims the BFF does not know: accepted (200), and the session ends (D8n)", async () => {
    const alice = await logIn(system);
    const response = await postToken(
      await logoutToken({ ignored_claim: "x", acr: "urn:example:loa:2", txn: randomUUID() }),
    );
    expect(response.status).toBe(200);
    expect((await alice.api("/api/contacts")).status).toBe(401);
  });
});
