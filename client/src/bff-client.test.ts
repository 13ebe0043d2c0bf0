import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CSRF_HEADER, type Problem } from "@oidc-bff/shared";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type BffClient, createBffClient } from "./bff-client.ts";
import { BffError } from "./bff-error.ts";
import { loginUrl, safeReturnTo } from "./login-url.ts";

// A small stand-in for the BFF on a real socket: the client's requests go
// through undici's fetch exactly as they would through the browser's.

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

let server: Server;
let client: BffClient;
let baseUrl: string;
let seen: Seen[] = [];

function problem(res: ServerResponse, status: number, code: Problem["code"], title: string): void {
  res.writeHead(status, { "content-type": "application/problem+json" });
  res.end(JSON.stringify({ type: "about:blank", title, status, code } satisfies Problem));
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body = "";
  for await (const chunk of req) body += chunk;
  const url = req.url ?? "/";
  seen.push({ method: req.method ?? "", url, headers: req.headers, body });

  // Like the BFF: nothing is served to a request that lacks the anti-CSRF header.
  if (req.headers[CSRF_HEADER] !== "1") return problem(res, 403, "csrf_check_failed", "Missing x-csrf");

  const route = `${req.method} ${url}`;
  switch (route) {
    case "GET /bff/session":
      return json(res, 200, { authenticated: false });
    case "POST /bff/logout":
      return json(res, 200, { redirectTo: "/bff/logout/end-session?ticket=abc" });
    case "GET /api/contacts":
      return json(res, 200, [
        {
          id: "c1",
          name: "Dinah",
          email: "dinah@example.com",
          group: null,
          createdAt: "2026-01-01T00:00:00Z",
        },
      ]);
    case "POST /api/contacts":
      return json(res, 201, { id: "c2", ...JSON.parse(body), createdAt: "2026-01-02T00:00:00Z" });
    case "DELETE /api/contacts/c1":
      res.writeHead(204).end();
      return;
    case "DELETE /api/contacts/a%2Fb":
      return problem(res, 404, "not_found", "No such contact");
    case "GET /api/expired":
      return problem(res, 401, "session_expired", "Your session has ended");
    case "GET /api/token-refused":
      // The API's own 401, passed through by the proxy: a new login cannot cure it.
      return problem(res, 401, "invalid_token", "Unauthorized");
    case "GET /api/scope":
      return problem(res, 403, "insufficient_scope", "Insufficient scope");
    case "GET /api/gateway":
      res.writeHead(502, { "content-type": "text/html" }).end("<h1>Bad Gateway</h1>");
      return;
    case "GET /api/odd-json":
      return json(res, 503, { title: "Down for maintenance", code: "not_a_known_code" });
    case "GET /api/html-ok":
      res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>SPA</title>");
      return;
    default:
      return problem(res, 404, "not_found", "Not found");
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => res.writeHead(500).end(String(error)));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;
  client = createBffClient({ baseUrl, onSessionEnded: "throw" });
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, "close");
});

beforeEach(() => {
  seen = [];
});

async function rejection(promise: Promise<unknown>): Promise<BffError> {
  const error = await promise.then(
    () => expect.unreachable("expected a rejection"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BffError);
  return error as BffError;
}

describe("bff client", () => {
  it("sends the anti-CSRF header and asks for JSON on every call (X8)", async () => {
    await client.getSession();
    await client.fetchJson("/api/contacts");
    await client.fetchJson("/api/contacts", { method: "POST", body: JSON.stringify({ name: "Bill" }) });
    await client.fetchJson("/api/contacts/c1", { method: "DELETE" });
    await client.endSession();
    expect(seen).toHaveLength(5);
    for (const request of seen) {
      expect(request.headers["x-csrf"]).toBe("1");
      expect(request.headers.accept).toBe("application/json");
    }
  });

  it("reads the session view", async () => {
    expect(await client.getSession()).toEqual({ authenticated: false });
    expect(seen[0]?.method).toBe("GET");
  });

  it("posts a new contact as JSON and returns the stored one", async () => {
    const created = await client.fetchJson("/api/contacts", {
      method: "POST",
      body: JSON.stringify({ name: "Bill", email: "bill@example.com", group: "work" }),
    });
    expect(created).toMatchObject({ id: "c2", name: "Bill", group: "work" });
    expect(seen[0]?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(seen[0]?.body ?? "")).toEqual({
      name: "Bill",
      email: "bill@example.com",
      group: "work",
    });
  });

  it("answers undefined for an empty answer, and rejects a 404 with its problem", async () => {
    await expect(client.fetchJson("/api/contacts/c1", { method: "DELETE" })).resolves.toBeUndefined();
    const error = await rejection(client.fetchJson("/api/contacts/a%2Fb", { method: "DELETE" }));
    expect(seen[1]?.url).toBe("/api/contacts/a%2Fb");
    expect(error.status).toBe(404);
    expect(error.code).toBe("not_found");
  });

  it("returns the logout redirect to follow", async () => {
    expect(await client.endSession()).toEqual({ redirectTo: "/bff/logout/end-session?ticket=abc" });
    expect(seen[0]?.method).toBe("POST");
  });

  it("throws a BffError carrying the server's problem details", async () => {
    const expired = await rejection(client.fetchJson("/api/expired"));
    expect(expired.status).toBe(401);
    expect(expired.code).toBe("session_expired");
    expect(expired.problem.title).toBe("Your session has ended");

    const scope = await rejection(client.fetchJson("/api/scope"));
    expect(scope.code).toBe("insufficient_scope");
  });

  it("falls back to a generic problem when the error body is not a problem", async () => {
    const gateway = await rejection(client.fetchJson("/api/gateway"));
    expect(gateway.status).toBe(502);
    expect(gateway.code).toBe("upstream_unreachable");
    expect(gateway.problem.title).toMatch(/server/i);

    const odd = await rejection(client.fetchJson("/api/odd-json"));
    expect(odd.status).toBe(503);
    expect(odd.code).toBe("upstream_unreachable");
    expect(odd.problem.title).toBe("Down for maintenance");
  });

  it("refuses a 2xx answer that is not JSON instead of handing HTML to the page", async () => {
    const error = await rejection(client.fetchJson("/api/html-ok"));
    expect(error.code).toBe("internal_error");
  });

  it("would be refused without the header: the stand-in checks what the BFF checks", async () => {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/bff/session`);
    expect(response.status).toBe(403);
  });
});

describe("a 401 with onSessionEnded: login (the default)", () => {
  it("leaves for a new login that comes back to the current page, and never settles", async () => {
    const visited: string[] = [];
    const relogin = createBffClient({
      baseUrl,
      navigate: (url) => visited.push(url),
      currentPage: () => "/contacts?group=family",
    });
    let settled = false;
    void relogin.fetchJson("/api/expired").finally(() => {
      settled = true;
    });
    await expect.poll(() => visited).toEqual([`${baseUrl}/bff/login?returnTo=%2Fcontacts%3Fgroup%3Dfamily`]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false);
  });

  it("never logs in again for an API's own 401: that would loop", async () => {
    const relogin = createBffClient({
      baseUrl,
      navigate: () => expect.unreachable("no login for invalid_token"),
    });
    expect((await rejection(relogin.fetchJson("/api/token-refused"))).code).toBe("invalid_token");
  });

  it("logs in again at most once in 30 seconds; a second session_expired right after is thrown", async () => {
    const memory = new Map<string, string>();
    const reloginMemory = {
      getItem: (k: string) => memory.get(k) ?? null,
      setItem: (k: string, v: string) => void memory.set(k, v),
    };
    let clock = 1_000_000;
    const visited: string[] = [];
    // A new client per "page load", as after each navigation; the memory is the session storage.
    const page = () =>
      createBffClient({
        baseUrl,
        navigate: (url) => visited.push(url),
        reloginMemory,
        now: () => clock,
        currentPage: () => "/",
      });
    void page().fetchJson("/api/expired");
    await expect.poll(() => visited.length).toBe(1);
    clock += 5_000;
    expect((await rejection(page().fetchJson("/api/expired"))).code).toBe("session_expired");
    expect(visited).toHaveLength(1);
    clock += 30_000;
    void page().fetchJson("/api/expired");
    await expect.poll(() => visited.length).toBe(2);
  });

  it("still rejects other failures, so the page can explain them", async () => {
    const relogin = createBffClient({ baseUrl, navigate: () => expect.unreachable("no login for a 403") });
    expect((await rejection(relogin.fetchJson("/api/scope"))).code).toBe("insufficient_scope");
  });

  it("logout follows the BFF's redirect", async () => {
    const visited: string[] = [];
    await createBffClient({ baseUrl, navigate: (url) => visited.push(url) }).logout();
    expect(visited).toEqual([`${baseUrl}/bff/logout/end-session?ticket=abc`]);
  });
});

describe("loginUrl", () => {
  it("adds scopes for incremental authorization, and a prompt", () => {
    expect(loginUrl("/contacts", { scopes: ["contacts:write"] })).toBe(
      "/bff/login?returnTo=%2Fcontacts&scope=contacts%3Awrite",
    );
    expect(loginUrl("/", { prompt: "login" })).toBe("/bff/login?returnTo=%2F&prompt=login");
  });

  it("sends the current path and query back through the login", () => {
    expect(loginUrl("/contacts?group=family")).toBe("/bff/login?returnTo=%2Fcontacts%3Fgroup%3Dfamily");
    expect(loginUrl("/")).toBe("/bff/login?returnTo=%2F");
  });

  it("never builds a returnTo that leaves the origin", () => {
    expect(loginUrl("https://evil.example/")).toBe("/bff/login?returnTo=%2F");
    expect(loginUrl("//evil.example/")).toBe("/bff/login?returnTo=%2F");
  });
});

describe("safeReturnTo", () => {
  it.each([
    ["/session", "/session"],
    ["/contacts?x=1#top", "/contacts?x=1#top"],
    ["", "/"],
    ["contacts", "/"],
    ["//evil.example", "/"],
    ["/\\evil.example", "/"],
    ["/a\nb", "/"],
    ["javascript:alert(1)", "/"],
  ])("%j becomes %j", (input, expected) => {
    expect(safeReturnTo(input)).toBe(expected);
  });
});
