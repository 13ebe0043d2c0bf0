/**
 * Every route of the IdP refuses a body over 16 KB with 413 and never reads
 * much more of it: a 50 MB body, streamed to the real listener on loopback,
 * with a declared length and without one (chunked), is cut off after a few
 * hundred KB, and the process's memory does not grow by anything like its size.
 */
import { createServer, request, type Server } from "node:http";
import type { Socket } from "node:net";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { BODY_LIMIT_BYTES } from "../src/body-limit.ts";
import type { Idp } from "../src/index.ts";
import { authorizationRequest, Browser, basicAuth, interactionUid, location, testIdp } from "./helpers.ts";

const MB = 1024 * 1024;
const HUGE = 50 * MB;

let idp: Idp;
let server: Server;
let port: number;
const sockets: Socket[] = [];

beforeAll(async () => {
  idp = await testIdp();
  server = createServer(idp.listener);
  server.on("connection", (socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await idp.close();
});

interface Sent {
  status: number;
  contentType: string;
  body: string;
  /** Bytes the IdP read from the connection, headers included. */
  serverRead: number;
}

/**
 * Streams `total` bytes of form data and goes on writing after the answer, until
 * the IdP closes the connection or everything is sent.
 */
function stream(
  path: string,
  { total, chunked, headers = {} }: { total: number; chunked: boolean; headers?: Record<string, string> },
): Promise<Sent> {
  return new Promise((resolve) => {
    const all: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", ...headers };
    if (!chunked) all["content-length"] = String(total);
    const req = request({ host: "127.0.0.1", port, path, method: "POST", headers: all });
    const socketIndex = sockets.length;
    let status = 0;
    let contentType = "";
    let body = "";
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      resolve({ status, contentType, body, serverRead: sockets[socketIndex]?.bytesRead ?? 0 });
    };
    req.on("response", (res) => {
      status = res.statusCode ?? 0;
      contentType = String(res.headers["content-type"]);
      res.on("data", (data) => {
        body += data;
      });
    });
    req.on("error", finish);
    req.on("close", finish);
    const chunk = Buffer.alloc(64 * 1024, "a");
    let sent = 0;
    const pump = () => {
      while (!finished && sent < total) {
        const part = chunk.subarray(0, Math.min(chunk.length, total - sent));
        sent += part.length;
        if (!req.write(part)) {
          req.once("drain", pump);
          return;
        }
      }
      if (sent >= total) req.end();
    };
    pump();
  });
}

/** A real login page's interaction: its URL and the cookie that goes with it. */
async function openInteraction() {
  const browser = new Browser(idp);
  const toLogin = location(await browser.get(authorizationRequest().url));
  await browser.get(toLogin);
  const uid = interactionUid(toLogin);
  return { path: `/interaction/${uid}/login`, cookie: browser.cookieHeader(`/interaction/${uid}/login`) };
}

describe("request bodies over the IdP's limit (X18)", () => {
  it("is 16 KB", () => {
    expect(BODY_LIMIT_BYTES).toBe(16 * 1024);
  });

  const client = { authorization: basicAuth(), accept: "application/json" };
  const routes: Array<{ group: string; path: string; headers: Record<string, string> }> = [
    { group: "token", path: "/token", headers: client },
    { group: "revocation", path: "/token/revocation", headers: client },
    { group: "introspection", path: "/token/introspection", headers: client },
    { group: "pushed authorization request", path: "/request", headers: client },
    { group: "device authorization", path: "/device/auth", headers: { accept: "application/json" } },
    { group: "userinfo", path: "/me", headers: { accept: "application/json" } },
    { group: "device code entry form", path: "/device", headers: { accept: "text/html" } },
    { group: "logout confirmation form", path: "/session/end/confirm", headers: { accept: "text/html" } },
  ];

  for (const { group, path, headers } of routes) {
    for (const chunked of [false, true]) {
      it(`${group} (${path}), ${chunked ? "without a length" : "with its length"}: 413, cut off after a few hundred KB of 50 MB (X18)`, async () => {
        const sent = await stream(path, { total: HUGE, chunked, headers });
        expect(sent.status, sent.body.slice(0, 200)).toBe(413);
        expect(sent.serverRead).toBeLessThan(2 * MB);
      });
    }
  }

  it("a route that reads no body: refused or answered, and cut off all the same (X18)", async () => {
    const declared = await stream("/nothing/here", { total: HUGE, chunked: false });
    expect(declared.status).toBe(413);
    expect(declared.serverRead).toBeLessThan(2 * MB);
    const chunked = await stream("/nothing/here", { total: HUGE, chunked: true });
    expect(chunked.status).toBe(404);
    expect(chunked.serverRead).toBeLessThan(2 * MB);
  });

  it("the login form, in a real interaction: 413 and a readable page, with or without a length; just under the limit it is checked as usual (X18)", async () => {
    for (const chunked of [false, true]) {
      const { path, cookie } = await openInteraction();
      const sent = await stream(path, { total: HUGE, chunked, headers: { cookie, accept: "text/html" } });
      expect(sent.status).toBe(413);
      expect(sent.contentType).toContain("text/html");
      expect(sent.body).toContain("too large");
      expect(sent.serverRead).toBeLessThan(2 * MB);
    }

    const browser = new Browser(idp);
    const toLogin = location(await browser.get(authorizationRequest().url));
    await browser.get(toLogin);
    const answer = await browser.post(`/interaction/${interactionUid(toLogin)}/login`, {
      username: "alice",
      password: "wrong",
      padding: "p".repeat(15 * 1024),
    });
    expect(answer.statusCode).toBe(400);
    expect(answer.body).toContain("Invalid username or password");
  });

  it("a burst of large bodies on every route leaves the process's memory flat (X18)", async () => {
    const before = process.memoryUsage().rss;
    const paths = [...routes.map((route) => route.path), "/nothing/here", (await openInteraction()).path];
    const answers = await Promise.all(
      paths.flatMap((path) => [
        stream(path, { total: HUGE, chunked: false }),
        stream(path, { total: HUGE, chunked: true }),
      ]),
    );
    // 20 bodies of 50 MB (1 GB in all): each cut off early, and the IdP's memory
    // grows by a small fraction of one of them.
    for (const answer of answers) expect(answer.serverRead).toBeLessThan(2 * MB);
    expect(process.memoryUsage().rss - before).toBeLessThan(40 * MB);
  });
});
