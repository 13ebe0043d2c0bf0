/** `cookieNames`: two BFFs on one host name (cookies ignore ports) must not share cookies. */
import { afterEach, describe, expect, it } from "vitest";

import { validateConfig } from "../src/config.ts";
import { BFF, COOKIE_SECRET, logIn, startSystem, type TestSystem } from "./harness.ts";

const HOST = new URL(BFF).host;
let system: TestSystem | undefined;
afterEach(() => system?.close());

describe("cookieNames", () => {
  it("names the session and login cookies; the default names are never set", async () => {
    system = await startSystem({
      cookieNames: { session: "__Host-app2-session", login: "__Host-app2-login" },
    });
    const started = await system.fetch(`${BFF}/bff/login?returnTo=/`, { redirect: "manual" });
    expect(started.headers.getSetCookie().join("\n")).toMatch(/^__Host-app2-login=/);

    const alice = await logIn(system);
    expect(alice.cookie(HOST, "__Host-app2-session")).toBeDefined();
    expect(alice.cookie(HOST, "__Host-bff-session")).toBeUndefined();
    expect((await alice.api("/api/contacts")).status).toBe(200);

    // The other app's cookie (default name) is not this BFF's session.
    alice.setCookie(HOST, "__Host-bff-session", alice.cookie(HOST, "__Host-app2-session")?.value ?? "");
    alice.cookies.delete(HOST, "__Host-app2-session");
    expect((await alice.api("/api/contacts")).status).toBe(401);
  });

  it("refuses names without the __Host- prefix, and one name for both cookies", () => {
    const base = {
      issuer: "https://idp.example",
      clientId: "web-bff",
      clientSecret: "secret",
      redirectUri: "https://app.example/bff/callback",
      postLogoutRedirectUri: "https://app.example/",
      apiBaseUrl: "https://api.example",
      cookieSecrets: [COOKIE_SECRET],
    };
    const fields = (cookieNames: { session?: string; login?: string }) =>
      validateConfig({ ...base, cookieNames }).map((problem) => problem.field);
    expect(fields({ session: "bff-session" })).toContain("cookieNames");
    expect(fields({ session: "__Host-a;b" })).toContain("cookieNames");
    expect(fields({ session: "__Host-x", login: "__Host-x" })).toContain("cookieNames");
    expect(fields({ session: "__Host-x", login: "__Host-x-1" })).toContain("cookieNames");
    // Another BFF's session parts would be named like this one's (`__Host-app-2` vs `__Host-app` + part 2).
    expect(fields({ session: "__Host-app-2" })).toContain("cookieNames");
    expect(fields({ session: "__Host-app2-session", login: "__Host-app2-login" })).not.toContain(
      "cookieNames",
    );
  });
});
