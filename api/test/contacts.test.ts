import type { Contact } from "@oidc-bff/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Api } from "../src/index.ts";
import {
  apiFor,
  bearer,
  serviceAccessToken,
  startIdp,
  type TestIdp,
  USERS,
  userAccessToken,
} from "./helpers.ts";

let idp: TestIdp;
let api: Api;
let alice: string;
let bob: string;
let aliceReadOnly: string;
beforeAll(async () => {
  idp = await startIdp();
  api = apiFor(idp);
  alice = await userAccessToken(idp.idp, USERS.alice);
  bob = await userAccessToken(idp.idp, USERS.bob);
  aliceReadOnly = await userAccessToken(idp.idp, USERS.alice, "openid offline_access contacts:read");
});
afterAll(async () => {
  api.close();
  await idp.close();
});

const list = async (token: string) => {
  const response = await api.app.request("/contacts", bearer(token));
  expect(response.status).toBe(200);
  return (await response.json()) as Contact[];
};
const add = (token: string, body: unknown) =>
  api.app.request("/contacts", {
    method: "POST",
    headers: { ...bearer(token).headers, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("each person's contacts", () => {
  it("are seeded for alice and bob, and neither sees the other's", async () => {
    const names = (contacts: Contact[]) => contacts.map((c) => c.name).sort();
    expect(names(await list(alice))).toEqual(["Cheshire Cat", "Mad Hatter", "White Rabbit"]);
    const bobs = await list(bob);
    expect(bobs).toHaveLength(2);
    expect(names(bobs)).not.toContain("Mad Hatter");
  });

  it("can be added and deleted by their owner only (E9)", async () => {
    const created = await add(alice, { name: "Dormouse", email: "dormouse@example.com", group: "Tea" });
    expect(created.status).toBe(201);
    const contact = (await created.json()) as Contact;
    expect(contact).toMatchObject({ name: "Dormouse", email: "dormouse@example.com", group: "Tea" });
    expect(created.headers.get("location")).toBe(`contacts/${contact.id}`);
    expect((await list(alice)).map((c) => c.id)).toContain(contact.id);

    // bob cannot read or delete it, and learns nothing about whether it exists.
    const bobReads = await api.app.request(`/contacts/${contact.id}`, bearer(bob));
    expect(bobReads.status).toBe(404);
    const bobDeletes = await api.app.request(`/contacts/${contact.id}`, { method: "DELETE", ...bearer(bob) });
    expect(bobDeletes.status).toBe(404);
    expect(await bobDeletes.json()).toMatchObject({ code: "not_found", status: 404 });

    const deleted = await api.app.request(`/contacts/${contact.id}`, { method: "DELETE", ...bearer(alice) });
    expect(deleted.status).toBe(204);
    expect((await list(alice)).map((c) => c.id)).not.toContain(contact.id);
  });

  it("refuses an invalid contact with field errors and stores nothing", async () => {
    const before = (await list(alice)).length;
    const response = await add(alice, { name: "", email: "not-an-email" });
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await response.json()) as { errors: Record<string, string> };
    expect(problem).toMatchObject({ code: "invalid_request", errors: { name: expect.any(String) } });
    expect(problem.errors.email).toBeTruthy();
    expect(await list(alice)).toHaveLength(before);
  });

  it("refuses a body that is not JSON with a problem, not a 500", async () => {
    const response = await api.app.request("/contacts", {
      method: "POST",
      headers: { ...bearer(alice).headers, "content-type": "application/json" },
      body: "{not json",
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "invalid_request" });
  });
});

describe("scopes", () => {
  it("a token with contacts:read only may list but not write: 403 insufficient_scope (E8)", async () => {
    expect(await list(aliceReadOnly)).not.toHaveLength(0);
    const response = await add(aliceReadOnly, { name: "March Hare", email: "hare@example.com" });
    expect(response.status).toBe(403);
    expect(response.headers.get("www-authenticate")).toMatch(/error="insufficient_scope"/);
    expect(response.headers.get("www-authenticate")).toMatch(/scope="contacts:write"/);
    expect(await response.json()).toMatchObject({
      code: "insufficient_scope",
      status: 403,
      scope: "contacts:write",
    });
  });

  it("a service's own token (client credentials) reads /stats but never a person's contacts", async () => {
    const service = await serviceAccessToken(idp.idp);
    const stats = await api.app.request("/stats", bearer(service));
    expect(stats.status).toBe(200);
    const counts = (await stats.json()) as Record<string, unknown>;
    expect(JSON.stringify(counts)).not.toContain("@");
    const contacts = await api.app.request("/contacts", bearer(service));
    expect(contacts.status).toBe(403);
    expect(await contacts.json()).toMatchObject({ status: 403 });
  });

  it("/stats needs contacts:stats", async () => {
    const response = await api.app.request("/stats", bearer(alice));
    expect(response.status).toBe(403);
  });
});

describe("routes", () => {
  it("an unknown path is a 404 problem and a wrong method a 405 with Allow", async () => {
    const missing = await api.app.request("/nothing-here");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
    const wrong = await api.app.request("/contacts", { method: "PUT", ...bearer(alice) });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toContain("GET");
  });

  it("/health answers without a token", async () => {
    const response = await api.app.request("/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });
});
