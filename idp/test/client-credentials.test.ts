/**
 * Client credentials (RFC 6749 §4.4): the reporting service acts as itself and
 * gets an RFC 9068 access token for the API's aggregate statistics, nothing more.
 */

import { inject } from "light-my-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createIdp } from "../src/app.ts";
import { DEV_REPORTING_SERVICE_SECRET } from "../src/config.ts";
import type { Idp } from "../src/index.ts";
import { API, backChannel, basicAuth, decodeJwt, testConfig, testIdp, verifyWithJwks } from "./helpers.ts";

let idp: Idp;
beforeAll(async () => {
  idp = await testIdp();
});
afterAll(async () => {
  await idp.close();
});

const asReportingService = (form: Record<string, string>, secret = DEV_REPORTING_SERVICE_SECRET) =>
  backChannel(
    idp,
    "/token",
    { grant_type: "client_credentials", ...form },
    {
      authorization: basicAuth("reporting-service", secret),
    },
  );

describe("the reporting service", () => {
  it("gets a JWT access token for the API with contacts:stats, issued to itself (no user) (F25)", async () => {
    const { status, body } = await asReportingService({ scope: "contacts:stats", resource: API });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ token_type: "Bearer", scope: "contacts:stats" });
    expect(body.refresh_token).toBeUndefined();
    const token = String(body.access_token);
    expect(await verifyWithJwks(idp, token)).toBe(true);
    const { header, payload } = decodeJwt(token);
    expect(header.typ).toBe("at+jwt");
    expect(payload).toMatchObject({ aud: API, client_id: "reporting-service", scope: "contacts:stats" });
    // RFC 9068 §2.2: with no person involved, the subject is the client itself.
    expect(payload.sub).toBe("reporting-service");
  });

  it("cannot obtain a person's scopes: they are left out of what it is granted (F23)", async () => {
    const { status, body } = await asReportingService({
      scope: "contacts:read contacts:stats",
      resource: API,
    });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.scope).toBe("contacts:stats");
    expect(String(decodeJwt(String(body.access_token)).payload.scope)).not.toContain("contacts:read");
  });

  it("is refused with a wrong secret", async () => {
    const { status, body } = await asReportingService(
      { scope: "contacts:stats", resource: API },
      "wrong-secret",
    );
    expect(status).toBe(401);
    expect(body.error).toBe("invalid_client");
  });

  it("cannot log people in: no authorization code flow for it", async () => {
    const response = await backChannel(
      idp,
      "/token",
      {
        grant_type: "authorization_code",
        code: "whatever",
        redirect_uri: "http://localhost:3000/bff/callback",
      },
      { authorization: basicAuth("reporting-service", DEV_REPORTING_SERVICE_SECRET) },
    );
    expect(response.status).toBe(400);
    // oidc-provider says invalid_request, with this description, for a grant the client is not registered for.
    expect(response.body.error_description).toBe("requested grant type is not allowed for this client");
  });
});

describe("the web BFF", () => {
  it("may not use client credentials: it acts for people only", async () => {
    const { status, body } = await backChannel(idp, "/token", {
      grant_type: "client_credentials",
      scope: "contacts:read",
      resource: API,
    });
    expect(status, JSON.stringify(body)).toBe(400);
    expect(body.error_description).toBe("requested grant type is not allowed for this client");
  });
});

describe("client registration", () => {
  it("is static: discovery offers no registration endpoint and /reg does not exist", async () => {
    const discovery = await inject(idp.listener, {
      method: "GET",
      url: "/.well-known/openid-configuration",
      headers: { host: "127.0.0.1:4000" },
    });
    expect(JSON.parse(discovery.body).registration_endpoint).toBeUndefined();
    const register = await inject(idp.listener, {
      method: "POST",
      url: "/reg",
      headers: { host: "127.0.0.1:4000", "content-type": "application/json" },
      payload: JSON.stringify({ redirect_uris: ["https://evil.example/cb"] }),
    });
    expect(register.statusCode).toBe(404);
  });

  it("refuses to start when a client id equals a user's sub (F22)", async () => {
    const config = testConfig();
    config.clients = [
      ...config.clients,
      { ...config.clients[0], clientId: "user-alice" } as (typeof config.clients)[0],
    ];
    await expect(createIdp(config)).rejects.toMatchObject({ code: "invalid_config" });
  });
});
