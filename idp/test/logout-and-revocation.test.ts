import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { Idp } from "../src/app.ts";
import {
  API,
  authorizationRequest,
  backChannel,
  interactionUid,
  location,
  loggedInTokens,
  POST_LOGOUT_REDIRECT_URI,
  refresh,
  testIdp,
  userinfo,
} from "./helpers.ts";

let idp: Idp;
beforeEach(async () => {
  idp = await testIdp();
});
afterEach(async () => {
  await idp.close();
});

describe("token revocation (RFC 7009)", () => {
  it("makes a revoked refresh token unusable (F15)", async () => {
    const { tokens } = await loggedInTokens(idp);
    const revoked = await backChannel(idp, "/token/revocation", {
      token: tokens.refresh_token as string,
      token_type_hint: "refresh_token",
    });
    expect(revoked.status).toBe(200);

    const { status, body } = await refresh(idp, tokens.refresh_token as string, { resource: API });
    expect(status).toBe(400);
    expect(body.error).toBe("invalid_grant");
    // Revoking the refresh token revokes the grant: its access tokens too.
    expect((await userinfo(idp, tokens.access_token)).status).toBe(401);
  });

  it("answers 200 for an unknown token, as RFC 7009 requires", async () => {
    const { status } = await backChannel(idp, "/token/revocation", { token: "not-a-token" });
    expect(status).toBe(200);
  });
});

describe("RP-initiated logout", () => {
  it("asks for confirmation on our page, then signs out and returns to the registered post-logout URI with state", async () => {
    const { browser, tokens } = await loggedInTokens(idp);
    const query = new URLSearchParams({
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI,
      state: "after-logout",
    });

    const confirmation = await browser.get(`/session/end?${query}`);
    expect(confirmation.statusCode).toBe(200);
    expect(confirmation.headers["cache-control"]).toBe("no-store");
    expect(confirmation.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(confirmation.body).toContain('<form id="op.logoutForm" method="post"');
    expect(confirmation.body).toContain('name="xsrf"');
    expect(confirmation.body).toContain(
      '<button type="submit" form="op.logoutForm" name="logout" value="yes" class="primary">Sign out</button>',
    );
    expect(confirmation.body).toContain("Alice Liddell");

    // What the "Sign out" button sends: the provider's hidden xsrf field plus logout=yes.
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirmation.body)?.[1] as string;
    const done = await browser.post("/session/end/confirm", { xsrf, logout: "yes" });
    expect(done.statusCode).toBe(303);
    const back = new URL(location(done));
    expect(`${back.origin}${back.pathname}`).toBe(POST_LOGOUT_REDIRECT_URI);
    expect(back.searchParams.get("state")).toBe("after-logout");

    // The IdP session is gone: the next authorization request needs the login page again.
    const next = location(await browser.get(authorizationRequest().url));
    expect(next).toMatch(/^\/interaction\//);
    const page = await browser.get(next);
    expect(page.body).toContain(`/interaction/${interactionUid(next)}/login`);

    // Tokens bound to that session (no offline_access) are revoked with it.
    expect((await refresh(idp, tokens.refresh_token as string, { resource: API })).body.error).toBe(
      "invalid_grant",
    );
  });

  it("refuses a post-logout redirect URI that is not registered", async () => {
    const { browser, tokens } = await loggedInTokens(idp);
    const query = new URLSearchParams({
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: "http://evil.example/",
    });
    const response = await browser.get(`/session/end?${query}`);
    expect(response.statusCode).toBe(400);
    expect(response.headers.location).toBeUndefined();
  });

  it("shows our signed-out page when no post-logout URI is given", async () => {
    const { browser } = await loggedInTokens(idp);
    const confirmation = await browser.get("/session/end");
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirmation.body)?.[1] as string;
    const done = await browser.post("/session/end/confirm", { xsrf, logout: "yes" });
    const success = await browser.get(location(done));
    expect(success.statusCode).toBe(200);
    expect(success.body).toContain("You are signed out");
    expect(success.headers["cache-control"]).toBe("no-store");
  });
});
