/**
 * Incremental authorization: the first login asks for read access only; a page
 * that needs more sends the person through `/bff/login?scope=contacts:write`,
 * where the IdP asks for just the missing scope, and the new session holds
 * read and write. Real IdP (its consent page), real API, real BFF.
 */
import type { AuthenticatedSession } from "@oidc-bff/shared";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { BFF, IDP, startSystem, TestBrowser, type TestSystem, USERS } from "./harness.ts";

const READ_ONLY = "openid profile email offline_access contacts:read";
const WRITE = "contacts:write";

let system: TestSystem;

beforeEach(async () => {
  system = await startSystem({ scopes: READ_ONLY, additionalScopes: WRITE });
});
afterEach(() => system.close());

async function scopesOf(browser: TestBrowser): Promise<string[]> {
  const session = (await (await browser.api("/bff/session")).json()) as AuthenticatedSession;
  expect(session.authenticated).toBe(true);
  return session.scopes;
}

function addContact(browser: TestBrowser, name: string): Promise<Response> {
  return browser.api("/api/contacts", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, email: `${name.toLowerCase().replace(/\W/g, "")}@example.com` }),
  });
}

/** Follows a login until the IdP shows its consent page, and returns that page. */
async function consentPageFor(browser: TestBrowser, url: string): Promise<string> {
  const { response, url: at } = await browser.navigate(url, { user: USERS.alice });
  expect(new URL(at).origin).toBe(IDP);
  const page = await response.text();
  expect(page).toContain("Allow access?");
  return page;
}

describe("incremental authorization", () => {
  it("asks for read access first; a write is refused with insufficient_scope, even after a refresh (C15)", async () => {
    const alice = new TestBrowser(system);
    const consent = await consentPageFor(alice, `${BFF}/bff/login?returnTo=/contacts`);
    expect(consent).toContain("<code>contacts:read</code>");
    expect(consent).not.toContain(WRITE);
    await alice.navigate(`${BFF}/bff/login?returnTo=/contacts`, { user: USERS.alice, consent: "allow" });

    expect(await scopesOf(alice)).not.toContain(WRITE);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    const refused = await addContact(alice, "March Hare");
    expect(refused.status).toBe(403);
    // The API names the missing scope, and the proxy passes it on for the page to ask for.
    expect(await refused.json()).toMatchObject({ code: "insufficient_scope", scope: WRITE });

    // A refresh never widens the grant.
    system.advance(10 * 60 * 1000);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    expect(await scopesOf(alice)).not.toContain(WRITE);
    expect((await addContact(alice, "March Hare")).status).toBe(403);
  });

  it("asks for just the missing scope, keeps read access and returns to the same page", async () => {
    const alice = new TestBrowser(system);
    await alice.login(USERS.alice, "/contacts");
    const before = (await (await alice.api("/bff/session")).json()) as AuthenticatedSession;

    const more = `${BFF}/bff/login?returnTo=${encodeURIComponent("/contacts?editing=1")}&scope=${WRITE}`;
    const consent = await consentPageFor(alice, more);
    // The IdP lists only what is new, and says what was already allowed.
    expect(consent.match(/<ul class="scopes">[\s\S]*?<\/ul>/)?.[0]).toContain(WRITE);
    expect(consent.match(/<ul class="scopes">[\s\S]*?<\/ul>/)?.[0]).not.toContain("contacts:read");
    expect(consent).toMatch(/Already allowed:.*contacts:read/);

    const { url } = await alice.navigate(more, { user: USERS.alice, consent: "allow" });
    expect(url).toBe(`${BFF}/contacts?editing=1`);
    const scopes = await scopesOf(alice);
    expect(scopes).toEqual(expect.arrayContaining(["contacts:read", WRITE]));
    expect((await addContact(alice, "Dormouse")).status).toBe(201);
    expect((await alice.api("/api/contacts")).status).toBe(200);

    // It is a new session (a new login), for the same person.
    const after = (await (await alice.api("/bff/session")).json()) as AuthenticatedSession;
    expect(after.user.sub).toBe(before.user.sub);
  });

  it("a person who denies editing keeps the session they had, read access included", async () => {
    const alice = new TestBrowser(system);
    await alice.login(USERS.alice, "/contacts");
    const { response } = await alice.navigate(`${BFF}/bff/login?returnTo=/contacts&scope=${WRITE}`, {
      user: USERS.alice,
      consent: "deny",
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await scopesOf(alice)).not.toContain(WRITE);
    expect((await alice.api("/api/contacts")).status).toBe(200);
  });

  it("refuses scopes the BFF is not configured to offer, with a readable page (X6)", async () => {
    const alice = new TestBrowser(system);
    const response = await alice.fetch(`${BFF}/bff/login?scope=${encodeURIComponent("contacts:admin")}`);
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await response.text();
    expect(page).toContain("A requested scope is not available");
    // What the link said is not echoed on our origin (phishing text).
    expect(page).not.toContain("contacts:admin");
  });

  it("a first login may already ask for an offered scope", async () => {
    const alice = new TestBrowser(system);
    await alice.navigate(`${BFF}/bff/login?returnTo=/&scope=${WRITE}`, {
      user: USERS.alice,
      consent: "allow",
    });
    expect(await scopesOf(alice)).toEqual(expect.arrayContaining(["contacts:read", WRITE]));
  });

  it("a route configured to need a scope is refused by the BFF itself, naming the scope, before any API call", async () => {
    const routed = await startSystem({
      scopes: READ_ONLY,
      additionalScopes: WRITE,
      apiRoutes: [
        { path: "/contacts", methods: ["GET"] },
        { path: "/contacts", methods: ["POST"], scopes: [WRITE] },
      ],
    });
    try {
      const alice = new TestBrowser(routed);
      await alice.login(USERS.alice, "/contacts");
      const apiCalls: string[] = [];
      const original = routed.fetch;
      routed.fetch = async (input, init) => {
        const request = new Request(input, init);
        if (request.url.startsWith("http://localhost:4001/"))
          apiCalls.push(`${request.method} ${request.url}`);
        return original(request);
      };
      expect((await alice.api("/api/contacts")).status).toBe(200);
      const refused = await addContact(alice, "Cheshire Cat");
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ code: "insufficient_scope", scope: WRITE });
      expect(apiCalls).toEqual(["GET http://localhost:4001/contacts"]);
      // One path, two routes: another method is still a 405 listing both.
      const put = await alice.api("/api/contacts", { method: "PUT" });
      expect(put.status).toBe(405);
      expect(put.headers.get("allow")).toBe("GET, POST");

      await alice.navigate(`${BFF}/bff/login?returnTo=/contacts&scope=${WRITE}`, {
        user: USERS.alice,
        consent: "allow",
      });
      expect((await addContact(alice, "Cheshire Cat")).status).toBe(201);
    } finally {
      await routed.close();
    }
  });

  it("says in the log when the provider silently drops a configured scope it does not know", async () => {
    const warnings: string[] = [];
    const logger = { info: () => {}, error: () => {}, warn: (line: string) => warnings.push(line) };
    const unknown = await startSystem({ scopes: `${READ_ONLY} notes:read` }, { logger });
    try {
      const alice = new TestBrowser(unknown);
      await alice.login(USERS.alice, "/");
      expect(await scopesOf(alice)).not.toContain("notes:read");
      // (The development client's id has a "-": the start-up note on client_secret_basic is expected.)
      expect(warnings.filter((line) => !line.startsWith("client authentication:"))).toEqual([
        expect.stringContaining("did not grant notes:read"),
      ]);
    } finally {
      await unknown.close();
    }
    // Everything granted: nothing to say.
    warnings.length = 0;
    const alice = new TestBrowser(system);
    await alice.login(USERS.alice, "/");
    expect(warnings).toEqual([]);
  });

  it("checks the scopes of every route that matches, whatever the order they are listed in", async () => {
    const routed = await startSystem({
      scopes: READ_ONLY,
      additionalScopes: WRITE,
      apiRoutes: [
        { path: "/contacts/*", methods: ["GET", "DELETE"] },
        { path: "/contacts/*", methods: ["DELETE"], scopes: [WRITE] },
      ],
    });
    try {
      const alice = new TestBrowser(routed);
      await alice.login(USERS.alice, "/contacts");
      const refused = await alice.api("/api/contacts/some-id", { method: "DELETE" });
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ code: "insufficient_scope", scope: WRITE });
    } finally {
      await routed.close();
    }
  });
});
