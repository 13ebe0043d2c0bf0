/**
 * The test controls that end-to-end suites use to reach the "access token
 * expired" and "refresh token revoked" states. What they cause must be the
 * real thing: a refresh at the real IdP, a real invalid_grant.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { validateConfig } from "../src/config.ts";
import { BFF, COOKIE_SECRET, logIn, startSystem, type TestSystem } from "./harness.ts";

let system: TestSystem;

beforeEach(async () => {
  system = await startSystem({ dangerouslyEnableTestControls: true });
});
afterEach(() => system.close());

describe("test controls", () => {
  it("expire-access-token: the next API call refreshes at the IdP and succeeds", async () => {
    const alice = await logIn(system);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    const refreshes = system.refreshCount();

    expect((await alice.api("/bff/test/expire-access-token", { method: "POST" })).status).toBe(204);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    expect(system.refreshCount()).toBe(refreshes + 1);
    // Fresh again: no second refresh.
    expect((await alice.api("/api/contacts")).status).toBe(200);
    expect(system.refreshCount()).toBe(refreshes + 1);
  });

  it("revoke-refresh-token with a provider that has no revocation endpoint: refused at once, saying why", async () => {
    // As LemonLDAP::NG's discovery document: no revocation_endpoint.
    const routed = system.fetch;
    system.fetch = async (input, init) => {
      const answer = await routed(input, init);
      if (!new Request(input, init).url.endsWith("/.well-known/openid-configuration")) return answer;
      const { revocation_endpoint: _, ...metadata } = (await answer.json()) as Record<string, unknown>;
      return Response.json(metadata);
    };
    const alice = await logIn(system);
    const answer = await alice.api("/bff/test/revoke-refresh-token", { method: "POST" });
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as { detail: string }).detail).toMatch(/no revocation endpoint/);
    // Nothing was changed: the session still works without a refresh.
    expect((await alice.api("/api/contacts")).status).toBe(200);
  });

  it("revoke-refresh-token: the IdP refuses the next refresh, and the session ends with session_expired", async () => {
    const alice = await logIn(system);
    const revocations = system.idpRequests.filter((request) => request.endsWith("/token/revocation")).length;
    expect((await alice.api("/bff/test/revoke-refresh-token", { method: "POST" })).status).toBe(204);
    expect(system.idpRequests.filter((request) => request.endsWith("/token/revocation")).length).toBe(
      revocations + 1,
    );

    const answer = await alice.api("/api/contacts");
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ code: "session_expired" });
    expect(system.refreshCount()).toBeGreaterThan(0);
    expect(await (await alice.api("/bff/session")).json()).toMatchObject({ authenticated: false });
  });

  it("need the anti-CSRF header and a session", async () => {
    const alice = await logIn(system);
    const withoutHeader = await alice.fetch(`${BFF}/bff/test/expire-access-token`, { method: "POST" });
    expect(withoutHeader.status).toBe(403);
    const noSession = await system.fetch(`${BFF}/bff/test/revoke-refresh-token`, {
      method: "POST",
      headers: { "x-csrf": "1" },
    });
    expect(noSession.status).toBe(401);
  });

  it("do not exist unless enabled, and are refused in production mode (X1)", async () => {
    const plain = await startSystem();
    try {
      const alice = await logIn(plain);
      expect((await alice.api("/bff/test/expire-access-token", { method: "POST" })).status).toBe(404);
    } finally {
      await plain.close();
    }
    const problems = validateConfig({
      issuer: "https://idp.example",
      clientId: "web-bff",
      clientSecret: "secret",
      redirectUri: "https://app.example/bff/callback",
      postLogoutRedirectUri: "https://app.example/",
      apiBaseUrl: "https://api.example",
      cookieSecrets: [COOKIE_SECRET],
      mode: "production",
      dangerouslyEnableTestControls: true,
    });
    expect(problems.map((problem) => problem.field)).toContain("dangerouslyEnableTestControls");
  });
});
