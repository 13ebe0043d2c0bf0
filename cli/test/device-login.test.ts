/**
 * `contacts login`: the device authorization grant (RFC 8628) against the real
 * IdP in this process, a person approving or declining on its real pages.
 */
import { once } from "node:events";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { runCli } from "../src/index.ts";
import {
  API,
  configDir,
  ISSUER,
  Person,
  promptIn,
  recordingIo,
  startSystem,
  type TestSystem,
} from "./system.ts";

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

const tokenFile = () => join(config.dir, "tokens.json");

describe("contacts login", () => {
  it("prints where to go and the code, polls while pending, and stores the tokens once alice approves (G1)", async () => {
    const person = new Person(system.fetch);
    let page = "";
    const { io, out, err, sleeps } = recordingIo(
      { CONTACTS_CONFIG_DIR: config.dir },
      system.fetch,
      async (count) => {
        // The first poll finds the login pending; the person approves before the second.
        if (count === 2) {
          const { verificationUri, userCode } = promptIn(out);
          page = await person.answer(verificationUri, userCode, "approve");
        }
      },
    );

    expect(await runCli(["login"], io)).toBe(0);
    expect(err).toEqual([]);
    const prompt = promptIn(out);
    expect(prompt.verificationUri).toBe(`${ISSUER}/device`);
    expect(prompt.userCode).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(prompt.complete).toBe(`${ISSUER}/device?user_code=${prompt.userCode}`);
    expect(page).toContain("Device connected");
    // The IdP names no interval: RFC 8628's default of 5 seconds, twice.
    expect(sleeps).toEqual([5000, 5000]);
    expect(out.at(-1)).toBe(`Logged in as user-alice. Tokens are in ${tokenFile()}.`);

    const stored = JSON.parse(readFileSync(tokenFile(), "utf8")) as Record<string, unknown>;
    expect(stored).toMatchObject({
      issuer: ISSUER,
      api: API,
      clientId: "contacts-cli",
      subject: "user-alice",
    });
    expect(typeof stored.refreshToken).toBe("string");
    expect(statSync(tokenFile()).mode & 0o777).toBe(0o600);
    // No token is ever printed.
    expect(out.join("\n")).not.toContain(String(stored.accessToken));
    expect(out.join("\n")).not.toContain(String(stored.refreshToken));
  });

  it("creates the token directory with mode 0700 under XDG_CONFIG_HOME", async () => {
    const person = new Person(system.fetch);
    const { io, out } = recordingIo({ XDG_CONFIG_HOME: config.dir }, system.fetch, async (count) => {
      if (count === 1) await person.answer(promptIn(out).verificationUri, promptIn(out).userCode, "approve");
    });
    expect(await runCli(["login"], io)).toBe(0);
    const file = join(config.dir, "oidc-bff-contacts", "tokens.json");
    expect(statSync(dirname(file)).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("says the person declined, with exit code 4, and stores nothing", async () => {
    const person = new Person(system.fetch);
    let page = "";
    const { io, out, err } = recordingIo({ CONTACTS_CONFIG_DIR: config.dir }, system.fetch, async (count) => {
      if (count === 1)
        page = await person.answer(promptIn(out).verificationUri, promptIn(out).userCode, "deny");
    });
    expect(await runCli(["login"], io)).toBe(4);
    expect(page).toContain("Device not connected");
    expect(err).toEqual(["contacts: you declined the login on the sign-in page; nothing was stored"]);
    expect(existsSync(tokenFile())).toBe(false);
  });
});

describe("contacts login when the code expires", () => {
  let shortLived: TestSystem;
  beforeAll(async () => {
    shortLived = await startSystem({ deviceCodeTtlSeconds: 1 });
  });
  afterAll(async () => {
    await shortLived.close();
  });

  it("passes on the IdP's expired_token with exit code 5", async () => {
    const started = Date.now();
    const { io, err } = recordingIo(
      { CONTACTS_CONFIG_DIR: config.dir },
      shortLived.fetch,
      async () => {
        // Really wait until the IdP's code has expired; the CLI's own clock stays put,
        // so the answer comes from the IdP.
        await new Promise((resolve) => setTimeout(resolve, 1100));
      },
      { now: () => started },
    );
    expect(await runCli(["login"], io)).toBe(5);
    expect(err).toEqual(["contacts: the code expired; run contacts login again"]);
    expect(existsSync(tokenFile())).toBe(false);
  });

  it("gives up by itself once the code's lifetime has passed", async () => {
    let clock = Date.now();
    const { io, err, sleeps } = recordingIo(
      { CONTACTS_CONFIG_DIR: config.dir },
      shortLived.fetch,
      async () => {
        clock += 5000;
      },
      { now: () => clock },
    );
    expect(await runCli(["login"], io)).toBe(5);
    expect(err).toEqual(["contacts: the code expired; run contacts login again"]);
    expect(sleeps).toEqual([5000]);
  });
});

/**
 * The real IdP never answers `slow_down` (oidc-provider has no switch to make it),
 * so this one test talks to a tiny loopback HTTP server that does: discovery,
 * the device authorization endpoint, and a token endpoint that answers
 * slow_down, slow_down, authorization_pending, then tokens.
 */
describe("contacts login told to slow down", () => {
  let server: Server;
  let issuer: string;
  const tokenRequests: Array<{ body: URLSearchParams; authorization: string | undefined }> = [];
  const answers = ["slow_down", "slow_down", "authorization_pending"];

  async function read(req: IncomingMessage): Promise<URLSearchParams> {
    let text = "";
    for await (const chunk of req) text += String(chunk);
    return new URLSearchParams(text);
  }

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
        res.end(JSON.stringify(body));
      };
      if (req.url === "/.well-known/openid-configuration") {
        return json(200, {
          issuer,
          token_endpoint: `${issuer}/token`,
          device_authorization_endpoint: `${issuer}/device/auth`,
        });
      }
      const body = await read(req);
      if (req.url === "/device/auth") {
        return json(200, {
          device_code: "the-device-code",
          user_code: "BCDF-GHJK",
          verification_uri: `${issuer}/device`,
          expires_in: 600,
          interval: 2,
        });
      }
      tokenRequests.push({ body, authorization: req.headers.authorization });
      const error = answers.shift();
      if (error) return json(400, { error });
      return json(200, {
        access_token: "an-access-token",
        token_type: "Bearer",
        expires_in: 300,
        refresh_token: "a-refresh-token",
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
  });

  it("respects the IdP's interval and adds 5 seconds for each slow_down, for good", async () => {
    const { io, err, out, sleeps } = recordingIo(
      { CONTACTS_CONFIG_DIR: config.dir, CONTACTS_ISSUER: issuer, CONTACTS_API: "http://localhost:4001" },
      (input, init) => globalThis.fetch(input, init),
    );
    expect(await runCli(["login"], io)).toBe(0);
    expect(err).toEqual([]);
    expect(sleeps).toEqual([2000, 7000, 12000, 12000]);
    expect(out.join("\n")).not.toContain("fills in the code");
    // A public client: it names itself, and sends no secret.
    expect(tokenRequests).toHaveLength(4);
    for (const { body, authorization } of tokenRequests) {
      expect(authorization).toBeUndefined();
      expect(Object.fromEntries(body)).toEqual({
        client_id: "contacts-cli",
        grant_type: "urn:ietf:params:oauth:grant-type:device_code",
        device_code: "the-device-code",
        resource: "http://localhost:4001",
      });
    }
    expect(JSON.parse(readFileSync(tokenFile(), "utf8"))).toMatchObject({ refreshToken: "a-refresh-token" });
  });
});
