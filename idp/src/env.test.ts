import { describe, expect, it } from "vitest";

import { DEV_COOKIE_KEYS, DEV_WEB_BFF_SECRET } from "./config.ts";
import { idpSettingsFromEnvironment } from "./env.ts";

const repo = "/repo";

describe("idpSettingsFromEnvironment", () => {
  it("uses the development defaults when nothing is set", () => {
    const { config, host, port } = idpSettingsFromEnvironment({}, repo);
    expect(host).toBe("127.0.0.1");
    expect(port).toBe(4000);
    expect(config).toMatchObject({
      issuer: "http://127.0.0.1:4000",
      mode: "development",
      storePath: "/repo/.data/idp/idp.sqlite",
      keysPath: "/repo/.data/idp/jwks.json",
      cookieKeys: DEV_COOKIE_KEYS,
      api: { audience: "http://localhost:4001" },
    });
    expect(config.clients[0]?.clientSecret).toBe(DEV_WEB_BFF_SECRET);
    expect(config.ttl.accessToken).toBe(300);
    expect(config.insecureTokenLogFile).toBeUndefined();
  });

  it("reads every variable", () => {
    const { config, port } = idpSettingsFromEnvironment(
      {
        IDP_ISSUER: "http://localhost:4100",
        IDP_PORT: "4200",
        IDP_DATA_DIR: "/data",
        IDP_COOKIE_KEYS: "key-one, key-two",
        IDP_WEB_BFF_SECRET: "s3cret",
        IDP_WEB_BFF_REDIRECT_URIS: "http://localhost:3000/cb",
        IDP_WEB_BFF_POST_LOGOUT_REDIRECT_URIS: "http://localhost:3000/",
        IDP_API_AUDIENCE: "http://localhost:4999",
        IDP_ACCESS_TOKEN_TTL: "60",
        IDP_INSECURE_TOKEN_LOG_FILE: "/tmp/tokens.log",
      },
      repo,
    );
    expect(port).toBe(4200);
    expect(config).toMatchObject({
      issuer: "http://localhost:4100",
      storePath: "/data/idp.sqlite",
      cookieKeys: ["key-one", "key-two"],
      api: { audience: "http://localhost:4999" },
      ttl: { accessToken: 60 },
      insecureTokenLogFile: "/tmp/tokens.log",
    });
    expect(config.clients[0]).toMatchObject({
      clientSecret: "s3cret",
      redirectUris: ["http://localhost:3000/cb"],
      postLogoutRedirectUris: ["http://localhost:3000/"],
    });
  });

  it("fails fast, naming every bad variable", () => {
    expect(() =>
      idpSettingsFromEnvironment(
        {
          IDP_MODE: "staging",
          IDP_ISSUER: "ftp://x",
          IDP_PORT: "70000",
          IDP_WEB_BFF_REDIRECT_URIS: "not a url",
          IDP_ACCESS_TOKEN_TTL: "-5",
          IDP_USERS_FILE: "/nonexistent/users.json",
        },
        repo,
      ),
    ).toThrow(
      /IDP_MODE[\s\S]*IDP_ISSUER[\s\S]*IDP_PORT[\s\S]*IDP_USERS_FILE[\s\S]*IDP_WEB_BFF_REDIRECT_URIS[\s\S]*IDP_ACCESS_TOKEN_TTL/,
    );
  });

  it("has no defaults for secrets in production, and refuses the token log there", () => {
    let message = "";
    try {
      idpSettingsFromEnvironment({ IDP_MODE: "production", IDP_INSECURE_TOKEN_LOG_FILE: "/tmp/t" }, repo);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("IDP_COOKIE_KEYS is required in production");
    expect(message).toContain("IDP_WEB_BFF_SECRET is required in production");
    expect(message).toContain("IDP_INSECURE_TOKEN_LOG_FILE is a test aid");
  });
});
