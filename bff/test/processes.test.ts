/**
 * Two real BFF processes, one Redis, one IdP and one API, all real servers on
 * loopback (ports 41xx/31xx, away from the development ones). Fifty parallel
 * calls for one session, spread over both BFFs, just as its access token is
 * about to expire: one refresh in total, fifty successes, and the grant intact.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { COOKIE_SECRET, TestBrowser, USERS } from "./harness.ts";
import { startRedis, type TestRedis } from "./redis-server.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const IDP = "http://127.0.0.1:4100";
const API = "http://localhost:4101";
const BFF_A = "http://localhost:3101";
const BFF_B = "http://localhost:3102";
const SESSION = "__Host-bff-session";
/** Access tokens live 60 s and are refreshed when less than 55 s are left: after 5 s. */
const TOKEN_TTL = 60;
const LEEWAY = 55;

interface Server {
  name: string;
  child: ChildProcess;
  output: string[];
}

const servers: Server[] = [];
let redis: TestRedis;
let dataDir: string;

function start(name: string, script: string, env: Record<string, string>): Server {
  const child = spawn(process.execPath, [script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const server: Server = { name, child, output: [] };
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on("data", (chunk: Buffer) =>
      server.output.push(...chunk.toString().split("\n").filter(Boolean)),
    );
  }
  servers.push(server);
  return server;
}

async function waitFor(url: string, server: Server): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null)
      throw new Error(`${server.name} exited:\n${server.output.join("\n")}`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${server.name} did not start:\n${server.output.join("\n")}`);
}

const bffEnv = (port: number): Record<string, string> => ({
  BFF_PORT: String(port),
  BFF_MODE: "test",
  BFF_DANGEROUSLY_ALLOW_INSECURE_HTTP_ISSUER: "true",
  BFF_ISSUER: IDP,
  BFF_CLIENT_ID: "web-bff",
  BFF_CLIENT_SECRET: "processes-test-client-secret",
  BFF_REDIRECT_URI: `${BFF_A}/bff/callback`,
  BFF_POST_LOGOUT_REDIRECT_URI: `${BFF_A}/`,
  BFF_API_BASE_URL: API,
  BFF_RESOURCE: API,
  BFF_SCOPES: "openid profile email offline_access contacts:read contacts:write",
  BFF_COOKIE_SECRETS: COOKIE_SECRET,
  BFF_REDIS_URL: redis.url,
  BFF_REFRESH_LEEWAY_SECONDS: String(LEEWAY),
});

const refreshes = () =>
  servers
    .filter((s) => s.name.startsWith("bff"))
    .flatMap((s) => s.output.filter((l) => l.includes("tokens refreshed"))).length;

beforeAll(async () => {
  redis = await startRedis();
  dataDir = mkdtempSync(join(tmpdir(), "bff-processes-"));
  const idp = start("idp", "idp/src/server.ts", {
    IDP_PORT: "4100",
    IDP_ISSUER: IDP,
    IDP_MODE: "development",
    IDP_DATA_DIR: join(dataDir, "idp"),
    IDP_WEB_BFF_SECRET: "processes-test-client-secret",
    IDP_WEB_BFF_REDIRECT_URIS: `${BFF_A}/bff/callback`,
    IDP_WEB_BFF_POST_LOGOUT_REDIRECT_URIS: `${BFF_A}/`,
    IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI: `${BFF_A}/bff/backchannel-logout`,
    IDP_API_AUDIENCE: API,
    IDP_ACCESS_TOKEN_TTL: String(TOKEN_TTL),
  });
  const api = start("api", "api/src/server.ts", {
    API_PORT: "4101",
    API_ISSUER: IDP,
    API_AUDIENCE: API,
    API_DB_PATH: join(dataDir, "contacts.sqlite"),
  });
  await waitFor(`${IDP}/.well-known/openid-configuration`, idp);
  await waitFor(`${API}/health`, api);
  const a = start("bff-a", "bff/src/server.ts", bffEnv(3101));
  const b = start("bff-b", "bff/src/server.ts", bffEnv(3102));
  await Promise.all([waitFor(`${BFF_A}/bff/session`, a), waitFor(`${BFF_B}/bff/session`, b)]);
}, 60_000);

afterAll(async () => {
  await Promise.all(
    servers.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
        }),
    ),
  );
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const call = (bff: string, cookie: string) =>
  fetch(`${bff}/api/contacts`, { headers: { cookie: `${SESSION}=${cookie}`, "x-csrf": "1" } });

describe("two BFF processes sharing one Redis", () => {
  it("50 parallel calls at token expiry over both: exactly one refresh, 50 successes; the old cookie still works 5 s later", async () => {
    const alice = new TestBrowser({ fetch }, { bff: BFF_A, idp: IDP });
    await alice.login(USERS.alice);
    const cookie = alice.cookie(new URL(BFF_A).host, SESSION)?.value ?? "";
    expect(cookie).not.toBe("");
    const before = refreshes();

    // Wait until the access token is within the refresh leeway.
    await new Promise((resolve) => setTimeout(resolve, (TOKEN_TTL - LEEWAY + 1) * 1000));
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => call(i % 2 ? BFF_B : BFF_A, cookie)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(refreshes()).toBe(before + 1);

    // 5 s later, a request still carrying the pre-refresh cookie: served, and nothing replayed.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect((await call(BFF_B, cookie)).status).toBe(200);
    expect(refreshes()).toBe(before + 1);

    // The grant is intact: the new cookie works on both processes.
    const fresh = /__Host-bff-session=([^;]+)/.exec(responses[0]?.headers.get("set-cookie") ?? "")?.[1] ?? "";
    expect((await call(BFF_A, fresh)).status).toBe(200);
    expect((await call(BFF_B, fresh)).status).toBe(200);
  }, 30_000);

  it("a logout through one process is refused by the other, and by a restarted one", async () => {
    const alice = new TestBrowser({ fetch }, { bff: BFF_A, idp: IDP });
    await alice.login(USERS.alice);
    const cookie = alice.cookie(new URL(BFF_A).host, SESSION)?.value ?? "";
    const logout = await fetch(`${BFF_A}/bff/logout`, {
      method: "POST",
      headers: { cookie: `${SESSION}=${cookie}`, "x-csrf": "1" },
    });
    expect(logout.status).toBe(200);
    expect((await call(BFF_B, cookie)).status).toBe(401);

    const b = servers.find((s) => s.name === "bff-b");
    await new Promise<void>((resolve) => {
      b?.child.once("exit", () => resolve());
      b?.child.kill("SIGTERM");
    });
    const restarted = start("bff-b2", "bff/src/server.ts", bffEnv(3102));
    await waitFor(`${BFF_B}/bff/session`, restarted);
    expect((await call(BFF_B, cookie)).status).toBe(401);
  }, 30_000);
});

describe("starting the BFF server", () => {
  it("stops at once when discovery names another issuer (a trailing slash is another issuer)", async () => {
    const wrong = start("bff-wrong-issuer", "bff/src/server.ts", {
      ...bffEnv(3103),
      BFF_ISSUER: `${IDP}/`,
      BFF_REDIS_URL: "",
    });
    const code = await new Promise<number | null>((resolve) => wrong.child.once("exit", resolve));
    expect(code).toBe(1);
    const output = wrong.output.join("\n");
    expect(output).toContain(`BFF_ISSUER is "${IDP}/"`);
    expect(output).toContain(`names the issuer "${IDP}"`);
    expect(output).not.toMatch(/\n\s+at /); // a sentence, not a stack trace
  });
});
