import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import {
  DEV_CONTACTS_API_SECRET,
  DEV_COOKIE_KEYS,
  DEV_WEB_BFF_BACKCHANNEL_LOGOUT_URI,
  DEV_WEB_BFF_SECRET,
} from "./config.ts";
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

describe("idpSettingsFromEnvironment: the API's introspection client and token format", () => {
  const contactsApi = (config: { clients: { clientId: string; clientSecret?: string }[] }) =>
    config.clients.find((client) => client.clientId === "contacts-api");

  it("adds IDP_API_EXTRA_SCOPES to the API and to what web-bff may ask for, and refuses OpenID scopes there", () => {
    const { config } = idpSettingsFromEnvironment({ IDP_API_EXTRA_SCOPES: "notes:read  notes:write" }, repo);
    expect(config.api.scopes).toEqual(expect.arrayContaining(["contacts:read", "notes:read", "notes:write"]));
    const webBff = config.clients.find((client) => client.clientId === "web-bff");
    expect(webBff?.scopes).toEqual(expect.arrayContaining(["notes:read", "notes:write"]));
    const reporting = config.clients.find((client) => client.clientId === "reporting-service");
    expect(reporting?.scopes).not.toContain("notes:read");
    expect(() => idpSettingsFromEnvironment({ IDP_API_EXTRA_SCOPES: "notes:read openid" }, repo)).toThrow(
      /IDP_API_EXTRA_SCOPES/,
    );
  });

  it("registers contacts-api with the development secret and issues JWTs by default", () => {
    const { config } = idpSettingsFromEnvironment({}, repo);
    expect(contactsApi(config)?.clientSecret).toBe(DEV_CONTACTS_API_SECRET);
    expect(config.api).toMatchObject({ accessTokenFormat: "jwt", introspectionClientId: "contacts-api" });
  });

  it("reads IDP_CONTACTS_API_SECRET and IDP_API_ACCESS_TOKEN_FORMAT", () => {
    const { config } = idpSettingsFromEnvironment(
      { IDP_CONTACTS_API_SECRET: "api-s3cret", IDP_API_ACCESS_TOKEN_FORMAT: "opaque" },
      repo,
    );
    expect(contactsApi(config)?.clientSecret).toBe("api-s3cret");
    expect(config.api.accessTokenFormat).toBe("opaque");
  });

  it("in production without IDP_CONTACTS_API_SECRET registers no introspecting client", () => {
    const secret = "a-production-secret-of-at-least-32-chars";
    const { config } = idpSettingsFromEnvironment(
      {
        IDP_MODE: "production",
        IDP_ISSUER: "https://id.example.com",
        IDP_COOKIE_KEYS: secret,
        IDP_WEB_BFF_SECRET: secret,
        IDP_REPORTING_SERVICE_SECRET: secret,
      },
      repo,
    );
    expect(contactsApi(config)).toBeUndefined();
    expect(config.api.introspectionClientId).toBeUndefined();
  });

  it("refuses an unknown access token format", () => {
    expect(() => idpSettingsFromEnvironment({ IDP_API_ACCESS_TOKEN_FORMAT: "jwe" }, repo)).toThrow(
      /IDP_API_ACCESS_TOKEN_FORMAT must be "jwt" or "opaque"/,
    );
  });
});

describe("idpSettingsFromEnvironment: the back-channel logout URI of a BFF that is not the development one", () => {
  const secret = "a-production-secret-of-at-least-32-chars";
  const production = {
    IDP_MODE: "production",
    IDP_ISSUER: "https://id.example.com",
    IDP_COOKIE_KEYS: secret,
    IDP_WEB_BFF_SECRET: secret,
    IDP_REPORTING_SERVICE_SECRET: secret,
    IDP_WEB_BFF_REDIRECT_URIS: "https://app.example.com/bff/callback",
    IDP_WEB_BFF_POST_LOGOUT_REDIRECT_URIS: "https://app.example.com/",
    IDP_TRUSTED_PROXIES: "127.0.0.1",
  };
  const webBff = (config: { clients: { clientId: string; backchannelLogoutUri?: string }[] }) =>
    config.clients.find((client) => client.clientId === "web-bff");

  it("left unset for a BFF on another port, still sends logout tokens to localhost:3000, and warns", () => {
    const { config, warnings } = idpSettingsFromEnvironment(
      { IDP_WEB_BFF_REDIRECT_URIS: "http://localhost:3100/bff/callback" },
      repo,
    );
    expect(webBff(config)?.backchannelLogoutUri).toBe(DEV_WEB_BFF_BACKCHANNEL_LOGOUT_URI);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI is not set: logout tokens for web-bff go to http:\/\/localhost:3000\/bff\/backchannel-logout.*IDP_WEB_BFF_REDIRECT_URIS/,
      ),
    ]);
  });

  it("left unset in production, warns even when the redirect URIs also name localhost:3000", () => {
    const { warnings } = idpSettingsFromEnvironment(
      { ...production, IDP_WEB_BFF_REDIRECT_URIS: "http://localhost:3000/bff/callback" },
      repo,
    );
    expect(warnings).toEqual([expect.stringContaining("IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI is not set")]);
  });

  it("does not warn once it is set (or turned off), nor for the development system on one laptop", () => {
    const set = {
      ...production,
      IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI: "https://app.example.com/bff/backchannel-logout",
    };
    const { config, warnings } = idpSettingsFromEnvironment(set, repo);
    expect(webBff(config)?.backchannelLogoutUri).toBe("https://app.example.com/bff/backchannel-logout");
    expect(warnings).toEqual([]);
    expect(
      idpSettingsFromEnvironment({ ...production, IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI: "none" }, repo)
        .warnings,
    ).toEqual([]);
    expect(idpSettingsFromEnvironment({}, repo).warnings).toEqual([]);
    expect(
      idpSettingsFromEnvironment(
        {
          IDP_WEB_BFF_REDIRECT_URIS: "http://localhost:3000/bff/callback, http://localhost:5173/bff/callback",
        },
        repo,
      ).warnings,
    ).toEqual([]);
  });
});

describe("idpSettingsFromEnvironment: IDP_CLIENTS_FILE", () => {
  const dir = mkdtempSync(join(tmpdir(), "idp-env-clients-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const secret = "a-production-secret-of-at-least-32-chars";
  const file = (clients: unknown[]) => {
    const path = join(dir, `${clients.length}-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify({ clients }));
    return path;
  };
  const anotherBff = {
    client_id: "web-bff",
    redirect_uris: ["https://app.example.com/bff/callback"],
    client_secret_env: "APP_CLIENT_SECRET",
    scope: "openid profile contacts:read",
    backchannel_logout_uri: "https://app.example.com/bff/backchannel-logout",
  };

  it("replaces a built-in client: its IDP_WEB_BFF_* variables are then not needed, nor warned about", () => {
    const { config, warnings } = idpSettingsFromEnvironment(
      {
        IDP_MODE: "production",
        IDP_COOKIE_KEYS: secret,
        IDP_REPORTING_SERVICE_SECRET: secret,
        IDP_CLIENTS_FILE: file([anotherBff]),
        APP_CLIENT_SECRET: secret,
      },
      repo,
    );
    expect(warnings).toEqual([]);
    expect(config.clients.filter((client) => client.clientId === "web-bff")).toEqual([
      expect.objectContaining({ clientSecret: secret, redirectUris: anotherBff.redirect_uris }),
    ]);
  });

  it("names the file's mistakes together with the other variables'", () => {
    let message = "";
    try {
      idpSettingsFromEnvironment(
        {
          IDP_ACCESS_TOKEN_TTL: "0",
          IDP_CLIENTS_FILE: file([{ ...anotherBff, client_secret_env: "UNSET" }]),
        },
        repo,
      );
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("IDP_ACCESS_TOKEN_TTL must be");
    expect(message).toContain(
      'IDP_CLIENTS_FILE: client "web-bff": client_secret_env names UNSET, which is not set',
    );
  });

  it("opens a contacts-api from the file for introspection even without IDP_CONTACTS_API_SECRET", () => {
    const { config } = idpSettingsFromEnvironment(
      {
        IDP_MODE: "production",
        IDP_COOKIE_KEYS: secret,
        IDP_WEB_BFF_SECRET: secret,
        IDP_REPORTING_SERVICE_SECRET: secret,
        IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI: "none",
        IDP_CLIENTS_FILE: file([
          { client_id: "contacts-api", grant_types: [], client_secret_env: "API_SECRET" },
        ]),
        API_SECRET: secret,
      },
      repo,
    );
    expect(config.api.introspectionClientId).toBe("contacts-api");
    expect(config.clients.find((client) => client.clientId === "contacts-api")?.clientSecret).toBe(secret);
  });
});

describe("idpSettingsFromEnvironment: the reverse proxies whose X-Forwarded-For is believed", () => {
  const https = { IDP_ISSUER: "https://id.example.com" };

  it("believes none by default, and warns when the issuer is https (a proxy in front)", () => {
    const { config, warnings } = idpSettingsFromEnvironment(https, repo);
    expect(config.trustedProxies).toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining("IDP_TRUSTED_PROXIES is not set")]);
    expect(idpSettingsFromEnvironment({}, repo).warnings).toEqual([]);
  });

  it("reads IP addresses, and refuses anything else", () => {
    const { config, warnings } = idpSettingsFromEnvironment(
      { ...https, IDP_TRUSTED_PROXIES: "127.0.0.1, ::1" },
      repo,
    );
    expect(config.trustedProxies).toEqual(["127.0.0.1", "::1"]);
    expect(warnings).toEqual([]);
    expect(() => idpSettingsFromEnvironment({ IDP_TRUSTED_PROXIES: "proxy.internal" }, repo)).toThrow(
      /IDP_TRUSTED_PROXIES must be comma-separated IP addresses \(got "proxy.internal"\)/,
    );
  });
});
