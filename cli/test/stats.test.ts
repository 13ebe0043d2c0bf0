/**
 * `contacts stats`: the reporting service's command, against the real IdP and
 * the real API in this process (no ports), through the same `fetch` the CLI uses.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type Api, createApi } from "@oidc-bff/api";
import { createIdp, DEV_REPORTING_SERVICE_SECRET, developmentIdpConfig, type Idp } from "@oidc-bff/idp";
import { inProcessFetch } from "@oidc-bff/idp/in-process-fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type CliIo, runCli } from "../src/index.ts";

const ISSUER = "http://127.0.0.1:4000";
const API = "http://localhost:4001";
let idp: Idp;
let api: Api;
const dir = mkdtempSync(join(tmpdir(), "cli-test-"));

async function routed(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  const url = new URL(request.url);
  if (url.origin === API) return api.app.fetch(request);
  if (url.origin !== ISSUER) throw new TypeError("fetch failed");
  return inProcessFetch(idp)(request);
}

beforeAll(async () => {
  idp = await createIdp(
    developmentIdpConfig({
      storePath: ":memory:",
      keysPath: null,
      mode: "test",
      webBff: { backchannelLogoutUri: null },
    }),
  );
  api = createApi({ issuer: ISSUER, audience: API, dbPath: ":memory:", seed: true }, { fetch: routed });
});
afterAll(async () => {
  api.close();
  await idp.close();
  rmSync(dir, { recursive: true, force: true });
});

function io(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = { env, fetch: routed, out: (l) => out.push(l), err: (l) => err.push(l) };
  return { cli, out, err };
}

describe("contacts stats", () => {
  it("gets a service token with the secret from the environment and prints the API's counts", async () => {
    const { cli, out, err } = io({ CONTACTS_CLIENT_SECRET: DEV_REPORTING_SERVICE_SECRET });
    expect(await runCli(["stats"], cli)).toBe(0);
    expect(err).toEqual([]);
    expect(out.join("\n")).toMatch(/\d/);
    // Aggregates only: no person's data.
    expect(out.join("\n")).not.toMatch(/@|Mad Hatter/);
  });

  it("reads the secret from a file", async () => {
    const file = join(dir, "secret");
    writeFileSync(file, `${DEV_REPORTING_SERVICE_SECRET}\n`, { mode: 0o600 });
    const { cli, out } = io();
    expect(await runCli(["stats", "--secret-file", file], cli)).toBe(0);
    expect(out.length).toBeGreaterThan(0);
  });

  it("never takes a secret as an argument", async () => {
    const { cli, err } = io();
    expect(await runCli(["stats", "--secret", DEV_REPORTING_SERVICE_SECRET], cli)).toBe(2);
    expect(err.join("\n")).toContain("never accepted as an argument");
  });

  it("says clearly what is wrong with no secret or a wrong one", async () => {
    const none = io();
    expect(await runCli(["stats"], none.cli)).toBe(1);
    expect(none.err.join("\n")).toContain("CONTACTS_CLIENT_SECRET");
    const wrong = io({ CONTACTS_CLIENT_SECRET: "not-the-secret" });
    expect(await runCli(["stats"], wrong.cli)).toBe(1);
    expect(wrong.err.join("\n")).toMatch(/^contacts: /);
    expect(wrong.err.join("\n")).toContain("refused the credentials of reporting-service (invalid_client)");
    expect(wrong.err.join("\n")).not.toMatch(/\n\s+at /);
  });
});

describe("contacts stats against a provider that answers wrongly (G3)", () => {
  async function withProvider(answer: (request: Request) => Response | undefined) {
    const out: string[] = [];
    const err: string[] = [];
    const cli: CliIo = {
      env: { CONTACTS_CLIENT_SECRET: DEV_REPORTING_SERVICE_SECRET },
      fetch: async (input, init) => {
        const request = new Request(input, init);
        return answer(request) ?? routed(request);
      },
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    };
    return { code: await runCli(["stats"], cli), out, err };
  }

  it("refuses a discovery document that names another issuer, before sending its secret", async () => {
    let tokenRequests = 0;
    const result = await withProvider((request) => {
      if (request.url.endsWith("/token")) tokenRequests++;
      if (!request.url.endsWith("/.well-known/openid-configuration")) return undefined;
      return Response.json({
        issuer: "https://evil.example",
        token_endpoint: `${ISSUER}/token`,
        jwks_uri: `${ISSUER}/jwks`,
      });
    });
    expect(result.code).toBe(1);
    expect(result.err.join("\n")).toMatch(/^contacts: /);
    expect(tokenRequests).toBe(0);
    expect(result.out).toEqual([]);
  });

  it("refuses a token response without an access token", async () => {
    const result = await withProvider((request) =>
      request.url.endsWith("/token") ? Response.json({ token_type: "Bearer", expires_in: 300 }) : undefined,
    );
    expect(result.code).toBe(1);
    expect(result.err.join("\n")).toMatch(/^contacts: /);
    expect(result.out).toEqual([]);
  });
});
