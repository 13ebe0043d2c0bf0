/**
 * The helpers for the application's own routes (bff/src/own-routes.ts), in an app that
 * mounts the BFF as docs/reuse.md shows: its own page, its own JSON route and a server-side
 * call to the API, with the real IdP and API behind them.
 */
import { Hono } from "hono";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { Bff } from "../src/index.ts";
import { BFF, startSystem, TestBrowser, type TestSystem, USERS } from "./harness.ts";

let system: TestSystem;
let app: Hono;

beforeEach(async () => {
  system = await startSystem();
  const bff = system.bff as Bff;
  app = new Hono();
  app.get("/account", bff.requireSession({ page: true }), async (c) => c.json(await bff.session(c)));
  app.get("/own/me", bff.requireSession(), async (c) => c.json({ sub: (await bff.session(c))?.user.sub }));
  app.post("/own/notes", bff.requireSession(), async (c) => c.json({ saved: true }, 201));
  // A route that calls the API without requireSession: fetchApi checks by itself.
  app.post("/own/forward", async (c) => bff.fetchApi(c, "/contacts"));
  app.get("/own/summary", async (c) => {
    const contacts = await bff.fetchApi(c, "/contacts");
    if (!contacts.ok) return contacts;
    return c.json({ count: ((await contacts.json()) as unknown[]).length });
  });
  app.get("/own/elsewhere", async (c) => {
    try {
      return await bff.fetchApi(c, "//evil.example/contacts");
    } catch (error) {
      return c.json({ refused: String(error) }, 400);
    }
  });
  app.route("/", bff);
  // The browser reaches the app, which holds the BFF's routes beside its own.
  const routed = system.fetch;
  system.fetch = async (input, init) => {
    const request = new Request(input, init);
    return new URL(request.url).origin === BFF ? app.fetch(request) : routed(request);
  };
});
afterEach(async () => {
  await system.close();
});

describe("the application's own routes", () => {
  it("without a session: a JSON route answers a 401 problem, a page redirects to the login and back", async () => {
    const stranger = new TestBrowser(system);
    const json = await stranger.fetch(`${BFF}/own/me`);
    expect(json.status).toBe(401);
    expect(await json.json()).toMatchObject({ code: "not_authenticated" });
    const page = await stranger.fetch(`${BFF}/account?tab=2`);
    expect(page.status).toBe(302);
    expect(page.headers.get("location")).toBe(`/bff/login?returnTo=${encodeURIComponent("/account?tab=2")}`);
  });

  it("a route of the app's own that changes something needs the same cross-site check as the BFF's (X27)", async () => {
    const alice = new TestBrowser(system);
    await alice.login(USERS.alice);
    // What a form on another site can send: the cookie (were it not Strict), but no header.
    const forged = await alice.fetch(`${BFF}/own/notes`, { method: "POST", body: "x" });
    expect(forged.status).toBe(403);
    expect(await forged.json()).toMatchObject({ code: "csrf_check_failed" });
    const crossSite = await alice.fetch(`${BFF}/own/notes`, {
      method: "POST",
      headers: { "x-csrf": "1", "sec-fetch-site": "cross-site" },
    });
    expect(crossSite.status).toBe(403);
    // The app's own script, through @oidc-bff/client.
    expect(
      (await alice.fetch(`${BFF}/own/notes`, { method: "POST", headers: { "x-csrf": "1" } })).status,
    ).toBe(201);
    // A state-changing route that only calls fetchApi gets the same check.
    const forwarded = await alice.fetch(`${BFF}/own/forward`, { method: "POST" });
    expect(forwarded.status).toBe(403);
    expect(await forwarded.json()).toMatchObject({ code: "csrf_check_failed" });
    const sent = await alice.fetch(`${BFF}/own/forward`, { method: "POST", headers: { "x-csrf": "1" } });
    expect(sent.status).toBe(200);
  });

  it("with a session: the page reads who is logged in and the scopes, never a token", async () => {
    const alice = new TestBrowser(system);
    await alice.login(USERS.alice);
    const response = await alice.fetch(`${BFF}/account`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ authenticated: true, user: { sub: "user-alice" } });
    expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
    expect((await (await alice.fetch(`${BFF}/own/me`)).json()) as unknown).toEqual({ sub: "user-alice" });
  });

  it("a server-side call to the API uses the session's token and refreshes it once when it expires", async () => {
    const alice = new TestBrowser(system);
    await alice.login(USERS.alice);
    expect(await (await alice.fetch(`${BFF}/own/summary`)).json()).toMatchObject({
      count: expect.any(Number),
    });

    const before = system.refreshCount();
    system.advance(10 * 60_000);
    const answers = await Promise.all(Array.from({ length: 5 }, () => alice.fetch(`${BFF}/own/summary`)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(system.refreshCount()).toBe(before + 1);
    // The refreshed session reaches the browser as the proxy's would.
    expect(
      answers.some((answer) => (answer.headers.get("set-cookie") ?? "").includes("__Host-bff-session=")),
    ).toBe(true);
  });

  it("after logout the server-side call is a 401 problem; a path that is not on the API is refused", async () => {
    const alice = new TestBrowser(system);
    await alice.login(USERS.alice);
    const captured = alice.cookie(new URL(BFF).host, "__Host-bff-session")?.value ?? "";
    await alice.api("/bff/logout", { method: "POST" });
    const replay = new TestBrowser(system);
    replay.setCookie(new URL(BFF).host, "__Host-bff-session", captured);
    const answer = await replay.fetch(`${BFF}/own/summary`);
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ code: "session_expired" });

    const again = new TestBrowser(system);
    await again.login(USERS.alice);
    const elsewhere = await again.fetch(`${BFF}/own/elsewhere`);
    expect(elsewhere.status).toBe(400);
    expect(await elsewhere.json()).toMatchObject({ refused: expect.stringContaining("single /") });
  });
});
