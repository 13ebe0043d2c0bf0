/**
 * Token and revocation endpoint cases of the security checklist
 * (docs/security.md): a stolen code is useless without the BFF's secret, a
 * code is bound to its client and redirect_uri, and only the owning,
 * authenticated client can revoke a token.
 */
import { inject } from "light-my-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { DEV_REPORTING_SERVICE_SECRET } from "../src/config.ts";
import type { Idp } from "../src/index.ts";
import {
  authorizationRequest,
  Browser,
  backChannel,
  basicAuth,
  exchangeCode,
  loggedInTokens,
  REDIRECT_URI,
  refresh,
  signIn,
  testIdp,
} from "./helpers.ts";

let idp: Idp;
beforeAll(async () => {
  idp = await testIdp();
});
afterAll(async () => {
  await idp.close();
});

/** A fresh code for alice, issued to web-bff, and its PKCE verifier. */
async function freshCode() {
  const request = authorizationRequest();
  const callback = await signIn(new Browser(idp), request);
  const code = callback.searchParams.get("code");
  if (!code) throw new Error(`no code in ${callback.href}`);
  return { code, verifier: request.verifier };
}

/** A form post to the IdP without the BFF's credentials (optionally with other headers). */
async function postForm(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await inject(idp.listener, {
    method: "POST",
    url: path,
    headers: { host: "127.0.0.1:4000", "content-type": "application/x-www-form-urlencoded", ...headers },
    payload: new URLSearchParams(form).toString(),
  });
  return { status: response.statusCode, body: JSON.parse(response.body || "{}") as Record<string, unknown> };
}

describe("a stolen authorization code (A21, F9)", () => {
  it("cannot be redeemed without the BFF's secret, with a wrong one, or by naming web-bff as a public client (A21)", async () => {
    const { code, verifier } = await freshCode();
    const form = {
      grant_type: "authorization_code",
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
    };
    const attempts = [
      await postForm("/token", form),
      await postForm("/token", { ...form, client_id: "web-bff" }),
      await postForm("/token", form, { authorization: basicAuth("web-bff", "a-guessed-secret") }),
      await postForm("/token", { ...form, client_id: "web-bff", client_secret: "a-guessed-secret" }),
    ];
    // No client authentication at all: the request is malformed for this client.
    expect(attempts[0]).toMatchObject({ status: 400, body: { error: "invalid_request" } });
    for (const { status, body } of attempts.slice(1)) {
      expect(status).toBe(401);
      expect(body.error).toBe("invalid_client");
    }
    // The control: with the secret, the same code is still good (the failures did not spend it).
    const { status } = await exchangeCode(idp, code, verifier);
    expect(status).toBe(200);
  });
});

describe("an authorization code is bound (F5)", () => {
  it("to its client: another client, even authenticated, cannot redeem it", async () => {
    const { code, verifier } = await freshCode();
    const { status, body } = await backChannel(
      idp,
      "/token",
      { grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: REDIRECT_URI },
      { authorization: basicAuth("reporting-service", DEV_REPORTING_SERVICE_SECRET) },
    );
    // reporting-service is not even registered for the code grant; either way, no tokens.
    expect(status).toBe(400);
    expect(body.access_token).toBeUndefined();
    expect(["invalid_grant", "unauthorized_client", "invalid_request"]).toContain(body.error);
    // The public command line client, naming itself, cannot redeem it either.
    const cli = await postForm("/token", {
      grant_type: "authorization_code",
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
      client_id: "contacts-cli",
    });
    expect(cli.status).toBe(400);
    expect(cli.body.access_token).toBeUndefined();
    expect(["invalid_grant", "unauthorized_client", "invalid_request"]).toContain(cli.body.error);
    // The control: web-bff, authenticated, still redeems it.
    expect((await exchangeCode(idp, code, verifier)).status).toBe(200);
  });

  it("to its redirect_uri: another one at the token endpoint gets invalid_grant", async () => {
    const { code, verifier } = await freshCode();
    for (const redirectUri of [
      `${REDIRECT_URI}/`,
      `${REDIRECT_URI}?x=1`,
      "http://localhost:3001/bff/callback",
    ]) {
      const { status, body } = await exchangeCode(idp, code, verifier, { redirect_uri: redirectUri });
      expect(status, redirectUri).toBe(400);
      expect(body.error, redirectUri).toBe("invalid_grant");
    }
  });

  it("and short-lived: at most 60 seconds", async () => {
    const { code } = await freshCode();
    const stored = await idp.provider.AuthorizationCode.find(code);
    expect(stored).toBeDefined();
    const lifetime = Number(stored?.exp) - Number(stored?.iat);
    expect(lifetime).toBeGreaterThan(0);
    expect(lifetime).toBeLessThanOrEqual(60);
  });
});

describe("token revocation (F9, F15)", () => {
  it("needs the owning client's credentials: none or wrong ones get invalid_client, and the token lives on", async () => {
    const { tokens } = await loggedInTokens(idp);
    const refreshToken = String(tokens.refresh_token);
    const form = { token: refreshToken, token_type_hint: "refresh_token" };
    expect(await postForm("/token/revocation", form)).toMatchObject({
      status: 400,
      body: { error: "invalid_request" },
    });
    const wrongSecret = await postForm("/token/revocation", form, {
      authorization: basicAuth("web-bff", "a-guessed-secret"),
    });
    expect(wrongSecret).toMatchObject({ status: 401, body: { error: "invalid_client" } });
    // Another client (the command line, a public client) may not revoke web-bff's token.
    for (const other of [
      await postForm("/token/revocation", { ...form, client_id: "contacts-cli" }),
      await postForm("/token/revocation", form, {
        authorization: basicAuth("reporting-service", DEV_REPORTING_SERVICE_SECRET),
      }),
    ]) {
      expect(other).toMatchObject({
        status: 400,
        body: {
          error: "invalid_request",
          error_description: "client is not authorized to revoke the presented token",
        },
      });
    }
    const { status } = await refresh(idp, refreshToken);
    expect(status).toBe(200);
  });
});
