/**
 * The two ways the API validates tokens, side by side, against a real IdP:
 * `jwt` (RFC 9068 signatures checked locally) and `introspection` (RFC 7662,
 * every token checked at the IdP as the `contacts-api` client). The IdP issues
 * JWT access tokens to the first and opaque ones to the second: oidc-provider
 * can only introspect tokens it stores, and it stores only opaque ones.
 */
import { CONTACTS_API_CLIENT_ID, DEV_CONTACTS_API_SECRET, DEV_WEB_BFF_SECRET } from "@oidc-bff/idp";
import { createIntrospectionVerifier } from "@oidc-bff/resource-server";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type Api, type ApiConfig, ApiError, type TokenValidation } from "../src/index.ts";
import {
  AUDIENCE,
  apiFor,
  bearer,
  ISSUER,
  revoke,
  serviceAccessToken,
  startIdp,
  type TestIdp,
  USERS,
  type UserTokens,
  userTokens,
} from "./helpers.ts";

const INTROSPECTION: TokenValidation = {
  mode: "introspection",
  clientId: CONTACTS_API_CLIENT_ID,
  clientSecret: DEV_CONTACTS_API_SECRET,
};
const INTROSPECTION_PATH = "/token/introspection";

let jwtIdp: TestIdp;
let opaqueIdp: TestIdp;
/** Alice's tokens from each IdP, for every test that does not revoke them (a sign-in is slow). */
let jwtAlice: UserTokens;
let opaqueAlice: UserTokens;
beforeAll(async () => {
  [jwtIdp, opaqueIdp] = await Promise.all([startIdp(), startIdp({ apiAccessTokenFormat: "opaque" })]);
  [jwtAlice, opaqueAlice] = await Promise.all([
    userTokens(jwtIdp.idp, USERS.alice),
    userTokens(opaqueIdp.idp, USERS.alice),
  ]);
});
afterAll(async () => {
  await Promise.all([jwtIdp.close(), opaqueIdp.close()]);
});

const apis: Api[] = [];
function newApi(idp: TestIdp, config: Partial<ApiConfig> = {}, deps: Parameters<typeof apiFor>[2] = {}): Api {
  idp.fetched.length = 0;
  const api = apiFor(idp, config, deps);
  apis.push(api);
  return api;
}
afterEach(() => {
  for (const api of apis.splice(0)) api.close();
  vi.restoreAllMocks();
});

const me = (api: Api, token: string) => api.app.request("/me", bearer(token));
const addContact = (api: Api, token: string) =>
  api.app.request("/contacts", {
    method: "POST",
    headers: { ...bearer(token).headers, "content-type": "application/json" },
    body: JSON.stringify({ name: "March Hare", email: "hare@example.com" }),
  });
const introspections = (idp: TestIdp) => idp.fetched.filter((path) => path === INTROSPECTION_PATH).length;

async function expectInvalidToken(response: Response, description?: RegExp) {
  expect(response.status).toBe(401);
  const challenge = response.headers.get("www-authenticate") ?? "";
  expect(challenge).toMatch(/^Bearer realm="contacts", error="invalid_token", error_description="[^"\\]+"$/);
  if (description) expect(challenge).toMatch(description);
  expect(await response.json()).toMatchObject({ status: 401, code: "invalid_token" });
}

async function expectIdpUnavailable(response: Response) {
  expect(response.status).toBe(503);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  expect(response.headers.get("retry-after")).toBe("5");
  expect(await response.json()).toMatchObject({ status: 503, code: "idp_unavailable" });
}

const MODES = [
  { mode: "jwt", idp: () => jwtIdp, config: {} },
  { mode: "introspection", idp: () => opaqueIdp, config: { tokenValidation: INTROSPECTION } },
] as const;

describe.each(MODES)("in $mode mode", ({ mode, idp, config }) => {
  let alice: UserTokens;
  let aliceReadOnly: UserTokens;
  beforeAll(async () => {
    alice = mode === "jwt" ? jwtAlice : opaqueAlice;
    aliceReadOnly = await userTokens(idp().idp, USERS.alice, "openid offline_access contacts:read");
  });

  it("accepts a valid access token: /me names the user, the client and the scopes", async () => {
    // The control for every refusal below: the token is one of each mode's own kind.
    expect(alice.accessToken.split(".")).toHaveLength(mode === "jwt" ? 3 : 1);
    const response = await me(newApi(idp(), config), alice.accessToken);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      sub: "user-alice",
      client_id: "web-bff",
      scope: "contacts:read contacts:write",
    });
  });

  it("enforces scopes: contacts:read may list but not write, and not read /stats", async () => {
    const api = newApi(idp(), config);
    expect((await api.app.request("/contacts", bearer(aliceReadOnly.accessToken))).status).toBe(200);
    const write = await addContact(api, aliceReadOnly.accessToken);
    expect(write.status).toBe(403);
    expect(write.headers.get("www-authenticate")).toMatch(
      /error="insufficient_scope", scope="contacts:write"/,
    );
    expect((await api.app.request("/stats", bearer(alice.accessToken))).status).toBe(403);
    expect((await addContact(api, alice.accessToken)).status).toBe(201);
  });

  it("gives a service's own token (no user) /stats but never a person's contacts", async () => {
    const api = newApi(idp(), config);
    const service = await serviceAccessToken(idp().idp);
    expect((await api.app.request("/stats", bearer(service))).status).toBe(200);
    const whoami = await me(api, service);
    expect(await whoami.json()).toMatchObject({ sub: "reporting-service", client_id: "reporting-service" });
    const contacts = await api.app.request("/contacts", bearer(service));
    expect(contacts.status).toBe(403);
    expect(contacts.headers.get("www-authenticate")).toMatch(/error="insufficient_scope"/);
  });

  it("refuses a real token that is not for this API (the userinfo access token)", async () => {
    await expectInvalidToken(await me(newApi(idp(), config), alice.userinfoAccessToken));
  });

  it("refuses a real token when the API is another audience", async () => {
    const api = newApi(idp(), { ...config, audience: "http://localhost:9999" });
    await expectInvalidToken(await me(api, alice.accessToken), /aud/);
  });
});

describe("a token revoked at the IdP (RFC 7009)", () => {
  it("is still accepted in jwt mode until it expires: nothing tells the API", async () => {
    const api = newApi(jwtIdp);
    const tokens = await userTokens(jwtIdp.idp, USERS.alice);
    expect((await me(api, tokens.accessToken)).status).toBe(200);

    // oidc-provider cannot revoke a JWT access token itself; revoking the refresh token ends the grant.
    await revoke(jwtIdp.idp, tokens.refreshToken, "refresh_token");
    const refresh = jwtIdp.fetch(`${ISSUER}/token`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`web-bff:${DEV_WEB_BFF_SECRET}`).toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: tokens.refreshToken,
      }).toString(),
    });
    expect((await refresh).status).toBe(400); // the revocation happened

    expect((await me(newApi(jwtIdp), tokens.accessToken)).status).toBe(200);
  });

  it("is refused at once in introspection mode, by the same API instance (X4)", async () => {
    const api = newApi(opaqueIdp, { tokenValidation: INTROSPECTION });
    const tokens = await userTokens(opaqueIdp.idp, USERS.alice);
    expect((await me(api, tokens.accessToken)).status).toBe(200);
    await revoke(opaqueIdp.idp, tokens.accessToken, "access_token");
    await expectInvalidToken(await me(api, tokens.accessToken), /not active/);
  });

  it("is refused in introspection mode when its grant ends (the refresh token was revoked)", async () => {
    const api = newApi(opaqueIdp, { tokenValidation: INTROSPECTION });
    const tokens = await userTokens(opaqueIdp.idp, USERS.bob);
    expect((await me(api, tokens.accessToken)).status).toBe(200);
    await revoke(opaqueIdp.idp, tokens.refreshToken, "refresh_token");
    await expectInvalidToken(await me(api, tokens.accessToken));
  });

  it("with a 30 s introspection cache, stays accepted up to 30 s, then is refused", async () => {
    let clock = Date.now();
    const api = newApi(
      opaqueIdp,
      { tokenValidation: { ...INTROSPECTION, cacheSeconds: 30 } },
      { now: () => clock },
    );
    const tokens = await userTokens(opaqueIdp.idp, USERS.alice);
    expect((await me(api, tokens.accessToken)).status).toBe(200);
    await revoke(opaqueIdp.idp, tokens.accessToken, "access_token");
    clock += 29_000;
    expect((await me(api, tokens.accessToken)).status).toBe(200);
    expect(introspections(opaqueIdp)).toBe(1);
    clock += 2_000;
    await expectInvalidToken(await me(api, tokens.accessToken));
    expect(introspections(opaqueIdp)).toBe(2);
  });
});

describe("introspection mode", () => {
  it("asks the IdP on every request (no cache by default), once for requests sent together", async () => {
    const api = newApi(opaqueIdp, { tokenValidation: INTROSPECTION });
    const { accessToken } = opaqueAlice;
    const together = await Promise.all([me(api, accessToken), me(api, accessToken), me(api, accessToken)]);
    expect(together.map((response) => response.status)).toEqual([200, 200, 200]);
    expect(introspections(opaqueIdp)).toBe(1);
    expect((await me(api, accessToken)).status).toBe(200);
    expect((await me(api, accessToken)).status).toBe(200);
    expect(introspections(opaqueIdp)).toBe(3);
    // Found by discovery, once.
    expect(opaqueIdp.fetched.filter((path) => path.startsWith("/.well-known/"))).toHaveLength(1);
  });

  it("refuses a JWT access token with a clear 401: this IdP cannot introspect JWTs", async () => {
    const { accessToken } = jwtAlice;
    const api = newApi(jwtIdp, { tokenValidation: INTROSPECTION });
    await expectInvalidToken(await me(api, accessToken), /cannot introspect/);
  });

  it("is refused when the API authenticates as a client without the introspection permission", async () => {
    const { accessToken } = opaqueAlice;
    // web-bff is a real client with a real secret, and the token is even its own: still active:false.
    const api = newApi(opaqueIdp, {
      tokenValidation: { mode: "introspection", clientId: "web-bff", clientSecret: DEV_WEB_BFF_SECRET },
    });
    await expectInvalidToken(await me(api, accessToken), /not active/);
  });

  it("answers 503 (never 401 or 500) when the IdP refuses the API's own credentials, and logs no secret", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const { accessToken } = opaqueAlice;
    const secret = "not-the-contacts-api-secret";
    const api = newApi(opaqueIdp, { tokenValidation: { ...INTROSPECTION, clientSecret: secret } });
    await expectIdpUnavailable(await me(api, accessToken));
    expect(log).toHaveBeenCalled();
    const logged = JSON.stringify(log.mock.calls, (_, value) =>
      value instanceof Error ? String(value) : value,
    );
    expect(logged).toContain("credentials");
    expect(logged).not.toContain(secret);
    expect(logged).not.toContain(accessToken);
  });
});

describe("introspection mode when the IdP fails", () => {
  it("answers 503 with Retry-After while the introspection endpoint is down, and recovers", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    let up = false;
    const api = newApi(
      opaqueIdp,
      { tokenValidation: INTROSPECTION },
      {
        fetch: (input, init) =>
          up || !String(input).endsWith(INTROSPECTION_PATH)
            ? opaqueIdp.fetch(input, init)
            : Promise.reject(new TypeError("fetch failed: ECONNREFUSED")),
      },
    );
    const { accessToken } = opaqueAlice;
    const response = await me(api, accessToken);
    await expectIdpUnavailable(response.clone());
    expect(JSON.stringify(await response.json())).not.toContain("ECONNREFUSED");
    expect(JSON.stringify(log.mock.calls)).not.toContain(accessToken);
    up = true;
    expect((await me(api, accessToken)).status).toBe(200);
  });

  it.each([
    ["a 500", () => new Response("oops", { status: 500 })],
    ["a 200 that is not JSON", () => new Response("<html>", { status: 200 })],
    ["a JSON array", () => Response.json([{ active: true }])],
  ])("answers 503 when the introspection endpoint answers %s", async (_, answer) => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const api = newApi(
      opaqueIdp,
      { tokenValidation: INTROSPECTION },
      {
        fetch: async (input, init) =>
          String(input).endsWith(INTROSPECTION_PATH) ? answer() : opaqueIdp.fetch(input, init),
      },
    );
    const { accessToken } = opaqueAlice;
    await expectIdpUnavailable(await me(api, accessToken));
  });

  it("answers 503 when the IdP publishes no introspection endpoint", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const api = newApi(
      jwtIdp,
      { tokenValidation: INTROSPECTION },
      {
        fetch: async (input, init) => {
          const response = await jwtIdp.fetch(input, init);
          if (!String(input).endsWith("/openid-configuration")) return response;
          const { introspection_endpoint: _, ...metadata } = (await response.json()) as Record<
            string,
            unknown
          >;
          return Response.json(metadata);
        },
      },
    );
    await expectIdpUnavailable(await me(api, "an-opaque-token"));
  });

  it("gives up on an IdP that does not answer in time", async () => {
    const verify = createIntrospectionVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      clientId: CONTACTS_API_CLIENT_ID,
      clientSecret: DEV_CONTACTS_API_SECRET,
      clockToleranceSeconds: 5,
      timeoutMs: 50,
      now: Date.now,
      fetch: (input, init) =>
        String(input).endsWith(INTROSPECTION_PATH)
          ? new Promise((_, reject) =>
              init?.signal?.addEventListener("abort", () => reject(init.signal?.reason)),
            )
          : opaqueIdp.fetch(input, init),
    });
    await expect(verify("an-opaque-token")).rejects.toMatchObject({ code: "idp_unavailable" });
  });
});

describe("introspection answers the API does not take at the IdP's word", () => {
  let token: string;
  beforeAll(() => {
    token = opaqueAlice.accessToken;
  });

  /** The API, with the IdP's real answer for `token` altered by `change`. */
  function apiWithAnswer(change: (answer: Record<string, unknown>) => Record<string, unknown>) {
    return newApi(
      opaqueIdp,
      { tokenValidation: INTROSPECTION },
      {
        fetch: async (input, init) => {
          const response = await opaqueIdp.fetch(input, init);
          if (!String(input).endsWith(INTROSPECTION_PATH)) return response;
          return Response.json(change((await response.json()) as Record<string, unknown>));
        },
      },
    );
  }
  const now = () => Math.floor(Date.now() / 1000);

  it("accepts the answer unchanged (the control)", async () => {
    expect(
      (
        await me(
          apiWithAnswer((a) => a),
          token,
        )
      ).status,
    ).toBe(200);
  });

  it.each<[string, (answer: Record<string, unknown>) => Record<string, unknown>]>([
    ['active "true" (a string)', (a) => ({ ...a, active: "true" })],
    ["another issuer", (a) => ({ ...a, iss: "http://evil.example" })],
    ["no issuer", ({ iss: _, ...a }) => a],
    ["another audience", (a) => ({ ...a, aud: "http://localhost:9999" })],
    ["no audience", ({ aud: _, ...a }) => a],
    ["token_type DPoP (sender-constrained)", (a) => ({ ...a, token_type: "DPoP" })],
    ["no token_type (a refresh token)", ({ token_type: _, ...a }) => a],
    ["no exp", ({ exp: _, ...a }) => a],
    ["an exp 60 s ago", (a) => ({ ...a, exp: now() - 60 })],
    ["an nbf in the future", (a) => ({ ...a, nbf: now() + 600 })],
    ["no client_id", ({ client_id: _, ...a }) => a],
    ["a non-string scope", (a) => ({ ...a, scope: ["contacts:read"] })],
  ])("refuses an answer with %s", async (_, change) => {
    await expectInvalidToken(await me(apiWithAnswer(change), token));
  });

  it.each<[string, (answer: Record<string, unknown>) => Record<string, unknown>]>([
    ["an aud array that contains the API", (a) => ({ ...a, aud: ["http://other.example", AUDIENCE] })],
    ["token_type bearer in lower case", (a) => ({ ...a, token_type: "bearer" })],
  ])("accepts an answer with %s", async (_, change) => {
    expect((await me(apiWithAnswer(change), token)).status).toBe(200);
  });

  it("treats an answer without sub as the client acting for itself: no user, no contacts", async () => {
    const api = apiWithAnswer(({ sub: _, ...a }) => a);
    expect(await (await me(api, token)).json()).toMatchObject({ sub: "web-bff", client_id: "web-bff" });
    expect((await api.app.request("/contacts", bearer(token))).status).toBe(403);
  });
});

describe("jwt mode", () => {
  it("refuses an opaque token with a clear 401", async () => {
    const { accessToken } = opaqueAlice;
    await expectInvalidToken(await me(newApi(opaqueIdp), accessToken), /not a signed JWT/);
    expect(opaqueIdp.fetched).toEqual([]);
  });
});

describe("configuration", () => {
  it.each<[string, TokenValidation]>([
    ["no client secret", { ...INTROSPECTION, clientSecret: "" }],
    ["no client id", { ...INTROSPECTION, clientId: "" }],
    ["a cache longer than 60 s", { ...INTROSPECTION, cacheSeconds: 61 }],
    ["a negative cache", { ...INTROSPECTION, cacheSeconds: -1 }],
  ])("refuses introspection with %s, without printing the secret", (_, tokenValidation) => {
    let error: unknown;
    try {
      apiFor(opaqueIdp, { tokenValidation });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("invalid_config");
    expect((error as ApiError).message).not.toContain(DEV_CONTACTS_API_SECRET);
  });
});
