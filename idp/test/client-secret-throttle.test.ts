/**
 * Guessing client secrets is slowed down at every endpoint that authenticates
 * clients (ADR 022): an address that keeps failing client authentication is
 * answered 429 before anything is checked, while a client named in the guesses
 * is only answered later, so the real client keeps working from its own address.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createIdp } from "../src/app.ts";
import { createClientAuthenticationThrottle } from "../src/client-auth-throttle.ts";
import { DEV_CONTACTS_API_SECRET, DEV_REPORTING_SERVICE_SECRET } from "../src/config.ts";
import type { Idp } from "../src/index.ts";
import { API, backChannel, basicAuth, testConfig, testIdp } from "./helpers.ts";

const REAL_CLIENT = "127.0.0.1";

/** client_credentials for the reporting service, with the given secret, from the given address. */
function asReportingService(idp: Idp, secret: string, from: string) {
  return backChannel(
    idp,
    "/token",
    { grant_type: "client_credentials", scope: "contacts:stats", resource: API },
    { authorization: basicAuth("reporting-service", secret) },
    { remoteAddress: from },
  );
}

describe("wrong client secrets at the token endpoint", () => {
  let idp: Idp;
  beforeAll(async () => {
    idp = await testIdp();
  });
  afterAll(async () => {
    await idp.close();
  });

  it("get 429 after ten from one address, while the real client still gets tokens from its own (X20)", async () => {
    const attacker = "198.51.100.50";
    for (let i = 0; i < 10; i++) {
      const { status, body } = await asReportingService(idp, `guess-${i}`, attacker);
      expect([status, body.error]).toEqual([401, "invalid_client"]);
    }

    // Even the right secret is not looked at from there now.
    const refused = await asReportingService(idp, DEV_REPORTING_SERVICE_SECRET, attacker);
    expect(refused.status).toBe(429);
    expect(Number(refused.response.headers["retry-after"])).toBeGreaterThan(4 * 60);
    expect(refused.response.headers["cache-control"]).toBe("no-store");
    expect(refused.response.headers["content-type"]).toMatch(/^application\/json/);
    expect(refused.response.headers["x-frame-options"]).toBe("DENY");
    expect(refused.response.headers["www-authenticate"]).toBeUndefined();
    expect(refused.body.error).toBe("invalid_client");
    expect(String(refused.body.error_description)).toMatch(/too many failed client authentications.*seconds/);

    const real = await asReportingService(idp, DEV_REPORTING_SERVICE_SECRET, REAL_CLIENT);
    expect(real.status, JSON.stringify(real.body)).toBe(200);
    expect(real.body.access_token).toEqual(expect.any(String));
  });

  it("are counted at every endpoint that authenticates clients, by Basic or in the form, known client or not", async () => {
    const attacker = "198.51.100.51";
    const wrong = { authorization: basicAuth("contacts-api", "wrong") };
    const from = { remoteAddress: attacker };
    const answers = [
      await backChannel(idp, "/token/introspection", { token: "x" }, wrong, from),
      await backChannel(idp, "/token/revocation", { token: "x" }, wrong, from),
      await backChannel(idp, "/device/auth", { scope: "openid" }, wrong, from),
      await backChannel(
        idp,
        "/token",
        { grant_type: "client_credentials", client_id: "reporting-service", client_secret: "wrong" },
        { authorization: "" },
        from,
      ),
      await backChannel(
        idp,
        "/token",
        { grant_type: "client_credentials" },
        { authorization: basicAuth("no-such-client", "x") },
        from,
      ),
    ];
    expect(answers.map((answer) => answer.body.error)).toEqual(Array(5).fill("invalid_client"));
    for (let i = answers.length; i < 10; i++) {
      expect((await backChannel(idp, "/token/introspection", { token: "x" }, wrong, from)).status).toBe(401);
    }
    const right = { authorization: basicAuth("contacts-api", DEV_CONTACTS_API_SECRET) };
    expect((await backChannel(idp, "/token/introspection", { token: "x" }, right, from)).status).toBe(429);
    expect((await backChannel(idp, "/token/revocation", { token: "x" }, right, from)).status).toBe(429);
    expect((await backChannel(idp, "/token/introspection", { token: "x" }, right)).status).toBe(200);
  });

  it("do not count a request that authenticates and fails for another reason", async () => {
    const from = { remoteAddress: "198.51.100.52" };
    for (let i = 0; i < 12; i++) {
      const { status, body } = await backChannel(
        idp,
        "/token",
        {
          grant_type: "authorization_code",
          code: "bogus",
          redirect_uri: "http://localhost:3000/bff/callback",
        },
        {},
        from,
      );
      expect([status, body.error]).toEqual([400, "invalid_grant"]);
    }
  });
});

describe("an address refused for wrong client secrets", () => {
  let clock = 0;
  let idp: Idp;
  beforeAll(async () => {
    const clientAuthenticationThrottle = createClientAuthenticationThrottle({ now: () => clock });
    idp = await createIdp(testConfig(), { clientAuthenticationThrottle });
  });
  afterAll(async () => {
    await idp.close();
  });

  it("gets tokens with the right secret again once the five-minute window has passed (X20)", async () => {
    const attacker = "198.51.100.60";
    for (let i = 0; i < 10; i++) expect((await asReportingService(idp, "wrong", attacker)).status).toBe(401);
    clock += 4 * 60 * 1000;
    expect((await asReportingService(idp, DEV_REPORTING_SERVICE_SECRET, attacker)).status).toBe(429);
    clock += 60 * 1000 + 1;
    const { status, body } = await asReportingService(idp, DEV_REPORTING_SERVICE_SECRET, attacker);
    expect(status, JSON.stringify(body)).toBe(200);
  });
});

describe("a client whose secret many addresses get wrong (X20)", () => {
  let idp: Idp;
  beforeAll(async () => {
    // The real delay, scaled down: none for two wrong secrets, then 40 ms doubling up to 160 ms.
    const clientAuthenticationThrottle = createClientAuthenticationThrottle({
      clientDelay: { free: 2, baseMs: 40, maxMs: 160 },
    });
    idp = await createIdp(testConfig(), { clientAuthenticationThrottle });
  });
  afterAll(async () => {
    await idp.close();
  });

  async function timed(secret: string, from: string, inForm = false) {
    const started = performance.now();
    const { status } = inForm
      ? await backChannel(
          idp,
          "/token",
          {
            grant_type: "client_credentials",
            scope: "contacts:stats",
            resource: API,
            client_id: "reporting-service",
            client_secret: secret,
          },
          { authorization: "" },
          { remoteAddress: from },
        )
      : await asReportingService(idp, secret, from);
    return { status, ms: performance.now() - started };
  }

  it("is answered later as the wrong secrets grow, Basic or form alike, and the real client still gets tokens", async () => {
    const expected = [0, 0, 40, 80, 160, 160];
    for (const [i, delay] of expected.entries()) {
      const { status, ms } = await timed("wrong", `198.51.100.${70 + i}`, i % 2 === 1);
      expect(status).toBe(401);
      expect(ms).toBeGreaterThanOrEqual(delay - 5);
    }
    const real = await timed(DEV_REPORTING_SERVICE_SECRET, REAL_CLIENT);
    expect(real.status).toBe(200);
    expect(real.ms).toBeGreaterThanOrEqual(155);
  });
});

describe("the client authentication throttle", () => {
  it("refuses an address past its limit over a sliding window, and delays a client up to 2 s", () => {
    let clock = 0;
    const throttle = createClientAuthenticationThrottle({ perAddress: 2, windowMs: 1000, now: () => clock });
    throttle.recordFailure("a1");
    expect(throttle.refusalSeconds("a1")).toBe(0);
    throttle.recordFailure("a1");
    expect(throttle.refusalSeconds("a1")).toBe(1);
    expect(throttle.refusalSeconds("a2")).toBe(0);
    clock = 1001;
    expect(throttle.refusalSeconds("a1")).toBe(0);

    const delays: number[] = [];
    for (let i = 0; i < 16; i++) {
      delays.push(throttle.delayMs("web-bff"));
      throttle.recordWrongSecret("web-bff");
    }
    expect(delays).toEqual([...Array(10).fill(0), 250, 500, 1000, 2000, 2000, 2000]);
    expect(throttle.delayMs("reporting-service")).toBe(0);
  });
});
