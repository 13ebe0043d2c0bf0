/**
 * The proxy's node:http path (proxy/node-listener.ts, with undici's request to the API) in a
 * real BFF process, with the real IdP and API processes behind it (ports 4140/4141/3141): what
 * reaches the browser, how request targets are read, and the API timeout, made by stopping the
 * API process with SIGSTOP. The in-process tests reach the same proxy through the Hono route.
 */
import { request } from "node:http";
import { connect } from "node:net";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type RealSystem, SESSION_COOKIE as SESSION, startRealSystem } from "./real-system.ts";

const API = "http://localhost:4141";
const BFF = "http://localhost:3141";
const API_TIMEOUT_MS = 1_000;

let system: RealSystem;
let cookie: string;

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
  system = await startRealSystem({
    name: "node-path",
    ports: { idp: 4140, api: 4141, bff: 3141 },
    bffEnv: { BFF_API_TIMEOUT_MS: String(API_TIMEOUT_MS), BFF_ACCESS_LOG: "off" },
  });
  cookie = system.cookie;
}, 60_000);

afterAll(async () => {
  await system.stop();
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
    system.processes.api.kill("SIGSTOP");
    let answer: Awaited<ReturnType<typeof raw>>;
    const started = Date.now();
    try {
      answer = await raw("/api/contacts");
    } finally {
      system.processes.api.kill("SIGCONT");
    }
    const waited = Date.now() - started;
    expect(answer.status).toBe(504);
    expect(JSON.parse(answer.body)).toMatchObject({ code: "upstream_timeout" });
    expect(waited).toBeGreaterThanOrEqual(API_TIMEOUT_MS - 50);
    expect(waited).toBeLessThan(API_TIMEOUT_MS + 2_000);
    expect((await raw("/api/contacts")).status).toBe(200);
  });
});
