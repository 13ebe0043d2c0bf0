/**
 * The API proxy's outbound controls (security checklist C5, C6, C9): whatever
 * path, request target or Host a browser sends, the access token goes to the
 * configured API origin and nowhere else; routing and scope decisions look at
 * the path alone, never at the query or the fragment; and what the API answers
 * reaches the browser without hop-by-hop headers or internal details in its
 * challenge.
 *
 * Some requests here cannot be made with `fetch` (an absolute-form target, a
 * `#` in the request line, a Host of our choosing), so those tests serve the
 * BFF on a loopback socket of its own and write the HTTP/1.1 request by hand.
 */
import type { AddressInfo } from "node:net";
import { connect } from "node:net";

import { type ServerType, serve } from "@hono/node-server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { BffConfig } from "../src/index.ts";
import { API, BFF, IDP, logIn, startSystem, type TestBrowser, type TestSystem } from "./harness.ts";

const SESSION = "__Host-bff-session";
const HOST = new URL(BFF).host;
/** The attacker's server: it must never receive anything. */
const CANARY = "http://evil.example";

interface Outbound {
  url: string;
  authorization: string | null;
}

let system: TestSystem;
let server: ServerType | undefined;
/** Every request the BFF (or the IdP) sent after the login, wherever it went. */
let outbound: Outbound[];
/** Requests that reached the canary. */
let canary: string[];

async function start(overrides: Partial<BffConfig> = {}) {
  system = await startSystem(overrides);
  outbound = [];
  canary = [];
  const routed = system.fetch;
  system.fetch = async (input, init) => {
    const request = new Request(input, init);
    // The test's browser reaches the BFF through the same routing: that is inbound traffic.
    if (new URL(request.url).origin === BFF) return routed(request);
    outbound.push({ url: request.url, authorization: request.headers.get("authorization") });
    if (new URL(request.url).hostname.endsWith("evil.example")) {
      canary.push(`${request.method} ${request.url}`);
      return new Response("canary", { status: 200 });
    }
    return routed(request);
  };
}

afterEach(async () => {
  if (server) await new Promise((resolve) => server?.close(resolve));
  server = undefined;
  await system.close();
});

/** Alice, logged in; the traffic of the login itself is forgotten. */
async function alice(): Promise<TestBrowser> {
  const browser = await logIn(system);
  outbound.length = 0;
  return browser;
}

/** What reached the API (the API's own key fetches from the IdP left out). */
const toApi = () => outbound.map((request) => request.url).filter((url) => url.startsWith(API));

/** Asserts the canary got nothing, and every bearer token the BFF sent went to the API's origin. */
function expectTokenOnlyToTheApi() {
  expect(canary).toEqual([]);
  const withToken = outbound.filter((request) => request.authorization?.startsWith("Bearer "));
  for (const request of withToken) expect(new URL(request.url).origin).toBe(API);
  for (const request of outbound) expect([API, IDP]).toContain(new URL(request.url).origin);
}

/** The BFF on a loopback socket of its own (never the fixed ports of the e2e system). */
async function listen(): Promise<number> {
  return new Promise((resolve) => {
    server = serve(
      { fetch: (request) => system.bff.fetch(request), hostname: "127.0.0.1", port: 0 },
      (info) => resolve((info as AddressInfo).port),
    );
  });
}

/** One HTTP/1.1 request written by hand: status and raw head and body of the answer. */
function rawRequest(port: number, head: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(`${head}\r\nConnection: close\r\n\r\n`));
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => {
      text += chunk;
    });
    socket.on("end", () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }));
    socket.on("error", reject);
  });
}

function sessionCookie(browser: TestBrowser): string {
  const value = browser.cookie(HOST, SESSION)?.value;
  if (!value) throw new Error("no session cookie");
  return `${SESSION}=${value}`;
}

describe("outbound destinations (C5)", () => {
  beforeEach(() => start());

  it.each([
    "/api/..%2f..%2fsecret",
    "/api/%2e%2e/bff/x",
    "/api//evil.example/x",
    "/api/@evil.example",
    "/api/\\evil.example",
    "/api/http://evil.example",
    "/api/https:%2f%2fevil.example/x",
    "/api/%2f%2fevil.example",
  ])(
    "sends nothing to another host for %s: refused or forwarded to the API's origin only (C5)",
    async (path) => {
      const browser = await alice();
      const response = await browser.api(path);
      // A refusal is a problem; a forwarded call is the API's own 404 for a path it does not have.
      expect([400, 404]).toContain(response.status);
      expect(response.headers.get("content-type")).toMatch(/problem\+json/);
      expectTokenOnlyToTheApi();
    },
  );

  it("forwards an absolute-form request target to the configured API, never to the host it names (C5)", async () => {
    const browser = await alice();
    const port = await listen();
    const { status, text } = await rawRequest(
      port,
      `GET ${CANARY}/api/contacts HTTP/1.1\r\nHost: evil.example\r\nx-csrf: 1\r\nCookie: ${sessionCookie(browser)}`,
    );
    expect(status).toBe(200);
    expect(text).toContain('"email"');
    expect(toApi()).toEqual([`${API}/contacts`]);
    expectTokenOnlyToTheApi();
  });

  it.each([
    ["Host", "Host: evil.example"],
    ["X-Forwarded-Host", `Host: 127.0.0.1\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: http`],
    ["Forwarded", `Host: 127.0.0.1\r\nForwarded: host=evil.example;proto=http`],
  ])("ignores a spoofed %s: the call goes to the configured API (C5)", async (_name, hostHeaders) => {
    const browser = await alice();
    const port = await listen();
    const { status } = await rawRequest(
      port,
      `GET /api/contacts HTTP/1.1\r\n${hostHeaders}\r\nx-csrf: 1\r\nCookie: ${sessionCookie(browser)}`,
    );
    expect(status).toBe(200);
    expect(toApi()).toEqual([`${API}/contacts`]);
    expectTokenOnlyToTheApi();
  });
});

describe("routing and scope decisions look at the path only (C6)", () => {
  // Read from the first login; /stats needs a scope this session never holds.
  beforeEach(() =>
    start({
      apiRoutes: [
        { path: "/contacts", methods: ["GET"], scopes: ["contacts:read"] },
        { path: "/stats", methods: ["GET"], scopes: ["contacts:stats"] },
      ],
    }),
  );

  it("refuses /stats whatever the query says: /api/stats?x=/contacts is /stats (C6)", async () => {
    const browser = await alice();
    for (const path of ["/api/stats?x=/contacts", "/api/stats?/contacts", "/api/stats?path=/api/contacts"]) {
      const response = await browser.api(path);
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ code: "insufficient_scope", scope: "contacts:stats" });
    }
    expect(outbound).toEqual([]);
  });

  it("refuses /stats whatever the fragment says, even one sent in the request line (C6)", async () => {
    const browser = await alice();
    const fromFetch = await browser.api("/api/stats#/contacts");
    expect(fromFetch.status).toBe(403);
    const port = await listen();
    const { status, text } = await rawRequest(
      port,
      `GET /api/stats#/contacts HTTP/1.1\r\nHost: localhost:3000\r\nx-csrf: 1\r\nCookie: ${sessionCookie(browser)}`,
    );
    expect(status).toBe(403);
    expect(text).toContain('"code":"insufficient_scope"');
    expect(outbound).toEqual([]);
  });

  it("does not decode an encoded ? or # into a route: /api/stats%3F/contacts and %23 are no route (C6)", async () => {
    const browser = await alice();
    for (const path of ["/api/stats%3F/contacts", "/api/stats%23/contacts", "/api/contacts%3Fx=1"]) {
      const response = await browser.api(path);
      expect(response.status).toBe(404);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
    }
    expect(outbound).toEqual([]);
  });

  it("sends an allowed path's query along unchanged, and the API answers for the path (C6)", async () => {
    const browser = await alice();
    const response = await browser.api("/api/contacts?x=/stats");
    expect(response.status).toBe(200);
    expect(toApi()).toEqual([`${API}/contacts?x=/stats`]);
  });
});

describe("what the API answers (C9)", () => {
  beforeEach(() => start());

  /** Makes the API's answers carry `headers`, and optionally another status. */
  function apiAnswersWith(headers: Record<string, string>, status?: number) {
    const original = system.fetch;
    system.fetch = async (input, init) => {
      const response = await original(input, init);
      if (!new Request(input, init).url.startsWith(API)) return response;
      const changed = new Headers(response.headers);
      for (const [name, value] of Object.entries(headers)) changed.set(name, value);
      return new Response(response.body, { status: status ?? response.status, headers: changed });
    };
  }

  it("drops hop-by-hop headers, and those the API's Connection header names (C9)", async () => {
    const browser = await alice();
    const hopByHop = {
      connection: "x-internal-route, keep-alive",
      "keep-alive": "timeout=600",
      "x-internal-route": "pod-7.internal",
      "proxy-authenticate": 'Basic realm="internal-proxy"',
      "proxy-connection": "keep-alive",
      trailer: "x-checksum",
      te: "trailers",
      upgrade: "h2c",
    };
    apiAnswersWith(hopByHop);
    const response = await browser.api("/api/contacts");
    expect(response.status).toBe(200);
    for (const name of Object.keys(hopByHop)) expect(response.headers.get(name)).toBeNull();
    expect(response.headers.get("content-type")).toMatch(/json/);
  });

  it("keeps only error and scope of the API's challenge: no internal URL, realm or echoed token (C9)", async () => {
    const browser = await alice();
    apiAnswersWith(
      {
        "www-authenticate":
          'Bearer realm="http://internal-api.local:4001", error="invalid_token", ' +
          'error_description="token eyJhbGciOi.x.y refused by http://10.0.0.5/introspect", ' +
          'error_uri="http://wiki.internal/errors", resource_metadata="http://internal-api.local/.well-known/x"',
      },
      401,
    );
    const response = await browser.api("/api/contacts");
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
  });

  it("passes the scope of a real insufficient_scope challenge on, so a page can ask for it (C9)", async () => {
    const browser = await alice();
    // The real API: alice's session has no contacts:stats.
    const response = await browser.api("/api/stats");
    expect(response.status).toBe(403);
    expect(response.headers.get("www-authenticate")).toBe(
      'Bearer error="insufficient_scope", scope="contacts:stats"',
    );
    expect(await response.json()).toMatchObject({ code: "insufficient_scope", scope: "contacts:stats" });
  });

  it("drops a challenge that is not Bearer, or whose values are not plain tokens (C9)", async () => {
    const browser = await alice();
    apiAnswersWith({ "www-authenticate": 'Basic realm="http://internal-api.local"' }, 401);
    expect((await browser.api("/api/contacts")).headers.get("www-authenticate")).toBeNull();
    apiAnswersWith({ "www-authenticate": 'Bearer error="bad\\" realm=\\"x", scope="contacts:read"' }, 403);
    expect((await browser.api("/api/contacts")).headers.get("www-authenticate")).toBe(
      'Bearer scope="contacts:read"',
    );
  });
});
