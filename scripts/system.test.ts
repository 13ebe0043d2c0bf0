/**
 * The whole system on other ports, as `BFF_PORT=… IDP_PORT=… API_PORT=… pnpm start`
 * runs it: three real processes, a login through the IdP's pages, the API through
 * the BFF, and a logout at the IdP that reaches the BFF on its port.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { DEFAULT_LOCAL_PORTS, localSystem, localSystemAt } from "../shared/src/local-system.ts";
import { HttpBrowser } from "./http-browser.ts";
import { type RunningSystem, startSystem, systemEnvironment } from "./system.ts";

const addresses = localSystemAt({ bff: 5410, idp: 5411, api: 5412 });
const dataDir = mkdtempSync(path.join(tmpdir(), "system-ports-"));
const log: string[] = [];

describe("the system's addresses", () => {
  it("come from BFF_PORT, IDP_PORT and API_PORT, with the usual ports as defaults", () => {
    expect(localSystem({})).toMatchObject({
      ports: DEFAULT_LOCAL_PORTS,
      bff: "http://localhost:3000",
      idp: "http://127.0.0.1:4000",
      api: "http://localhost:4001",
    });
    expect(localSystem({ BFF_PORT: "5410", IDP_PORT: "5411", API_PORT: "5412" })).toEqual(addresses);
  });

  it("refuse a port that is no number, and two parts on one port, naming each", () => {
    expect(() => localSystem({ BFF_PORT: "80a", IDP_PORT: "0", API_PORT: "3000" })).toThrow(
      'Cannot place the system:\n  - BFF_PORT must be a port number 1-65535 (got "80a")\n  - IDP_PORT must be a port number 1-65535 (got "0")',
    );
    expect(() => localSystem({ API_PORT: "3000" })).toThrow("API_PORT and BFF_PORT are both 3000");
  });

  it("are the only ones in every process's environment: no default port is left in a URL", () => {
    for (const mode of ["start", "dev"] as const) {
      const env = systemEnvironment({ mode, dataDir, addresses });
      const values = Object.values(env).flatMap((part) => Object.values(part));
      expect(values.filter((value) => /:(3000|4000|4001)\b/.test(value))).toEqual([]);
      expect(env.idp).toMatchObject({
        IDP_ISSUER: "http://127.0.0.1:5411",
        IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI: "http://localhost:5410/bff/backchannel-logout",
        IDP_API_AUDIENCE: "http://localhost:5412",
      });
      expect(env.bff).toMatchObject({
        BFF_PORT: "5410",
        BFF_ISSUER: addresses.idp,
        BFF_RESOURCE: addresses.api,
      });
      expect(env.api).toMatchObject({
        API_PORT: "5412",
        API_ISSUER: addresses.idp,
        API_AUDIENCE: addresses.api,
      });
    }
  });
});

/** Whether something already listens there (another run, another program): then this test cannot. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

describe("the whole system on BFF 5410, IdP 5411, API 5412", () => {
  let system: RunningSystem | undefined;

  beforeAll(async () => {
    for (const port of Object.values(addresses.ports)) {
      if (await listening(port)) throw new Error(`port ${port} is taken: this test needs it free`);
    }
    // The SPA is not what this test is about: a stand-in page instead of a build.
    const spaDir = path.join(dataDir, "spa");
    mkdirSync(spaDir, { recursive: true });
    writeFileSync(path.join(spaDir, "index.html"), "<!doctype html><title>Contacts</title>");
    system = await startSystem({
      mode: "start",
      dataDir,
      fresh: false,
      addresses,
      env: { BFF_SPA_DIR: spaDir },
      log: (name, line) => log.push(`[${name}] ${line}`),
    });
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("logs a person in through the IdP's pages, calls the API through the BFF, and logs out at the IdP", async () => {
    expect(system?.url).toBe("http://localhost:5410");
    const discovery = (await (await fetch(`${addresses.idp}/.well-known/openid-configuration`)).json()) as {
      issuer: string;
    };
    expect(discovery.issuer).toBe("http://127.0.0.1:5411");

    const browser = new HttpBrowser({ bff: addresses.bff, idp: addresses.idp });
    await browser.login();
    const contacts = await browser.api("/api/contacts");
    expect(contacts.status, log.join("\n")).toBe(200);
    expect(Array.isArray(await contacts.json())).toBe(true);

    // Signing out at the IdP: its logout token must reach the BFF on 5410, not 3000.
    const page = await (await browser.fetch(`${addresses.idp}/session/end`)).text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)?.[1];
    expect(xsrf, page).toBeTruthy();
    const confirmed = await browser.fetch(`${addresses.idp}/session/end/confirm`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ xsrf: String(xsrf), logout: "yes" }).toString(),
    });
    expect(confirmed.status).toBeLessThan(400);
    let after = 0;
    for (let attempt = 0; attempt < 20 && after !== 401; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 250));
      after = (await browser.api("/api/contacts")).status;
    }
    expect(after, log.join("\n")).toBe(401);
  }, 60_000);
});
