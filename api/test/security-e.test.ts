/**
 * Resource-server cases of the security checklist (docs/security.md) that the
 * other API tests leave open: RFC 9068's required claims `jti`, `aud` and
 * `iss` (E6), a service's token next to a person whose `sub` is the service's
 * client id (E10), and a token offered in a form body instead of the
 * Authorization header (E11). Tokens are signed with the real IdP's key, so
 * each refusal comes from the one claim a case changes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import type { Api } from "../src/index.ts";
import { forge } from "./forge.ts";
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
let aliceToken: string;
beforeAll(async () => {
  idp = await startIdp();
  aliceToken = await userAccessToken(idp.idp, USERS.alice);
});
afterAll(async () => {
  await idp.close();
});

const apis: Api[] = [];
function newApi(): Api {
  const api = apiFor(idp);
  apis.push(api);
  return api;
}
afterEach(() => {
  for (const api of apis.splice(0)) api.close();
});

async function expectInvalidToken(response: Response) {
  expect(response.status).toBe(401);
  expect(response.headers.get("www-authenticate")).toMatch(/^Bearer realm="contacts", error="invalid_token"/);
  expect(await response.json()).toMatchObject({ status: 401, code: "invalid_token" });
}

describe("required claims of an RFC 9068 access token (E6)", () => {
  it("accepts the control: every claim present (E6)", async () => {
    expect((await newApi().app.request("/me", bearer(await forge(idp.signingKey)))).status).toBe(200);
  });

  it.each<[string, Record<string, unknown>]>([
    ["no jti", { jti: undefined }],
    ["an empty jti", { jti: "" }],
    ["a numeric jti", { jti: 42 }],
    ["no aud", { aud: undefined }],
    ["an empty aud list", { aud: [] }],
    ["no iss", { iss: undefined }],
    ["no exp", { exp: undefined }],
  ])("refuses a token with %s (E6)", async (_name, claims) => {
    await expectInvalidToken(
      await newApi().app.request("/me", bearer(await forge(idp.signingKey, { claims }))),
    );
  });

  it("says which claim is missing, in words a client can log (E6)", async () => {
    const response = await newApi().app.request(
      "/me",
      bearer(await forge(idp.signingKey, { claims: { jti: undefined } })),
    );
    expect(response.headers.get("www-authenticate")).toContain(
      'error_description="The access token has no jti',
    );
  });

  it("finds jti in the IdP's real tokens, so the check refuses nothing it issues (E6)", async () => {
    const [, payload = ""] = aliceToken.split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
    expect(claims).toMatchObject({
      jti: expect.any(String),
      aud: expect.anything(),
      iss: expect.any(String),
    });
    expect((await newApi().app.request("/me", bearer(aliceToken))).status).toBe(200);
  });
});

describe("a client's own token is never a person's (E10)", () => {
  /** A person whose `sub` is the service's client id, signed in through the BFF's client. */
  const namesake = () =>
    forge(idp.signingKey, {
      claims: { sub: "reporting-service", client_id: "web-bff", scope: "contacts:read contacts:write" },
    });
  /** The service acting for itself, with every scope the API knows. */
  const serviceWithEveryScope = () =>
    forge(idp.signingKey, {
      claims: {
        sub: "reporting-service",
        client_id: "reporting-service",
        scope: "contacts:read contacts:write contacts:stats",
      },
    });

  it("does not let the service read or write the contacts of a person whose sub is its client id (E10)", async () => {
    const api = newApi();
    const created = await api.app.request("/contacts", {
      method: "POST",
      headers: { authorization: `Bearer ${await namesake()}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "Namesake's friend", email: "friend@example.com" }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    // With every scope it is refused for having no user; the real one (contacts:stats only) already for its scope.
    for (const [token, detail] of [
      [await serviceWithEveryScope(), "This request needs a token issued to a user, not to a client."],
      [await serviceAccessToken(idp.idp), "This request needs the contacts:read scope."],
    ] as const) {
      const list = await api.app.request("/contacts", bearer(token));
      expect(list.status).toBe(403);
      const body = await list.text();
      expect(body).not.toContain("friend@example.com");
      expect(JSON.parse(body)).toMatchObject({ code: "insufficient_scope", detail });
      const removed = await api.app.request(`/contacts/${id}`, { method: "DELETE", ...bearer(token) });
      expect(removed.status).toBe(403);
    }
    // The person still has the contact: nothing the service did reached it.
    const mine = await api.app.request("/contacts", bearer(await namesake()));
    expect(await mine.text()).toContain("friend@example.com");
  });

  it("does not give the person the service's /stats: the scope decides, not the sub (E10)", async () => {
    const api = newApi();
    const response = await api.app.request("/stats", bearer(await namesake()));
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: "insufficient_scope", scope: "contacts:stats" });
    // /me tells them apart by client_id: the same sub, one a person, one a client.
    const person = await (await api.app.request("/me", bearer(await namesake()))).json();
    const service = await (await api.app.request("/me", bearer(await serviceAccessToken(idp.idp)))).json();
    expect(person).toMatchObject({ sub: "reporting-service", client_id: "web-bff" });
    expect(service).toMatchObject({ sub: "reporting-service", client_id: "reporting-service" });
  });
});

describe("the bearer token comes from the Authorization header only (E11)", () => {
  it("refuses a token in a form body, RFC 6750 §2.2's method, on a create and a delete (E11)", async () => {
    const api = newApi();
    const form = { "content-type": "application/x-www-form-urlencoded" };
    for (const [method, path] of [
      ["POST", "/contacts"],
      ["DELETE", "/contacts/some-id"],
    ] as const) {
      const response = await api.app.request(path, {
        method,
        headers: form,
        body: new URLSearchParams({
          access_token: aliceToken,
          name: "Eve",
          email: "eve@example.com",
        }).toString(),
      });
      expect(response.status).toBe(401);
      // No token was found at all: a bare challenge, not a complaint about the token.
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="contacts"');
    }
    const list = await api.app.request("/contacts", bearer(aliceToken));
    expect(await list.text()).not.toContain("eve@example.com");
  });

  it("refuses a token in a JSON body or an access_token header too (E11)", async () => {
    const api = newApi();
    const json = await api.app.request("/contacts", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ access_token: aliceToken, name: "Eve", email: "eve@example.com" }),
    });
    expect(json.status).toBe(401);
    const header = await api.app.request("/me", { headers: { access_token: aliceToken } });
    expect(header.status).toBe(401);
  });
});
