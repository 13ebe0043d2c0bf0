/**
 * Token introspection (RFC 7662) for the API: only its own client may ask, only
 * about access tokens issued for it, and only opaque tokens can be introspected
 * (oidc-provider does not store JWT access tokens and refuses to introspect them).
 */
import { inject } from "light-my-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Idp } from "../src/app.ts";
import { DEV_CONTACTS_API_SECRET, DEV_REPORTING_SERVICE_SECRET } from "../src/config.ts";
import { API, backChannel, basicAuth, ISSUER, loggedInTokens, refresh, testIdp } from "./helpers.ts";

const asContactsApi = basicAuth("contacts-api", DEV_CONTACTS_API_SECRET);

const introspect = (idp: Idp, token: string, authorization = asContactsApi) =>
  backChannel(idp, "/token/introspection", { token }, { authorization });

/** Alice signs in; the BFF refreshes with `resource` for the API's access token. */
async function aliceTokens(idp: Idp) {
  const { tokens } = await loggedInTokens(idp);
  const refreshed = await refresh(idp, String(tokens.refresh_token), { resource: API });
  expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
  return {
    /** For the userinfo endpoint only: the code was exchanged without `resource`. */
    userinfoToken: tokens.access_token,
    apiToken: String(refreshed.body.access_token),
    refreshToken: String(refreshed.body.refresh_token),
  };
}

describe("with opaque access tokens for the API", () => {
  let idp: Idp;
  beforeAll(async () => {
    idp = await testIdp({ apiAccessTokenFormat: "opaque" });
  });
  afterAll(async () => {
    await idp.close();
  });

  it("publishes the introspection endpoint in discovery", async () => {
    const response = await inject(idp.listener, {
      method: "GET",
      url: "/.well-known/openid-configuration",
      headers: { host: "127.0.0.1:4000" },
    });
    expect(JSON.parse(response.body)).toMatchObject({
      introspection_endpoint: `${ISSUER}/token/introspection`,
    });
  });

  it("tells the API's client who the token is for, its audience, scopes and expiry", async () => {
    const { apiToken } = await aliceTokens(idp);
    expect(apiToken.split(".")).toHaveLength(1);
    const { status, body } = await introspect(idp, apiToken);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      active: true,
      iss: ISSUER,
      aud: API,
      sub: "user-alice",
      client_id: "web-bff",
      token_type: "Bearer",
      scope: "contacts:read contacts:write",
    });
    expect(body.exp).toEqual(expect.any(Number));
  });

  it("says active:false to every other client, even about that client's own token", async () => {
    const { apiToken } = await aliceTokens(idp);
    for (const authorization of [
      basicAuth(), // web-bff: the token's own client
      basicAuth("reporting-service", DEV_REPORTING_SERVICE_SECRET),
    ]) {
      const { status, body } = await introspect(idp, apiToken, authorization);
      expect(status).toBe(200);
      expect(body).toEqual({ active: false });
    }
  });

  it("refuses the API's client with a wrong secret (invalid_client)", async () => {
    const { apiToken } = await aliceTokens(idp);
    const { status, body } = await introspect(idp, apiToken, basicAuth("contacts-api", "wrong-secret"));
    expect(status).toBe(401);
    expect(body).toMatchObject({ error: "invalid_client" });
  });

  it("does not describe refresh tokens or tokens for another audience to the API", async () => {
    const { userinfoToken, refreshToken } = await aliceTokens(idp);
    expect((await introspect(idp, refreshToken)).body).toEqual({ active: false });
    expect((await introspect(idp, userinfoToken)).body).toEqual({ active: false });
  });

  it("says active:false as soon as the access token is revoked (RFC 7009)", async () => {
    const { apiToken } = await aliceTokens(idp);
    const revoked = await backChannel(idp, "/token/revocation", {
      token: apiToken,
      token_type_hint: "access_token",
    });
    expect(revoked.status).toBe(200);
    expect((await introspect(idp, apiToken)).body).toEqual({ active: false });
  });

  it("gives the API's client no token of its own", async () => {
    const { status, body } = await backChannel(
      idp,
      "/token",
      { grant_type: "client_credentials", scope: "contacts:stats", resource: API },
      { authorization: asContactsApi },
    );
    expect(status).toBe(400);
    expect(body).toMatchObject({
      error: "invalid_request",
      error_description: "requested grant type is not allowed for this client",
    });
  });
});

describe("with JWT access tokens for the API (the default)", () => {
  it("refuses to introspect them: they are not stored, only the signature can be checked", async () => {
    const idp = await testIdp();
    try {
      const { apiToken } = await aliceTokens(idp);
      expect(apiToken.split(".")).toHaveLength(3);
      const { status, body } = await introspect(idp, apiToken);
      expect(status).toBe(400);
      expect(body).toMatchObject({ error: "unsupported_token_type" });
    } finally {
      await idp.close();
    }
  });
});

describe("without the API's client", () => {
  it("has no introspection endpoint at all", async () => {
    const idp = await testIdp({ contactsApi: null, apiAccessTokenFormat: "opaque" });
    try {
      const discovery = await inject(idp.listener, {
        method: "GET",
        url: "/.well-known/openid-configuration",
        headers: { host: "127.0.0.1:4000" },
      });
      expect(JSON.parse(discovery.body).introspection_endpoint).toBeUndefined();
      const { apiToken } = await aliceTokens(idp);
      const response = await inject(idp.listener, {
        method: "POST",
        url: "/token/introspection",
        headers: {
          host: "127.0.0.1:4000",
          authorization: asContactsApi,
          "content-type": "application/x-www-form-urlencoded",
        },
        payload: new URLSearchParams({ token: apiToken }).toString(),
      });
      expect(response.statusCode).toBe(404);
    } finally {
      await idp.close();
    }
  });
});
