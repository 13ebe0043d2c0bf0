/**
 * The proxy's node:http path (proxy/node-listener.ts, with undici's request to the API) in a
 * real BFF process, with the real IdP and API processes behind it (ports 4140/4141/3141): what
 * reaches the browser, how request targets are read, and the API timeout, made by stopping the
 * API process with SIGSTOP. The in-process tests reach the same proxy through the Hono route.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { COOKIE_SECRET, TestBrowser, USERS } from "./harness.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const IDP = "http://127.0.0.1:4140";
const API = "http://localhost:4141";
const BFF = "http://localhost:3141";
const SESSION = "__Host-bff-session";
const API_TIMEOUT_MS = 1_000;

const children: ChildProcess[] = [];
let api: ChildProcess;
let dataDir: string;
let cookie: string;

function start(script: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  return child;
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

/** A request with the target exactly as written (fetch would normalize it first), as a browser's script sends it. */
function raw(target: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      `${BFF}/`,
      { path: target, headers: { cookie: `${SESSION}=${cookie}`, "x-csrf": "1" } },
      (response) => {
        let body = "";
        response.on("data", (data: Buffer) => {
          body += data.toString();
        });
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        );
      },
    );
    outgoing.on("error", reject);
    outgoing.end();
  });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "bff-node-path-"));
  start("idp/src/server.ts", {
    IDP_PORT: "4140",
    IDP_ISSUER: IDP,
    IDP_MODE: "development",
    IDP_DATA_DIR: join(dataDir, "idp"),
    IDP_WEB_BFF_SECRET: "node-path-test-client-secret",
    IDP_WEB_BFF_REDIRECT_URIS: `${BFF}/bff/callback`,
    IDP_WEB_BFF_POST_LOGOUT_REDIRECT_URIS: `${BFF}/`,
    IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI: `${BFF}/bff/backchannel-logout`,
    IDP_API_AUDIENCE: API,
  });
  api = start("api/src/server.ts", {
    API_PORT: "4141",
    API_ISSUER: IDP,
    API_AUDIENCE: API,
    API_DB_PATH: join(dataDir, "contacts.sqlite"),
  });
  await waitFor(`${IDP}/.well-known/openid-configuration`);
  await waitFor(`${API}/health`);
  start("bff/src/server.ts", {
    BFF_PORT: "3141",
    BFF_MODE: "test",
    BFF_DANGEROUSLY_ALLOW_INSECURE_HTTP_ISSUER: "true",
    BFF_ISSUER: IDP,
    BFF_CLIENT_ID: "web-bff",
    BFF_CLIENT_SECRET: "node-path-test-client-secret",
    BFF_REDIRECT_URI: `${BFF}/bff/callback`,
    BFF_POST_LOGOUT_REDIRECT_URI: `${BFF}/`,
    BFF_API_BASE_URL: API,
    BFF_RESOURCE: API,
    BFF_SCOPES: "openid profile email offline_access contacts:read contacts:write",
    BFF_COOKIE_SECRETS: COOKIE_SECRET,
    BFF_API_TIMEOUT_MS: String(API_TIMEOUT_MS),
    BFF_ACCESS_LOG: "off",
  });
  await waitFor(`${BFF}/bff/session`);
  const alice = new TestBrowser({ fetch }, { bff: BFF, idp: IDP });
  await alice.login(USERS.alice);
  cookie = alice.cookie(new URL(BFF).host, SESSION)?.value ?? "";
}, 60_000);

afterAll(async () => {
  if (api.exitCode === null) api.kill("SIGCONT");
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
        }),
    ),
  );
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the proxy's node:http path in a real BFF process", () => {
  it("answers with the API's status and body, the BFF's security headers, and none of the API's other headers", async () => {
    const answer = await raw("/api/contacts?limit=2");
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual(expect.any(Object));
    expect(answer.headers).toMatchObject({
      "content-type": expect.stringMatching(/^application\/json/),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "content-security-policy": "frame-ancestors 'none'",
      "x-frame-options": "DENY",
      "referrer-policy": "same-origin",
    });
    // The API's own headers beyond the forwarded list stay behind.
    const direct = await fetch(`${API}/health`);
    for (const name of direct.headers.keys()) {
      if (!["content-type", "content-length", "date", "connection", "keep-alive"].includes(name)) {
        expect(answer.headers[name], name).toBeUndefined();
      }
    }
  });

  it("reads request targets as the URL parser does: dot segments resolved, encoded ones refused", async () => {
    const cases: [string, number][] = [
      ["/api/contacts", 200],
      ["/api/contacts?", 200],
      ["/api/./contacts", 200],
      ["/api/x/../contacts", 200],
      // The URL parser reads "%2e%2e" as "..": out of /api, to a route the BFF does not have.
      ["/api/%2e%2e/contacts", 404],
      ["/api/x%2e%2e/contacts", 400],
      ["/api/contacts%2f1", 400],
      ["/api//contacts", 400],
      ["/api/contacts\\1", 404],
    ];
    const statuses = await Promise.all(cases.map(async ([target]) => (await raw(target)).status));
    expect(statuses).toEqual(cases.map(([, status]) => status));
    // "/api/../bff/session" is the BFF's own route once resolved, not an API call.
    const own = await raw("/api/../bff/session");
    expect(own.status).toBe(200);
    expect(JSON.parse(own.body)).toMatchObject({ authenticated: true });
  });

  it("a body over the limit: the 413 reaches a browser that is still sending it, and a body that does not end is cut off two seconds later", async () => {
    const socket = connect(3141, "localhost");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(
      [
        "POST /api/contacts HTTP/1.1",
        "Host: localhost:3141",
        `Cookie: ${SESSION}=${cookie}`,
        "X-CSRF: 1",
        "Content-Type: application/json",
        "Content-Length: 1000000000",
        "",
        "",
      ].join("\r\n"),
    );
    let answer = "";
    let answeredAt = 0;
    let writeFailed = false;
    socket.on("data", (data: Buffer) => {
      answer += data.toString();
      answeredAt ||= Date.now();
    });
    socket.on("error", () => {
      writeFailed = true;
    });
    // The browser goes on sending, 64 KiB every 20 ms, as it would with a large file.
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const sender = setInterval(() => {
      if (!socket.destroyed) socket.write(chunk);
    }, 20);
    const closedAt = await new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now())));
    clearInterval(sender);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('"code":"payload_too_large"');
    expect(answeredAt).toBeGreaterThan(0);
    expect(closedAt - answeredAt).toBeGreaterThanOrEqual(1_500);
    expect(closedAt - answeredAt).toBeLessThan(6_000);
    // Whatever the reset at the end did, it came after the answer was read.
    expect(writeFailed && answeredAt === 0).toBe(false);
    // The session is untouched by it.
    expect((await raw("/api/contacts")).status).toBe(200);
  });

  it("an API that stops answering: 504 upstream_timeout after the configured time, and the session kept (SIGSTOP, SIGCONT)", async () => {
    api.kill("SIGSTOP");
    let answer: Awaited<ReturnType<typeof raw>>;
    const started = Date.now();
    try {
      answer = await raw("/api/contacts");
    } finally {
      api.kill("SIGCONT");
    }
    const waited = Date.now() - started;
    expect(answer.status).toBe(504);
    expect(JSON.parse(answer.body)).toMatchObject({ code: "upstream_timeout" });
    expect(waited).toBeGreaterThanOrEqual(API_TIMEOUT_MS - 50);
    expect(waited).toBeLessThan(API_TIMEOUT_MS + 2_000);
    expect((await raw("/api/contacts")).status).toBe(200);
  });
});
