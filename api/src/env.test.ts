import { describe, expect, it } from "vitest";

import { apiSettingsFromEnvironment } from "./env.ts";
import { ApiError } from "./errors.ts";

describe("apiSettingsFromEnvironment", () => {
  it("uses the development defaults when nothing is set", () => {
    expect(apiSettingsFromEnvironment({}, "/repo")).toEqual({
      host: "localhost",
      port: 4001,
      config: {
        issuer: "http://127.0.0.1:4000",
        audience: "http://localhost:4001",
        dbPath: "/repo/.data/api/contacts.sqlite",
        seed: true,
        tokenTypes: ["at+jwt"],
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
      },
      "/repo",
    );
    expect(settings).toEqual({
      host: "127.0.0.1",
      port: 0,
      config: {
        issuer: "https://idp.example.com/realms/demo",
        audience: "https://api.example.com",
        dbPath: "/data/contacts.sqlite",
        seed: false,
        tokenTypes: ["JWT", "at+jwt"],
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
});
