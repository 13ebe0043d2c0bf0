import { describe, expect, it } from "vitest";

import { describeClaims, describeParameters, describeToken, presence } from "./redact.ts";

const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const jwt = (header: unknown, claims: unknown) => `${segment(header)}.${segment(claims)}.c2lnbmF0dXJl`;

describe("redaction by allowlist", () => {
  it("shows allowlisted claims and describes every other one without its value", () => {
    const described = describeClaims({ sub: "user-alice", nonce: "n-0123456789", secret_thing: { a: 1 } });
    expect(described).toEqual({
      sub: "user-alice",
      nonce: "present, 12 chars (value not shown)",
      secret_thing: "present, object (not shown)",
    });
  });

  it("decodes a JWT's header and claims but never keeps the token or its signature", () => {
    const token = jwt(
      { alg: "RS256", kid: "k1", x5c: ["MIIB"] },
      { iss: "https://op", jti: "jti-0123456789" },
    );
    const described = describeToken(token, { decode: true });
    expect(described).toMatchObject({
      length: token.length,
      header: { alg: "RS256", kid: "k1", x5c: "present, a list of 1 (not shown)" },
      claims: { iss: "https://op", jti: "present, 14 chars (value not shown)" },
    });
    const text = JSON.stringify(described);
    expect(text).not.toContain(token);
    expect(text).not.toContain("c2lnbmF0dXJl");
  });

  it("gives only kind and length when asked not to decode (refresh tokens), even for a JWT", () => {
    expect(describeToken(jwt({ alg: "RS256" }, { sub: "x" }), { decode: false })).toEqual({
      length: expect.any(Number),
      value: "not shown",
    });
    expect(describeToken("opaque-value-123", { decode: true })).toMatchObject({
      format: expect.stringMatching(/^opaque/),
    });
    expect(describeToken(undefined, { decode: true })).toBe("absent");
  });

  it("shows allowlisted parameters, describes secret ones, and names any other without its value", () => {
    const parameters = new URLSearchParams({ client_id: "web-bff", state: "s-0123456789", surprise: "boo" });
    expect(describeParameters(parameters, { shown: ["client_id"], secret: ["state"] })).toEqual({
      client_id: "web-bff",
      state: "present, 12 chars (value not shown)",
      surprise: "present (not shown)",
    });
    expect(presence("")).toBe("absent");
  });
});
