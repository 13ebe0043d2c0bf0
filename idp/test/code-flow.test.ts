import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { Idp } from "../src/app.ts";
import {
  API,
  authorizationRequest,
  Browser,
  CLIENT_ID,
  decodeJwt,
  exchangeCode,
  ISSUER,
  interactionUid,
  location,
  loggedInTokens,
  REDIRECT_URI,
  refresh,
  signIn,
  type TokenSet,
  testIdp,
  userinfo,
  verifyWithJwks,
} from "./helpers.ts";

let idp: Idp;
beforeEach(async () => {
  idp = await testIdp();
});
afterEach(async () => {
  vi.useRealTimers();
  await idp.close();
});

describe("authorization code flow through our login and consent pages", () => {
  it("signs alice in, asks consent, and returns a code with state and iss to the registered redirect_uri (F16)", async () => {
    const browser = new Browser(idp);
    const request = authorizationRequest();

    // 1. The authorization request: no session yet, so oidc-provider sends the browser to our login page.
    const toLogin = location(await browser.get(request.url));
    const loginUid = interactionUid(toLogin);
    const loginPage = await browser.get(toLogin);
    expect(loginPage.statusCode).toBe(200);
    expect(loginPage.body).toContain(`<form method="post" action="/interaction/${loginUid}/login">`);
    expect(loginPage.body).toContain('<label for="username">Username</label>');
    expect(loginPage.body).toContain('<label for="password">Password</label>');
    expect(loginPage.body).toContain(">Sign in</button>");

    // 2. Posting the credentials: 303 (never 307) back to the authorization endpoint...
    const afterLogin = await browser.post(`/interaction/${loginUid}/login`, {
      username: "alice",
      password: "alice-dev-password",
    });
    expect(afterLogin.statusCode).toBe(303);
    // ...which now needs consent.
    const toConsent = location(await browser.get(location(afterLogin)));
    const consentUid = interactionUid(toConsent);
    const consentPage = await browser.get(toConsent);
    expect(consentPage.statusCode).toBe(200);
    expect(consentPage.body).toContain("Contacts (web)");
    for (const scope of ["openid", "profile", "email", "contacts:read", "contacts:write"]) {
      expect(consentPage.body).toContain(`<code>${scope}</code>`);
    }
    // Without prompt=consent oidc-provider drops offline_access (OIDC Core §11): not asked for.
    expect(consentPage.body).not.toContain("<code>offline_access</code>");
    expect(consentPage.body).toContain("Read your contacts");
    expect(consentPage.body).toContain(`action="/interaction/${consentUid}/confirm"`);
    expect(consentPage.body).toContain(`action="/interaction/${consentUid}/abort"`);

    // 3. "Allow": back to the authorization endpoint, which redirects to the client with the code.
    const afterConsent = await browser.post(`/interaction/${consentUid}/confirm`, {});
    expect(afterConsent.statusCode).toBe(303);
    const callback = new URL(location(await browser.get(location(afterConsent))));

    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get("code")).toBeTruthy();
    expect(callback.searchParams.get("state")).toBe(request.state);
    expect(callback.searchParams.get("iss")).toBe(ISSUER); // RFC 9207
  });

  it("exchanges the code without resource for an ID token, a refresh token and an access token usable at userinfo (F20)", async () => {
    const browser = new Browser(idp);
    const request = authorizationRequest();
    const code = (await signIn(browser, request)).searchParams.get("code") as string;

    const { status, body, response } = await exchangeCode(idp, code, request.verifier);
    expect(status).toBe(200);
    expect(response.headers["cache-control"]).toBe("no-store");
    const tokens = body as unknown as TokenSet;
    expect(tokens.token_type).toBe("Bearer");
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.expires_in).toBeLessThanOrEqual(300);

    const idToken = decodeJwt(tokens.id_token as string);
    expect(idToken.header.alg).toBe("RS256");
    expect(idToken.payload).toMatchObject({
      iss: ISSUER,
      aud: CLIENT_ID,
      sub: "user-alice",
      nonce: request.nonce,
    });
    expect(await verifyWithJwks(idp, tokens.id_token as string)).toBe(true);

    // Opaque (not a JWT): meant for the userinfo endpoint, not for the API.
    expect(tokens.access_token.split(".")).toHaveLength(1);
    const me = await userinfo(idp, tokens.access_token);
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      sub: "user-alice",
      name: "Alice Liddell",
      given_name: "Alice",
      family_name: "Liddell",
      email: "alice@example.com",
      email_verified: true,
    });
  });

  it("answers a refresh_token grant with resource with an RFC 9068 JWT access token for the API and a rotated refresh token (F11)", async () => {
    const { tokens } = await loggedInTokens(idp);

    const { status, body } = await refresh(idp, tokens.refresh_token as string, { resource: API });
    expect(status).toBe(200);
    const apiTokens = body as unknown as TokenSet;
    expect(apiTokens.refresh_token).toBeTruthy();
    expect(apiTokens.refresh_token).not.toBe(tokens.refresh_token);

    const { header, payload } = decodeJwt(apiTokens.access_token);
    expect(header).toMatchObject({ typ: "at+jwt", alg: "RS256" });
    expect(payload).toMatchObject({ iss: ISSUER, aud: API, sub: "user-alice", client_id: CLIENT_ID });
    expect(String(payload.scope).split(" ").sort()).toEqual(["contacts:read", "contacts:write"]);
    expect(payload.jti).toBeTruthy();
    expect(Number(payload.exp) - Number(payload.iat)).toBe(300);
    expect(await verifyWithJwks(idp, apiTokens.access_token)).toBe(true);

    // A JWT for the API is not a userinfo token.
    expect((await userinfo(idp, apiTokens.access_token)).status).toBe(401);

    // The next refresh, again with resource, keeps working with the rotated token.
    const again = await refresh(idp, apiTokens.refresh_token as string, { resource: API });
    expect(again.status).toBe(200);
    expect(decodeJwt((again.body as unknown as TokenSet).access_token).payload.aud).toBe(API);
  });

  it("revokes the whole grant when a used refresh token is presented again after the grace period", async () => {
    const { tokens } = await loggedInTokens(idp);
    const first = await refresh(idp, tokens.refresh_token as string, { resource: API });
    expect(first.status).toBe(200);
    const rotated = (first.body as unknown as TokenSet).refresh_token as string;
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 31_000 });

    // Replay of the used token: refused...
    const replay = await refresh(idp, tokens.refresh_token as string, { resource: API });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe("invalid_grant");

    // ...and everything issued under the grant is gone, the fresh refresh token included.
    const afterReplay = await refresh(idp, rotated, { resource: API });
    expect(afterReplay.status).toBe(400);
    expect(afterReplay.body.error).toBe("invalid_grant");
    expect((await userinfo(idp, tokens.access_token)).status).toBe(401);
  });

  it("refuses a refresh_token grant for an unknown resource with invalid_target", async () => {
    const { tokens } = await loggedInTokens(idp);
    const { status, body } = await refresh(idp, tokens.refresh_token as string, {
      resource: "http://localhost:9999",
    });
    expect(status).toBe(400);
    expect(body.error).toBe("invalid_target");
  });

  it("does not ask for consent again on the next login, and issues a refresh token with prompt=login too", async () => {
    const { browser } = await loggedInTokens(idp);

    // Same browser, existing session and grant: straight back to the client.
    const silent = authorizationRequest();
    const direct = new URL(location(await browser.get(silent.url)));
    expect(direct.origin).toBe("http://localhost:3000");
    expect(direct.searchParams.get("code")).toBeTruthy();

    // prompt=login asks for the password again; the client still gets its refresh token.
    const relogin = authorizationRequest({ prompt: "login" });
    const callback = await signIn(browser, relogin);
    const { status, body } = await exchangeCode(
      idp,
      callback.searchParams.get("code") as string,
      relogin.verifier,
    );
    expect(status).toBe(200);
    expect(body.refresh_token).toBeTruthy();
    const viaRefresh = await refresh(idp, body.refresh_token as string, { resource: API });
    expect(viaRefresh.status).toBe(200);
  });

  it("asks consent for offline access when the client sends prompt=consent", async () => {
    const browser = new Browser(idp);
    const request = authorizationRequest({ prompt: "consent" });
    const toLogin = location(await browser.get(request.url));
    const loginUid = interactionUid(toLogin);
    const toAuth = location(
      await browser.post(`/interaction/${loginUid}/login`, {
        username: "alice",
        password: "alice-dev-password",
      }),
    );
    const toConsent = location(await browser.get(toAuth));
    const consentPage = await browser.get(toConsent);
    expect(consentPage.body).toContain("<code>offline_access</code>");
    expect(consentPage.body).toContain("Stay connected while you are away");
  });

  it("lets bob sign in with his own claims", async () => {
    const browser = new Browser(idp);
    const request = authorizationRequest();
    const callback = await signIn(browser, request, { username: "bob", password: "bob-dev-password" });
    const { body } = await exchangeCode(idp, callback.searchParams.get("code") as string, request.verifier);
    const me = await userinfo(idp, (body as unknown as TokenSet).access_token);
    expect(me.body).toMatchObject({ sub: "user-bob", name: "Bob Marley", email: "bob@example.com" });
  });

  it("refuses a second redemption of the same code and revokes what the first one issued", async () => {
    const browser = new Browser(idp);
    const request = authorizationRequest();
    const code = (await signIn(browser, request)).searchParams.get("code") as string;
    const first = await exchangeCode(idp, code, request.verifier);
    expect(first.status).toBe(200);

    const second = await exchangeCode(idp, code, request.verifier);
    expect(second.status).toBe(400);
    expect(second.body.error).toBe("invalid_grant");
    const stale = await refresh(idp, first.body.refresh_token as string, { resource: API });
    expect(stale.body.error).toBe("invalid_grant");
  });

  it("refuses a code exchange with the wrong code_verifier (F4)", async () => {
    const browser = new Browser(idp);
    const request = authorizationRequest();
    const code = (await signIn(browser, request)).searchParams.get("code") as string;
    const { status, body } = await exchangeCode(idp, code, "x".repeat(43));
    expect(status).toBe(400);
    expect(body.error).toBe("invalid_grant");
  });
});
