import { inject, type Response } from "light-my-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Idp } from "../src/app.ts";
import { STYLESHEET_PATH } from "../src/views.ts";
import { authorizationRequest, Browser, ISSUER, interactionUid, location, testIdp } from "./helpers.ts";

let idp: Idp;
beforeAll(async () => {
  idp = await testIdp();
});
afterAll(async () => {
  await idp.close();
});

function get(url: string) {
  return inject(idp.listener, { method: "GET", url, headers: { host: "127.0.0.1:4000" } });
}

function expectHardenedPage(response: Response) {
  expect(response.headers["content-type"]).toMatch(/^text\/html/);
  expect(response.headers["cache-control"]).toBe("no-store");
  expect(response.headers["x-frame-options"]).toBe("DENY");
  expect(response.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(response.headers["content-security-policy"]).toContain("default-src 'none'");
  expect(response.headers["x-content-type-options"]).toBe("nosniff");
  // No inline scripts or styles: the CSP would block them anyway.
  expect(response.body).not.toMatch(/<script|<style|\sstyle=|\son[a-z]+=/i);
}

describe("discovery", () => {
  it("publishes the code flow with PKCE S256, RFC 9207 iss and the endpoints the BFF uses", async () => {
    const response = await get("/.well-known/openid-configuration");
    expect(response.statusCode).toBe(200);
    const metadata = JSON.parse(response.body);
    expect(metadata).toMatchObject({
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/auth`,
      token_endpoint: `${ISSUER}/token`,
      userinfo_endpoint: `${ISSUER}/me`,
      jwks_uri: `${ISSUER}/jwks`,
      revocation_endpoint: `${ISSUER}/token/revocation`,
      end_session_endpoint: `${ISSUER}/session/end`,
      response_types_supported: ["code"],
      code_challenge_methods_supported: ["S256"],
      authorization_response_iss_parameter_supported: true,
    });
    // Never "password" or "implicit" (RFC 9700 §2.4, §2.1.2).
    expect(metadata.grant_types_supported.sort()).toEqual([
      "authorization_code",
      "client_credentials",
      "refresh_token",
      "urn:ietf:params:oauth:grant-type:device_code",
    ]);
    expect(metadata.scopes_supported).toEqual(
      expect.arrayContaining(["openid", "profile", "email", "offline_access"]),
    );
    expect(metadata.claims_supported).toEqual(
      expect.arrayContaining(["sub", "name", "given_name", "family_name", "email", "email_verified"]),
    );
  });

  it("publishes only public signing keys", async () => {
    const { keys } = JSON.parse((await get("/jwks")).body) as { keys: Array<Record<string, unknown>> };
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).toMatchObject({ kty: "RSA", use: "sig", alg: "RS256" });
      for (const secret of ["d", "p", "q", "dp", "dq", "qi"]) expect(key[secret]).toBeUndefined();
    }
  });
});

describe("the IdP's pages", () => {
  it("serve the login and consent pages uncacheable, unframeable and without inline code (F17)", async () => {
    const browser = new Browser(idp);
    const toLogin = location(await browser.get(authorizationRequest().url));
    const loginPage = await browser.get(toLogin);
    expectHardenedPage(loginPage);

    const toAuth = location(
      await browser.post(`/interaction/${interactionUid(toLogin)}/login`, {
        username: "alice",
        password: "alice-dev-password",
      }),
    );
    const consentPage = await browser.get(location(await browser.get(toAuth)));
    expect(consentPage.body).toContain(">Allow</button>");
    expect(consentPage.body).toContain(">Deny</button>");
    expectHardenedPage(consentPage);
  });

  it("render oidc-provider errors as a readable page without a stack trace", async () => {
    const response = await get("/auth?client_id=web-bff&response_type=code");
    expect(response.statusCode).toBe(400);
    expectHardenedPage(response);
    expect(response.body).toContain("<h1>This request cannot be completed</h1>");
    expect(response.body).not.toMatch(/node_modules|\.js:\d+/);
  });

  it("serve the stylesheet as a static file", async () => {
    const response = await get(STYLESHEET_PATH);
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("text/css; charset=utf-8");
    expect(response.body).toContain("main.card");
  });

  it("answer 404 with a page for unknown interaction paths", async () => {
    const response = await get("/interaction/abc/unknown");
    expect(response.statusCode).toBe(404);
    expectHardenedPage(response);
  });
});
