import { inject } from "light-my-request";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { Idp } from "../src/app.ts";
import { INVALID_CREDENTIALS_MESSAGE } from "../src/views.ts";
import {
  authorizationRequest,
  Browser,
  backChannel,
  ISSUER,
  interactionUid,
  location,
  REDIRECT_URI,
  testIdp,
} from "./helpers.ts";

let idp: Idp;
let browser: Browser;
beforeEach(async () => {
  idp = await testIdp();
  browser = new Browser(idp);
});
afterEach(async () => {
  await idp.close();
});

/** Follows the authorization request to the login page and returns its uid. */
async function openLoginPage(request = authorizationRequest()): Promise<string> {
  const toLogin = location(await browser.get(request.url));
  const page = await browser.get(toLogin);
  expect(page.statusCode).toBe(200);
  return interactionUid(toLogin);
}

describe("authorization requests that must fail", () => {
  it("refuses an authorization request without PKCE, telling the client with iss (F3)", async () => {
    const request = authorizationRequest({ code_challenge: undefined, code_challenge_method: undefined });
    const callback = new URL(location(await browser.get(request.url)));
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get("error")).toBe("invalid_request");
    expect(callback.searchParams.get("error_description")).toMatch(/PKCE/);
    expect(callback.searchParams.get("iss")).toBe(ISSUER);
    expect(callback.searchParams.get("code")).toBeNull();
  });

  it("refuses the plain PKCE method", async () => {
    const request = authorizationRequest({ code_challenge_method: "plain" });
    const callback = new URL(location(await browser.get(request.url)));
    expect(callback.searchParams.get("error")).toBe("invalid_request");
  });

  it.each([
    ["a trailing slash", `${REDIRECT_URI}/`],
    ["an extra query", `${REDIRECT_URI}?next=/admin`],
    ["another port", "http://localhost:3001/bff/callback"],
    ["another host", "http://evil.example/bff/callback"],
    ["upper case", REDIRECT_URI.toUpperCase()],
  ])("shows an error page and never redirects when redirect_uri has %s", async (_case, redirectUri) => {
    const response = await browser.get(authorizationRequest({ redirect_uri: redirectUri }).url);
    expect(response.statusCode).toBe(400);
    expect(response.headers.location).toBeUndefined();
    expect(response.headers["content-type"]).toMatch(/text\/html/);
    expect(response.body).toContain("redirect_uri");
    expect(response.body).not.toMatch(/at \S+ \(|node_modules/); // no stack trace
  });

  it("shows an error page for an unknown client (F2)", async () => {
    const response = await browser.get(authorizationRequest({ client_id: "nobody" }).url);
    expect(response.statusCode).toBe(400);
    expect(response.headers.location).toBeUndefined();
    expect(response.body).toContain("invalid_client");
  });

  it("answers unsupported_response_type for the implicit flow (response_type=token)", async () => {
    const callback = new URL(
      location(await browser.get(authorizationRequest({ response_type: "token" }).url)),
    );
    // The error goes in the fragment, as a `token` response would have.
    const params = new URLSearchParams(callback.hash.slice(1));
    expect(params.get("error")).toBe("unsupported_response_type");
    expect(params.get("iss")).toBe(ISSUER);
  });

  it.each(["id_token", "id_token token", "code id_token"])(
    "answers unsupported_response_type for response_type=%s (tokens through the front channel)",
    async (responseType) => {
      const callback = new URL(
        location(await browser.get(authorizationRequest({ response_type: responseType }).url)),
      );
      const params = new URLSearchParams(callback.hash.slice(1));
      expect(params.get("error")).toBe("unsupported_response_type");
    },
  );

  it("sends access_denied back to the client when the person denies consent", async () => {
    const request = authorizationRequest();
    const uid = await openLoginPage(request);
    const toAuth = location(
      await browser.post(`/interaction/${uid}/login`, { username: "alice", password: "alice-dev-password" }),
    );
    const consentUid = interactionUid(location(await browser.get(toAuth)));
    const afterDeny = await browser.post(`/interaction/${consentUid}/abort`, {});
    expect(afterDeny.statusCode).toBe(303);
    const callback = new URL(location(await browser.get(location(afterDeny))));
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get("error")).toBe("access_denied");
    expect(callback.searchParams.get("state")).toBe(request.state);
    expect(callback.searchParams.get("iss")).toBe(ISSUER);
  });
});

describe("the login page", () => {
  it("gives the same answer for a wrong password and for an unknown user (F21)", async () => {
    const uid = await openLoginPage();
    const wrongPassword = await browser.post(`/interaction/${uid}/login`, {
      username: "alice",
      password: "nope",
    });
    const unknownUser = await browser.post(`/interaction/${uid}/login`, {
      username: "mallory",
      password: "nope",
    });

    for (const response of [wrongPassword, unknownUser]) {
      expect(response.statusCode).toBe(400);
      expect(response.body).toContain(INVALID_CREDENTIALS_MESSAGE);
      expect(response.body).toContain('role="alert"');
    }
    expect(INVALID_CREDENTIALS_MESSAGE).toBe("Invalid username or password.");
    // Apart from the echoed username, the two pages are identical.
    expect(wrongPassword.body.replace('value="alice"', "")).toBe(
      unknownUser.body.replace('value="mallory"', ""),
    );

    // The interaction is still usable after failed attempts.
    const ok = await browser.post(`/interaction/${uid}/login`, {
      username: "alice",
      password: "alice-dev-password",
    });
    expect(ok.statusCode).toBe(303);
  });

  it("is accessible: language, title, labelled fields with autocomplete, an alert region", async () => {
    const toLogin = location(await browser.get(authorizationRequest().url));
    const { body } = await browser.get(toLogin);
    expect(body).toContain('<html lang="en">');
    expect(body).toMatch(/<title>Sign in · [^<]+<\/title>/);
    expect(body).toContain('<label for="username">Username</label>');
    expect(body).toContain('id="username" name="username" type="text"');
    expect(body).toContain('autocomplete="username"');
    expect(body).toContain('<label for="password">Password</label>');
    expect(body).toContain('autocomplete="current-password"');
    expect(body).toContain('role="alert"');
  });

  it("refuses a login form posted from another origin", async () => {
    const uid = await openLoginPage();
    const response = await browser.post(
      `/interaction/${uid}/login`,
      { username: "alice", password: "alice-dev-password" },
      { origin: "http://127.0.0.1:5173" },
    );
    expect(response.statusCode).toBe(403);
    expect(response.headers.location).toBeUndefined();
  });

  it("accepts the login form posted from the IdP's own origin", async () => {
    const uid = await openLoginPage();
    const response = await browser.post(
      `/interaction/${uid}/login`,
      { username: "alice", password: "alice-dev-password" },
      { origin: ISSUER },
    );
    expect(response.statusCode).toBe(303);
  });

  it("explains an expired or unknown sign-in instead of failing obscurely", async () => {
    const response = await new Browser(idp).get("/interaction/doesnotexist");
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain("Sign-in expired");
  });
});

describe("the token endpoint", () => {
  it("answers unsupported_grant_type for the password grant (F8)", async () => {
    const { status, body } = await backChannel(idp, "/token", {
      grant_type: "password",
      username: "alice",
      password: "alice-dev-password",
    });
    expect(status).toBe(400);
    expect(body.error).toBe("unsupported_grant_type");
  });

  it("refuses a client with the wrong secret (F9)", async () => {
    const { status, body } = await backChannel(
      idp,
      "/token",
      { grant_type: "refresh_token", refresh_token: "x" },
      { authorization: `Basic ${Buffer.from("web-bff:wrong").toString("base64")}` },
    );
    expect(status).toBe(401);
    expect(body.error).toBe("invalid_client");
  });

  it("refuses requests from browsers (CORS) and does not allow their origin", async () => {
    const { status, body, response } = await backChannel(
      idp,
      "/token",
      { grant_type: "refresh_token", refresh_token: "x" },
      { origin: "http://localhost:3000" },
    );
    expect(status).toBe(400);
    expect(body.error).toBe("invalid_request");
    expect(response.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("does not answer CORS on the authorization endpoint (F18)", async () => {
    const response = await inject(idp.listener, {
      method: "GET",
      url: authorizationRequest().url,
      headers: { host: "127.0.0.1:4000", origin: "http://localhost:3000" },
    });
    expect(response.headers["access-control-allow-origin"]).toBeUndefined();
  });
});
