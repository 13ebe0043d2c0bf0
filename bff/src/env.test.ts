import { describe, expect, it } from "vitest";

import { bffSettingsFromEnvironment } from "./env.ts";
import { BffError } from "./errors.ts";

const VALID = {
  BFF_ISSUER: "https://id.example.com",
  BFF_CLIENT_ID: "web-bff",
  BFF_CLIENT_SECRET: "client-secret",
  BFF_REDIRECT_URI: "https://app.example.com/bff/callback",
  BFF_POST_LOGOUT_REDIRECT_URI: "https://app.example.com/",
  BFF_API_BASE_URL: "https://api.example.com",
  BFF_COOKIE_SECRETS:
    "a-new-cookie-secret-of-32-characters-or-more, an-old-cookie-secret-of-32-characters-or-more",
};

function failure(env: NodeJS.ProcessEnv): string {
  try {
    bffSettingsFromEnvironment(env);
  } catch (error) {
    expect(error).toBeInstanceOf(BffError);
    return (error as BffError).message;
  }
  throw new Error("expected the environment to be refused");
}

describe("bffSettingsFromEnvironment", () => {
  it("reads a complete production environment, secrets newest first", () => {
    const { config, port, host } = bffSettingsFromEnvironment({ ...VALID, BFF_PORT: "8080" });
    expect(port).toBe(8080);
    expect(bffSettingsFromEnvironment({ ...VALID, BFF_REDIS_URL: "redis://localhost:6379" }).redisUrl).toBe(
      "redis://localhost:6379",
    );
    expect(host).toBe("localhost");
    expect(config.mode).toBe("production");
    expect(config.cookieSecrets).toEqual([
      "a-new-cookie-secret-of-32-characters-or-more",
      "an-old-cookie-secret-of-32-characters-or-more",
    ]);
  });

  it("names every missing variable in one message, and no secret value", () => {
    const message = failure({ BFF_CLIENT_SECRET: "do-not-print-me" });
    for (const name of [
      "BFF_ISSUER",
      "BFF_CLIENT_ID",
      "BFF_REDIRECT_URI",
      "BFF_POST_LOGOUT_REDIRECT_URI",
      "BFF_API_BASE_URL",
      "BFF_COOKIE_SECRETS",
    ]) {
      expect(message).toContain(name);
    }
    expect(message).not.toContain("do-not-print-me");
  });

  it("refuses a short cookie secret and a plain-http issuer in production", () => {
    expect(failure({ ...VALID, BFF_COOKIE_SECRETS: "short" })).toMatch(/BFF_COOKIE_SECRETS .*32 characters/);
    expect(failure({ ...VALID, BFF_ISSUER: "http://127.0.0.1:4000" })).toMatch(/BFF_ISSUER must use https/);
  });

  it("allows a loopback http issuer only with the loud switch, and the switch only outside production", () => {
    const local = { ...VALID, BFF_ISSUER: "http://127.0.0.1:4000", BFF_MODE: "development" };
    expect(failure(local)).toMatch(/dangerouslyAllowInsecureHttpIssuer/);
    const allowed = bffSettingsFromEnvironment({
      ...local,
      BFF_DANGEROUSLY_ALLOW_INSECURE_HTTP_ISSUER: "true",
    });
    expect(allowed.config.dangerouslyAllowInsecureHttpIssuer).toBe(true);
    expect(
      failure({ ...VALID, BFF_DANGEROUSLY_ALLOW_INSECURE_HTTP_ISSUER: "true", BFF_MODE: "production" }),
    ).toMatch(/only works with BFF_MODE=development or test/);
    expect(
      failure({
        ...local,
        BFF_ISSUER: "http://idp.internal:4000",
        BFF_DANGEROUSLY_ALLOW_INSECURE_HTTP_ISSUER: "true",
      }),
    ).toMatch(/loopback/);
  });

  it("refuses an API on plain http outside this machine: the access token would travel in clear", () => {
    expect(failure({ ...VALID, BFF_API_BASE_URL: "http://api.internal" })).toMatch(
      /BFF_API_BASE_URL must use https/,
    );
  });

  it("reads the API routes the proxy forwards, and refuses a route without a method", () => {
    const { config } = bffSettingsFromEnvironment({
      ...VALID,
      BFF_API_ROUTES: "GET POST /contacts, delete /contacts/*",
    });
    expect(config.apiRoutes).toEqual([
      { path: "/contacts", methods: ["GET", "POST"] },
      { path: "/contacts/*", methods: ["delete"] },
    ]);
    expect(failure({ ...VALID, BFF_API_ROUTES: "/contacts" })).toMatch(
      /BFF_API_ROUTES route \/contacts needs at least one method/,
    );
  });

  it("reads the scopes a route needs after its path", () => {
    const { config } = bffSettingsFromEnvironment({
      ...VALID,
      BFF_API_ROUTES:
        "GET /contacts, POST /contacts contacts:write, DELETE /contacts/* contacts:write extra:x",
    });
    expect(config.apiRoutes).toEqual([
      { path: "/contacts", methods: ["GET"] },
      { path: "/contacts", methods: ["POST"], scopes: ["contacts:write"] },
      { path: "/contacts/*", methods: ["DELETE"], scopes: ["contacts:write", "extra:x"] },
    ]);
  });

  it("reads how the API's token is asked for: Auth0's audience, Entra's API scopes", () => {
    expect(
      bffSettingsFromEnvironment({ ...VALID, BFF_AUDIENCE: "https://contacts.example" }).config.audience,
    ).toBe("https://contacts.example");
    expect(
      bffSettingsFromEnvironment({ ...VALID, BFF_API_SCOPES: "api://1234/contacts.read" }).config.apiScopes,
    ).toBe("api://1234/contacts.read");
  });

  it("refuses two ways of asking for the API's token at once, and API scopes that are OpenID scopes", () => {
    expect(
      failure({ ...VALID, BFF_RESOURCE: "https://api.example.com", BFF_AUDIENCE: "https://api.example.com" }),
    ).toMatch(/BFF_AUDIENCE cannot be combined with resource/);
    expect(failure({ ...VALID, BFF_API_SCOPES: "openid api://1234/contacts.read" })).toMatch(
      /BFF_API_SCOPES must name only the API's scopes/,
    );
  });

  it("reads extra authorization parameters in query form, and refuses the BFF's own parameters", () => {
    const { config } = bffSettingsFromEnvironment({
      ...VALID,
      BFF_AUTHORIZATION_PARAMS: "access_type=offline&prompt=consent",
    });
    expect(config.authorizationParams).toEqual({ access_type: "offline", prompt: "consent" });
    expect(failure({ ...VALID, BFF_AUTHORIZATION_PARAMS: "nonce=fixed" })).toMatch(
      /BFF_AUTHORIZATION_PARAMS must not set "nonce"/,
    );
    expect(failure({ ...VALID, BFF_AUTHORIZATION_PARAMS: "response_mode=form_post" })).toMatch(
      /BFF_AUTHORIZATION_PARAMS must not set "response_mode"/,
    );
    expect(failure({ ...VALID, BFF_AUTHORIZATION_PARAMS: "prompt=login&prompt=consent" })).toMatch(
      /BFF_AUTHORIZATION_PARAMS names "prompt" twice/,
    );
  });

  it("refuses a redirect URI that is not the BFF's callback route", () => {
    expect(failure({ ...VALID, BFF_REDIRECT_URI: "https://app.example.com/callback" })).toMatch(
      /BFF_REDIRECT_URI must end in \/bff\/callback/,
    );
  });
});
