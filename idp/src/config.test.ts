import { describe, expect, it } from "vitest";

import { createIdp } from "./app.ts";
import { assertProductionReady, developmentIdpConfig, type IdpConfig } from "./config.ts";
import { hashPassword } from "./password.ts";

const devConfig = () => developmentIdpConfig({ storePath: ":memory:", keysPath: null });

async function productionConfig(): Promise<IdpConfig> {
  const base = developmentIdpConfig({
    issuer: "https://id.example.com",
    storePath: "/var/lib/idp/idp.sqlite",
    keysPath: "/var/lib/idp/jwks.json",
    webBff: {
      clientSecret: "a-real-secret-of-at-least-32-characters!",
      redirectUris: ["https://app.example.com/bff/callback"],
      postLogoutRedirectUris: ["https://app.example.com/"],
    },
    reportingService: { clientSecret: "another-real-secret-of-at-least-32-characters" },
    contactsApi: { clientSecret: "the-api-introspection-secret-of-32-characters" },
    apiAudience: "https://api.example.com",
  });
  return {
    ...base,
    mode: "production",
    cookieKeys: ["a-real-cookie-key-of-at-least-32-characters"],
    users: [
      {
        username: "carol",
        sub: "user-carol",
        passwordHash: await hashPassword("a long passphrase"),
        claims: {},
      },
    ],
  };
}

describe("assertProductionReady", () => {
  it("accepts a configuration without development defaults", async () => {
    await expect(assertProductionReady(await productionConfig())).resolves.toBeUndefined();
  });

  it("refuses the development configuration, listing every problem in one message", async () => {
    const error = await assertProductionReady({
      ...devConfig(),
      issuer: "http://id.example.com",
      insecureTokenLogFile: "/tmp/tokens.log",
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "IdpError", code: "not_production_ready" });
    const message = (error as Error).message;
    expect(message).toContain("issuer http://id.example.com must use https");
    expect(message).toContain("cookie key #1 is the development cookie key");
    expect(message).toContain('user "alice" has a development password');
    expect(message).toContain('user "bob" has a development password');
    expect(message).toContain("client web-bff: secret is the development secret");
    expect(message).toContain("client reporting-service: secret is the development secret");
    expect(message).toContain("client contacts-api: secret is the development secret");
    expect(message).toContain("store path is missing");
    expect(message).toContain("keys path is missing");
    expect(message).toContain("IDP_INSECURE_TOKEN_LOG_FILE");
  });

  it("allows an http issuer on loopback only", async () => {
    const config = { ...(await productionConfig()), issuer: "http://127.0.0.1:4000" };
    await expect(assertProductionReady(config)).resolves.toBeUndefined();
  });

  it("refuses missing and weak values", async () => {
    const good = await productionConfig();
    const config: IdpConfig = {
      ...good,
      cookieKeys: [],
      users: [],
      clients: [
        { ...(good.clients[0] as IdpConfig["clients"][number]), clientSecret: "short", redirectUris: [] },
      ],
      api: { ...good.api, audience: "" },
    };
    const message = await assertProductionReady(config).catch((e: Error) => e.message);
    expect(message).toContain("cookie keys are missing");
    expect(message).toContain("there are no users");
    expect(message).toContain("client web-bff: secret is shorter than 32 characters");
    expect(message).toContain("client web-bff: redirect URIs are missing");
    expect(message).toContain("API audience is missing");
  });

  it("is enforced by createIdp in production mode", async () => {
    await expect(createIdp({ ...devConfig(), mode: "production" })).rejects.toMatchObject({
      code: "not_production_ready",
    });
  });
});
