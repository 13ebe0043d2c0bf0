import { describe, expect, it } from "vitest";
import { claimRows, claimText } from "./claims.ts";

describe("claimRows", () => {
  const claims = {
    email: "alice@example.com",
    sub: "user-alice",
    exp: 1_778_594_585,
    iss: "http://127.0.0.1:4000",
    aud: "web-bff",
    email_verified: true,
    iat: 1_778_594_285,
    amr: ["pwd"],
  };

  it("puts the registered claims first, in a fixed order, and the rest alphabetically", () => {
    expect(claimRows(claims).map((row) => row.name)).toEqual([
      "iss",
      "sub",
      "aud",
      "exp",
      "iat",
      "amr",
      "email",
      "email_verified",
    ]);
  });

  it("shows strings as they are and other values as JSON", () => {
    const rows = Object.fromEntries(claimRows(claims).map((row) => [row.name, row.text]));
    expect(rows.iss).toBe("http://127.0.0.1:4000");
    expect(rows.email_verified).toBe("true");
    expect(rows.amr).toBe('["pwd"]');
    expect(rows.exp).toBe("1778594585");
  });

  it("also reads NumericDate claims as dates", () => {
    const rows = claimRows(claims);
    expect(rows.find((row) => row.name === "exp")?.date?.toISOString()).toBe("2026-05-12T14:03:05.000Z");
    expect(rows.find((row) => row.name === "sub")?.date).toBeNull();
  });

  it("does not read a date out of a NumericDate claim that is not a number", () => {
    expect(claimRows({ exp: "soon" })[0]?.date).toBeNull();
  });
});

describe("claimText", () => {
  it("is total over JSON values", () => {
    expect(claimText(null)).toBe("null");
    expect(claimText({ a: 1 })).toBe('{"a":1}');
    expect(claimText(undefined)).toBe("undefined");
  });
});
