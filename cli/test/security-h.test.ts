/**
 * Security checklist H1 for the command line: the CLI talks to an IdP over
 * HTTPS, and over plain http only when the IdP is on this machine (the
 * embedded development IdP). A plain-http issuer anywhere else is refused
 * before a single request leaves: no discovery, no device code, no client
 * secret in clear.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { runCli } from "../src/index.ts";
import { API, configDir, ISSUER, recordingIo, startSystem, type TestSystem } from "./system.ts";

let system: TestSystem;
let config: ReturnType<typeof configDir>;
beforeAll(async () => {
  system = await startSystem();
});
afterAll(async () => {
  await system.close();
});
beforeEach(() => {
  config = configDir();
});
afterEach(() => config.remove());

/**
 * Every request the CLI makes, by URL. Requests to the remote issuers under
 * test reach the real IdP, so that without the check they would go through.
 */
function watchedFetch() {
  const sent: string[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    sent.push(request.url);
    const url = new URL(request.url);
    if (url.origin === ISSUER || url.origin === API) return system.fetch(request);
    return system.fetch(new Request(`${ISSUER}${url.pathname}${url.search}`, request));
  };
  return { fetch, sent };
}

const REMOTE_HTTP_ISSUERS = [
  "http://idp.example.com",
  "http://10.0.0.5:4000",
  "http://127.0.0.1.nip.io:4000",
];

describe("a plain-http IdP that is not on this machine (H1)", () => {
  it.each(REMOTE_HTTP_ISSUERS)("is refused by contacts login before any request: %s (H1)", async (issuer) => {
    const { fetch, sent } = watchedFetch();
    const { io, err } = recordingIo({ CONTACTS_ISSUER: issuer, CONTACTS_CONFIG_DIR: config.dir }, fetch);
    expect(await runCli(["login"], io)).toBe(1);
    expect(sent).toEqual([]);
    expect(err.join("\n")).toMatch(/^contacts: .*https/i);
    expect(err.join("\n")).not.toMatch(/\n\s+at /);
  });

  it.each(REMOTE_HTTP_ISSUERS)(
    "is refused by contacts stats before the secret is sent: %s (H1)",
    async (issuer) => {
      const { fetch, sent } = watchedFetch();
      const { io, err } = recordingIo(
        { CONTACTS_ISSUER: issuer, CONTACTS_CLIENT_SECRET: "a-service-secret-of-some-length" },
        fetch,
      );
      expect(await runCli(["stats"], io)).toBe(1);
      expect(sent).toEqual([]);
      expect(err.join("\n")).toMatch(/^contacts: .*https/i);
    },
  );

  it("is allowed on this machine, the control: the same command reaches the loopback IdP (H1)", async () => {
    const { DEV_REPORTING_SERVICE_SECRET } = await import("@oidc-bff/idp");
    const { fetch, sent } = watchedFetch();
    const { io, out } = recordingIo(
      { CONTACTS_ISSUER: ISSUER, CONTACTS_CLIENT_SECRET: DEV_REPORTING_SERVICE_SECRET },
      fetch,
    );
    expect(await runCli(["stats"], io)).toBe(0);
    expect(sent[0]).toBe(`${ISSUER}/.well-known/openid-configuration`);
    expect(out.join("\n")).toMatch(/contacts/);
  });

  it.each(["http://api.example.com", "http://192.0.2.10:4001", "ftp://localhost:4001"])(
    "refuses an API at %s before anything is sent: a bearer token never travels in clear (H1)",
    async (api) => {
      const { fetch, sent } = watchedFetch();
      const { io, err } = recordingIo(
        {
          CONTACTS_API: api,
          CONTACTS_CLIENT_SECRET: "a-service-secret-of-some-length",
          CONTACTS_CONFIG_DIR: config.dir,
        },
        fetch,
      );
      expect(await runCli(["stats"], io)).toBe(1);
      expect(await runCli(["list"], io)).toBe(1);
      expect(err.join("\n")).toContain("CONTACTS_API must be an https URL, or http on this machine");
      expect(sent).toEqual([]);
    },
  );
});
