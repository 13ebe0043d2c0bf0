/** `apiRoutes[].upstream`: one API split over services, each route forwarded where configuration says. */
import { afterEach, describe, expect, it } from "vitest";

import { validateConfig } from "../src/config.ts";
import { COOKIE_SECRET, logIn, startSystem, type TestSystem } from "./harness.ts";

const REPORTS = "http://localhost:4002";
let system: TestSystem | undefined;
afterEach(() => system?.close());

describe("apiRoutes upstream", () => {
  it("forwards a route to its own service with the session's token; the others still go to apiBaseUrl", async () => {
    system = await startSystem({
      apiRoutes: [
        { path: "/contacts", methods: ["GET"] },
        { path: "/reports/*", methods: ["GET"], upstream: `${REPORTS}/v1/` },
      ],
    });
    const seen: { url: string; bearer: boolean }[] = [];
    const original = system.fetch;
    system.fetch = async (input, init) => {
      const request = new Request(input, init);
      if (request.url.startsWith(REPORTS)) {
        seen.push({
          url: request.url,
          bearer: /^Bearer \S+$/.test(request.headers.get("authorization") ?? ""),
        });
        return Response.json({ report: "ok" });
      }
      return original(request);
    };
    const alice = await logIn(system);
    const report = await alice.api("/api/reports/monthly?year=2026");
    expect(report.status).toBe(200);
    expect(await report.json()).toEqual({ report: "ok" });
    expect(seen).toEqual([{ url: `${REPORTS}/v1/reports/monthly?year=2026`, bearer: true }]);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    expect(seen).toHaveLength(1);
  });

  it("refuses an upstream the token must not travel to: plain http off this machine, a query, credentials", () => {
    const base = {
      issuer: "https://idp.example",
      clientId: "web-bff",
      clientSecret: "secret",
      redirectUri: "https://app.example/bff/callback",
      postLogoutRedirectUri: "https://app.example/",
      apiBaseUrl: "https://api.example",
      cookieSecrets: [COOKIE_SECRET],
    };
    const problems = (upstream: string) =>
      validateConfig({ ...base, apiRoutes: [{ path: "/reports/*", methods: ["GET"], upstream }] }).map(
        (problem) => problem.field,
      );
    expect(problems("http://reports.example")).toContain("apiRoutes");
    expect(problems("https://reports.example/?key=1")).toContain("apiRoutes");
    expect(problems("https://user:pass@reports.example")).toContain("apiRoutes");
    expect(problems("not a url")).toContain("apiRoutes");
    expect(problems("https://reports.example/v1")).not.toContain("apiRoutes");
  });
});
