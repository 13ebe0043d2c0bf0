import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { apiSettingsFromEnvironment } from "./env.ts";
import { ApiError } from "./errors.ts";

describe("apiSettingsFromEnvironment", () => {
  it("uses the development defaults when nothing is set", () => {
    expect(apiSettingsFromEnvironment({}, "/repo")).toEqual({
      host: "localhost",
      port: 4001,
      accessLog: true,
      config: {
        issuer: "http://127.0.0.1:4000",
        audience: "http://localhost:4001",
        dbPath: "/repo/.data/api/contacts.sqlite",
        seed: true,
        tokenTypes: ["at+jwt"],
        tokenValidation: { mode: "jwt" },
      },
    });
  });

  it("reads every variable", () => {
    const settings = apiSettingsFromEnvironment(
      {
        API_PORT: "0",
        API_HOST: "127.0.0.1",
        API_ISSUER: "https://idp.example.com/realms/demo",
        API_AUDIENCE: "https://api.example.com",
        API_DB_PATH: "/data/contacts.sqlite",
        API_SEED: "false",
        API_TOKEN_TYPES: "JWT, at+jwt",
        API_ACCESS_LOG: "off",
      },
      "/repo",
    );
    expect(settings).toEqual({
      host: "127.0.0.1",
      port: 0,
      accessLog: false,
      config: {
        issuer: "https://idp.example.com/realms/demo",
        audience: "https://api.example.com",
        dbPath: "/data/contacts.sqlite",
        seed: false,
        tokenTypes: ["JWT", "at+jwt"],
        tokenValidation: { mode: "jwt" },
      },
    });
  });

  it("lists every bad variable in one error", () => {
    let error: unknown;
    try {
      apiSettingsFromEnvironment(
        { API_PORT: "70000", API_ISSUER: "ftp://idp", API_AUDIENCE: "not a url", API_SEED: "maybe" },
        "/repo",
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("invalid_config");
    const message = (error as ApiError).message;
    for (const name of ["API_PORT", "API_ISSUER", "API_AUDIENCE", "API_SEED"])
      expect(message).toContain(name);
  });

  describe("API_TOKEN_VALIDATION=introspection", () => {
    const introspection = (env: Record<string, string>) =>
      apiSettingsFromEnvironment({ API_TOKEN_VALIDATION: "introspection", ...env }, "/repo").config
        .tokenValidation;
    const problems = (env: Record<string, string>) => {
      try {
        introspection(env);
      } catch (error) {
        return (error as ApiError).message;
      }
      throw new Error("accepted");
    };

    it("reads the client id, the secret and the cache lifetime", () => {
      expect(
        introspection({
          API_INTROSPECTION_CLIENT_ID: "resource-server",
          API_INTROSPECTION_CLIENT_SECRET: " s3cret ",
          API_INTROSPECTION_CACHE_SECONDS: "10",
        }),
      ).toEqual({
        mode: "introspection",
        clientId: "resource-server",
        clientSecret: "s3cret",
        cacheSeconds: 10,
      });
    });

    it("defaults to the contacts-api client and no cache", () => {
      expect(introspection({ API_INTROSPECTION_CLIENT_SECRET: "s3cret" })).toEqual({
        mode: "introspection",
        clientId: "contacts-api",
        clientSecret: "s3cret",
        cacheSeconds: 0,
      });
    });

    it("reads the secret from a file", () => {
      const dir = mkdtempSync(join(tmpdir(), "api-env-"));
      try {
        const file = join(dir, "secret");
        writeFileSync(file, "from-a-file\n");
        expect(introspection({ API_INTROSPECTION_CLIENT_SECRET_FILE: file })).toMatchObject({
          clientSecret: "from-a-file",
        });
        writeFileSync(file, "\n");
        expect(problems({ API_INTROSPECTION_CLIENT_SECRET_FILE: file })).toContain("is empty");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("requires exactly one source for the secret, and never prints it", () => {
      expect(problems({})).toContain(
        "API_INTROSPECTION_CLIENT_SECRET or API_INTROSPECTION_CLIENT_SECRET_FILE is required",
      );
      const both = problems({
        API_INTROSPECTION_CLIENT_SECRET: "do-not-print-me",
        API_INTROSPECTION_CLIENT_SECRET_FILE: "/run/secrets/api",
      });
      expect(both).toContain("not both");
      expect(both).not.toContain("do-not-print-me");
      expect(problems({ API_INTROSPECTION_CLIENT_SECRET_FILE: "/nonexistent/secret" })).toContain("ENOENT");
    });

    it("refuses an unknown mode and a cache longer than 60 s", () => {
      expect(() => apiSettingsFromEnvironment({ API_TOKEN_VALIDATION: "both" }, "/repo")).toThrow(
        /API_TOKEN_VALIDATION must be "jwt" or "introspection"/,
      );
      for (const value of ["61", "-1", "1.5", "soon"]) {
        expect(
          problems({ API_INTROSPECTION_CLIENT_SECRET: "s", API_INTROSPECTION_CACHE_SECONDS: value }),
        ).toContain("API_INTROSPECTION_CACHE_SECONDS");
      }
    });
  });
});
