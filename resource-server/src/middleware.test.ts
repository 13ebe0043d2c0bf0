import { describe, expect, it } from "vitest";

import { TokenError } from "./errors.ts";
import { bearerToken } from "./middleware.ts";

function refusal(header: string | undefined): string {
  try {
    bearerToken(header);
  } catch (error) {
    if (error instanceof TokenError) return error.code;
    throw error;
  }
  throw new Error(`accepted ${header}`);
}

describe("bearerToken", () => {
  it("returns the token of a Bearer header, whatever the scheme's case", () => {
    expect(bearerToken("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(bearerToken("bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(bearerToken("BEARER   abc-_~+/=")).toBe("abc-_~+/=");
  });

  it("calls a missing header or another scheme a missing token (no error code, RFC 6750 §3.1)", () => {
    expect(refusal(undefined)).toBe("token_missing");
    expect(refusal("")).toBe("token_missing");
    expect(refusal("Basic dXNlcjpwYXNz")).toBe("token_missing");
    expect(refusal("Bearerabc")).toBe("token_missing");
  });

  it("calls an empty or malformed bearer token invalid", () => {
    expect(refusal("Bearer")).toBe("invalid_token");
    expect(refusal("Bearer    ")).toBe("invalid_token");
    expect(refusal("Bearer a b")).toBe("invalid_token");
    expect(refusal('Bearer a"b')).toBe("invalid_token");
    expect(refusal("Bearer abc, Bearer def")).toBe("invalid_token");
    expect(refusal("Bearer =abc")).toBe("invalid_token");
    expect(refusal(`Bearer ${"a".repeat(10_000)}`)).toBe("invalid_token");
  });
});
