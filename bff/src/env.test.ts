import { generateKeyPairSync } from "node:crypto";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

  describe("client authentication", () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    const dir = mkdtempSync(join(tmpdir(), "bff-env-key-"));
    const pemFile = join(dir, "client-key.pem");
    writeFileSync(pemFile, pem, { mode: 0o600 });
    const jwkFile = join(dir, "client-key.json");
    writeFileSync(jwkFile, JSON.stringify({ ...privateKey.export({ format: "jwk" }), kid: "from-jwk" }), {
      mode: 0o600,
    });
    const openFile = join(dir, "readable-by-all.pem");
    writeFileSync(openFile, pem, { mode: 0o644 });
    chmodSync(openFile, 0o644);
    const { BFF_CLIENT_SECRET: _secret, ...WITHOUT_SECRET } = VALID;
    const KEYED = { ...WITHOUT_SECRET, BFF_CLIENT_AUTHENTICATION: "private_key_jwt" };

    it("refuses, in production, a key file other users may read, naming only the variable and path", () => {
      const message = failure({ ...KEYED, BFF_MODE: "production", BFF_CLIENT_PRIVATE_KEY_FILE: openFile });
      expect(message).toContain(
        `BFF_CLIENT_PRIVATE_KEY_FILE is readable by other users (mode 0644): chmod 600 ${openFile}`,
      );
      expect(message).not.toContain("PRIVATE KEY-----");
    });

    it("reads client_secret_post with the secret", () => {
      const { config } = bffSettingsFromEnvironment({
        ...VALID,
        BFF_CLIENT_AUTHENTICATION: "client_secret_post",
      });
      expect(config).toMatchObject({
        clientAuthentication: "client_secret_post",
        clientSecret: "client-secret",
      });
    });

    it("reads private_key_jwt's key from a file (PEM or JWK) and its key id, with no secret", () => {
      const { config } = bffSettingsFromEnvironment({
        ...KEYED,
        BFF_CLIENT_PRIVATE_KEY_FILE: pemFile,
        BFF_CLIENT_KEY_ID: "bff-2025",
        BFF_CLIENT_SIGNING_ALG: "ES256",
      });
      expect(config).toMatchObject({
        clientAuthentication: "private_key_jwt",
        clientPrivateKey: pem,
        clientKeyId: "bff-2025",
        clientSigningAlg: "ES256",
      });
      expect(config.clientSecret).toBeUndefined();
      const fromJwk = bffSettingsFromEnvironment({ ...KEYED, BFF_CLIENT_PRIVATE_KEY_FILE: jwkFile }).config;
      expect(JSON.parse(String(fromJwk.clientPrivateKey))).toMatchObject({ kty: "EC", kid: "from-jwk" });
    });

    it("refuses a key in a plain variable, a missing or unreadable key file, and never prints the key", () => {
      const message = failure({ ...KEYED, BFF_CLIENT_PRIVATE_KEY: pem });
      expect(message).toContain("BFF_CLIENT_PRIVATE_KEY is not read: put the key in a file");
      expect(message).toContain("BFF_CLIENT_PRIVATE_KEY_FILE is required with private_key_jwt");
      expect(message).not.toContain(pem.split("\n")[1]);
      expect(failure({ ...KEYED, BFF_CLIENT_PRIVATE_KEY_FILE: join(dir, "missing.pem") })).toMatch(
        /BFF_CLIENT_PRIVATE_KEY_FILE cannot be read \(.*missing\.pem: ENOENT\)/,
      );
      const notAKey = join(dir, "not-a-key.txt");
      writeFileSync(notAKey, "hunter2-not-a-key");
      const refused = failure({ ...KEYED, BFF_CLIENT_PRIVATE_KEY_FILE: notAKey });
      expect(refused).toMatch(/BFF_CLIENT_PRIVATE_KEY_FILE must be a PKCS#8 PEM private key/);
      expect(refused).not.toContain("hunter2");
    });

    it("refuses inconsistent combinations, naming the variables", () => {
      expect(
        failure({
          ...VALID,
          BFF_CLIENT_AUTHENTICATION: "private_key_jwt",
          BFF_CLIENT_PRIVATE_KEY_FILE: pemFile,
        }),
      ).toMatch(/BFF_CLIENT_SECRET must not be set with private_key_jwt/);
      expect(failure({ ...VALID, BFF_CLIENT_PRIVATE_KEY_FILE: pemFile })).toMatch(
        /BFF_CLIENT_PRIVATE_KEY_FILE is only used with private_key_jwt \(the client authentication is client_secret_basic\)/,
      );
      expect(failure({ ...WITHOUT_SECRET, BFF_CLIENT_AUTHENTICATION: "client_secret_post" })).toMatch(
        /BFF_CLIENT_SECRET is required \(client_secret_post\)/,
      );
      expect(failure({ ...VALID, BFF_CLIENT_AUTHENTICATION: "tls_client_auth" })).toMatch(
        /BFF_CLIENT_AUTHENTICATION must be one of client_secret_basic, client_secret_post, private_key_jwt/,
      );
      expect(
        failure({ ...KEYED, BFF_CLIENT_PRIVATE_KEY_FILE: pemFile, BFF_CLIENT_SIGNING_ALG: "RS256" }),
      ).toMatch(/BFF_CLIENT_SIGNING_ALG RS256 does not fit the key/);
    });
  });
});
