/**
 * The IdP, the API and a BFF as real processes on loopback, each started from the
 * repository's own server file with its documented environment, and Alice logged in
 * through the IdP's pages. For the tests of what only a real process shows (sockets,
 * timeouts, memory, signals); the in-process harness is harness.ts.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { COOKIE_SECRET, TestBrowser, USERS } from "./harness.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const SESSION_COOKIE = "__Host-bff-session";

export interface RealSystem {
  idp: string;
  api: string;
  bff: string;
  processes: { idp: ChildProcess; api: ChildProcess; bff: ChildProcess };
  /** Alice's session cookie value. */
  cookie: string;
  /** Stops every process (SIGCONT first, for one a test stopped) and removes the data. */
  stop(): Promise<void>;
}

function start(script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

async function waitFor(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url} did not answer`);
}

function stopped(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGCONT");
    child.kill("SIGTERM");
  });
}

export async function startRealSystem(options: {
  /** Names the data directory and the client secret. */
  name: string;
  ports: { idp: number; api: number; bff: number };
  /** Added to (or replacing) the BFF's environment. */
  bffEnv?: Record<string, string>;
}): Promise<RealSystem> {
  const { ports } = options;
  const idp = `http://127.0.0.1:${ports.idp}`;
  const api = `http://localhost:${ports.api}`;
  const bff = `http://localhost:${ports.bff}`;
  const secret = `${options.name}-test-client-secret`;
  const dataDir = mkdtempSync(join(tmpdir(), `bff-${options.name}-`));
  const idpProcess = start("idp/src/server.ts", {
    IDP_PORT: String(ports.idp),
    IDP_ISSUER: idp,
    IDP_MODE: "development",
    IDP_DATA_DIR: join(dataDir, "idp"),
    IDP_WEB_BFF_SECRET: secret,
    IDP_WEB_BFF_REDIRECT_URIS: `${bff}/bff/callback`,
    IDP_WEB_BFF_POST_LOGOUT_REDIRECT_URIS: `${bff}/`,
    IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI: `${bff}/bff/backchannel-logout`,
    IDP_API_AUDIENCE: api,
  });
  const apiProcess = start("api/src/server.ts", {
    API_PORT: String(ports.api),
    API_ISSUER: idp,
    API_AUDIENCE: api,
    API_DB_PATH: join(dataDir, "contacts.sqlite"),
  });
  const processes = { idp: idpProcess, api: apiProcess, bff: undefined as unknown as ChildProcess };
  const stop = async () => {
    await Promise.all(Object.values(processes).filter(Boolean).map(stopped));
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor(`${idp}/.well-known/openid-configuration`);
    await waitFor(`${api}/health`);
    processes.bff = start("bff/src/server.ts", {
      BFF_PORT: String(ports.bff),
      BFF_MODE: "test",
      BFF_DANGEROUSLY_ALLOW_INSECURE_HTTP_ISSUER: "true",
      BFF_ISSUER: idp,
      BFF_CLIENT_ID: "web-bff",
      BFF_CLIENT_SECRET: secret,
      BFF_REDIRECT_URI: `${bff}/bff/callback`,
      BFF_POST_LOGOUT_REDIRECT_URI: `${bff}/`,
      BFF_API_BASE_URL: api,
      BFF_RESOURCE: api,
      BFF_SCOPES: "openid profile email offline_access contacts:read contacts:write",
      BFF_COOKIE_SECRETS: COOKIE_SECRET,
      ...options.bffEnv,
    });
    await waitFor(`${bff}/bff/session`);
    const alice = new TestBrowser({ fetch }, { bff, idp });
    await alice.login(USERS.alice);
    const cookie = alice.cookie(new URL(bff).host, SESSION_COOKIE)?.value ?? "";
    return { idp, api, bff, processes, cookie, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
