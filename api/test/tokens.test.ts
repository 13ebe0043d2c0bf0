import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";

import { type Api, ApiError } from "../src/index.ts";
import { forge, hmacWithPublicKey, strangerKey, unsigned } from "./forge.ts";
import {
  AUDIENCE,
  apiFor,
  bearer,
  ISSUER,
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
function newApi(...args: Parameters<typeof apiFor> extends [unknown, ...infer Rest] ? Rest : never): Api {
  idp.fetched.length = 0;
  const api = apiFor(idp, ...args);
  apis.push(api);
  return api;
}
afterEach(() => {
  for (const api of apis.splice(0)) api.close();
  vi.restoreAllMocks();
});

const me = (api: Api, token: string) => api.app.request("/me", bearer(token));
const jwksFetches = () => idp.fetched.filter((path) => path === "/jwks").length;

async function expectInvalidToken(response: Response) {
  expect(response.status).toBe(401);
  expect(response.headers.get("www-authenticate")).toMatch(
    /^Bearer realm="contacts", error="invalid_token", error_description="[^"\\]+"$/,
  );
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  expect(await response.json()).toMatchObject({ status: 401, code: "invalid_token" });
}

describe("a real access token from the IdP", () => {
  it("is accepted: /me answers the caller's sub, client_id and scope", async () => {
    const response = await me(newApi(), aliceToken);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      sub: "user-alice",
      client_id: "web-bff",
      scope: "contacts:read contacts:write",
    });
  });

  it("makes the API find the keys by discovery, lazily and once", async () => {
    const api = newApi();
    expect((await api.app.request("/health")).status).toBe(200);
    expect(idp.fetched).toEqual([]);

    const [first, second] = await Promise.all([me(api, aliceToken), me(api, aliceToken)]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect((await me(api, aliceToken)).status).toBe(200);
    expect(idp.fetched).toEqual(["/.well-known/openid-configuration", "/jwks"]);
  });

  it("is refused when its algorithm is not in the configured allowlist (E2)", async () => {
    await expectInvalidToken(await me(newApi({ algorithms: ["ES256"] }), aliceToken));
  });
});

describe("a request without a bearer token in the Authorization header", () => {
  it("gets 401 with a bare Bearer challenge and an invalid_token problem", async () => {
    const response = await newApi().app.request("/contacts");
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="contacts"');
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await response.json()).toEqual({
      type: "about:blank",
      title: "Unauthorized",
      status: 401,
      detail: "This request needs a bearer access token.",
      code: "invalid_token",
    });
  });

  it("gets 401 for an encrypted token (JWE, five parts): the API accepts signed tokens only (E7)", async () => {
    const jwe = ["eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ", "a", "b", "c", "d"].join(".");
    await expectInvalidToken(await me(newApi(), jwe));
  });

  it("is not rescued by a token in the query string", async () => {
    const response = await newApi().app.request(`/me?access_token=${aliceToken}`);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="contacts"');
  });

  it.each([
    ["Bearer", true],
    ["Bearer ", true],
    ["Bearer a.b", true],
    ["Bearer a.b.c", true],
    ["Bearer ...", true],
    ["Bearer e30.e30.", true],
    [`Bearer ${"A".repeat(100_000)}`, true],
    [`Bearer ${"eyJ".repeat(1000)}.${"e30".repeat(1000)}.x`, true],
    ["Bearer \u00e9t\u00e9", true],
    ["Basic x", false],
    ["Token abc", false],
  ])("answers 401, never 500, to Authorization: %s (E12)", async (header, tokenError) => {
    const response = await newApi().app.request("/contacts", { headers: { authorization: header } });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: "invalid_token" });
    expect(response.headers.get("www-authenticate")?.includes('error="invalid_token"')).toBe(tokenError);
  });
});

describe("a token that is forged or not meant for this API", () => {
  it("is accepted as a control when signed by the IdP's key with nothing changed", async () => {
    // Proves that the refusals below come from the one thing each case changes.
    expect((await me(newApi(), await forge(idp.signingKey))).status).toBe(200);
  });

  it("is refused with alg none", async () => {
    await expectInvalidToken(await me(newApi(), unsigned(idp.signingKey)));
  });

  it("is refused when HS256-signed with the IdP's public key (algorithm confusion)", async () => {
    await expectInvalidToken(await me(newApi(), await hmacWithPublicKey(idp.signingKey)));
  });

  it.each<[string, Parameters<typeof forge>[1]]>([
    ["another issuer (E3)", { claims: { iss: "http://evil.example" } }],
    ["the issuer with a trailing slash (E3)", { claims: { iss: `${ISSUER}/` } }],
    ["another audience (E4)", { claims: { aud: "http://localhost:9999" } }],
    ["the IdP client as audience (an ID token's aud) (E4)", { claims: { aud: "web-bff" } }],
    ["an exp 60 s ago (E5)", { claims: { exp: Math.floor(Date.now() / 1000) - 60 } }],
    ["no exp (E5)", { claims: { exp: undefined } }],
    ["no iat", { claims: { iat: undefined } }],
    ["no sub", { claims: { sub: undefined } }],
    ["no client_id", { claims: { client_id: undefined } }],
    ["a non-string scope", { claims: { scope: ["contacts:read"] } }],
    ["an nbf in the future (E5)", { claims: { nbf: Math.floor(Date.now() / 1000) + 600 } }],
    ["typ JWT (an ID token or another JWT) (E1)", { header: { typ: "JWT" } }],
    ["no typ (E1)", { header: { typ: undefined } }],
  ])("is refused with %s", async (_, options) => {
    await expectInvalidToken(await me(newApi(), await forge(idp.signingKey, options)));
  });

  it.each<[string, Parameters<typeof forge>[1]]>([
    ["typ application/at+jwt (E1)", { header: { typ: "application/at+jwt" } }],
    ["an aud array that contains the API", { claims: { aud: ["http://other.example", AUDIENCE] } }],
    ["an exp 2 s ago (within the clock tolerance)", { claims: { exp: Math.floor(Date.now() / 1000) - 2 } }],
  ])("is accepted with %s", async (_, options) => {
    expect((await me(newApi(), await forge(idp.signingKey, options))).status).toBe(200);
  });

  it("in a provider's own format (typ JWT, azp instead of client_id) is accepted only when configured", async () => {
    const keycloakStyle = await forge(idp.signingKey, {
      header: { typ: "JWT" },
      claims: { client_id: undefined, azp: "web-bff" },
    });
    await expectInvalidToken(await me(newApi(), keycloakStyle));
    const response = await me(newApi({ tokenTypes: ["JWT"] }), keycloakStyle);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ client_id: "web-bff" });
  });

  it("is refused once it expires, although it was accepted (and remembered) before (E5)", async () => {
    let clock = Date.now();
    const api = newApi({ clockToleranceSeconds: 0 }, { now: () => clock });
    const token = await forge(idp.signingKey, { claims: { exp: Math.floor(clock / 1000) + 60 } });
    expect((await me(api, token)).status).toBe(200);
    expect((await me(api, token)).status).toBe(200);
    clock += 61_000;
    await expectInvalidToken(await me(api, token));
  });

  it("is refused 2 s after exp when the clock tolerance is 0", async () => {
    const token = await forge(idp.signingKey, { claims: { exp: Math.floor(Date.now() / 1000) - 2 } });
    await expectInvalidToken(await me(newApi({ clockToleranceSeconds: 0 }), token));
  });

  it("is refused when signed by another key under the IdP's kid, without fetching the JWKS again", async () => {
    const api = newApi();
    expect((await me(api, aliceToken)).status).toBe(200);
    const impostor = await forge(await strangerKey(idp.signingKey.kid));
    await expectInvalidToken(await me(api, impostor));
    expect(jwksFetches()).toBe(1);
  });

  it.each(["jwk", "jku", "x5u"])(
    "is refused when signed by the attacker's key and pointing at it from the header (%s)",
    async (parameter) => {
      const attacker = await strangerKey("attacker");
      const { d: _private, ...publicPart } = attacker as Record<string, unknown>;
      const value = parameter === "jwk" ? publicPart : "https://evil.example/keys";
      const token = await forge(attacker, { header: { [parameter]: value } as Record<string, unknown> });
      await expectInvalidToken(await me(newApi(), token));
      // The only keys the API ever fetches are the IdP's.
      expect(idp.fetched.every((path) => !path.includes("evil"))).toBe(true);
    },
  );
});

describe("a token with a kid the cached JWKS does not have", () => {
  it("makes the API fetch the JWKS exactly once more, then refuses it; again only after the cooldown", async () => {
    let clock = Date.now();
    const api = newApi({}, { now: () => clock });
    expect((await me(api, aliceToken)).status).toBe(200);
    expect(jwksFetches()).toBe(1);

    const unknown = await forge(await strangerKey("unknown-kid"));
    await expectInvalidToken(await me(api, unknown));
    expect(jwksFetches()).toBe(2);

    // A stream of unknown kids does not become a stream of JWKS requests.
    await expectInvalidToken(await me(api, unknown));
    await expectInvalidToken(await me(api, unknown));
    expect(jwksFetches()).toBe(2);

    clock += 31_000;
    await expectInvalidToken(await me(api, unknown));
    expect(jwksFetches()).toBe(3);
    expect(idp.fetched.filter((path) => path.startsWith("/.well-known/"))).toHaveLength(1);
  });

  it("is accepted when the IdP has rotated to a new key since the JWKS was cached", async () => {
    // Two providers with the same issuer and different keys: the second is the first after a key rotation.
    const rotated = await startIdp();
    try {
      let current = idp;
      const api = newApi({}, { fetch: (input, init) => current.fetch(input, init), now: Date.now });
      expect((await me(api, aliceToken)).status).toBe(200);

      current = rotated;
      const newToken = await userAccessToken(rotated.idp, USERS.bob);
      // Several requests at once with the new key: all accepted, one re-fetch between them.
      const responses = await Promise.all([me(api, newToken), me(api, newToken), me(api, newToken)]);
      expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
      expect(await responses[0]?.json()).toMatchObject({ sub: "user-bob" });
      expect(rotated.fetched).toEqual(["/jwks"]);
    } finally {
      await rotated.close();
    }
  });
});

describe("when the IdP cannot be reached", () => {
  it("answers 503 idp_unavailable (not 500), and recovers once the IdP is back (H3)", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    let up = false;
    const api = newApi(
      {},
      {
        fetch: (input, init) =>
          up ? idp.fetch(input, init) : Promise.reject(new TypeError("fetch failed: ECONNREFUSED")),
      },
    );

    const response = await me(api, aliceToken);
    expect(response.status).toBe(503);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    const problem = await response.json();
    expect(problem).toMatchObject({ status: 503, code: "idp_unavailable" });
    expect(JSON.stringify(problem)).not.toContain("ECONNREFUSED");
    expect(log).toHaveBeenCalled();
    expect(JSON.stringify(log.mock.calls)).not.toContain(aliceToken);

    // The failure is not cached.
    up = true;
    expect((await me(api, aliceToken)).status).toBe(200);
  });

  it("answers 503 when the discovery document names another issuer", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await me(newApi({ issuer: `${ISSUER}/` }), aliceToken);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ code: "idp_unavailable" });
  });

  it("answers 503 when the IdP answers its JWKS with an error", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const api = newApi(
      {},
      {
        fetch: async (input, init) =>
          String(input).endsWith("/jwks") ? new Response("oops", { status: 500 }) : idp.fetch(input, init),
      },
    );
    expect((await me(api, aliceToken)).status).toBe(503);
  });
});

describe("configuration", () => {
  it.each([[["HS256"]], [["none"]], [["RS256", "HS512"]], [[]]])(
    "refuses the algorithms %j",
    (algorithms) => {
      expect(() => apiFor(idp, { algorithms })).toThrow(ApiError);
    },
  );

  it("refuses an issuer that is not a URL", () => {
    expect(() => apiFor(idp, { issuer: "idp" })).toThrow(/issuer must be a URL/);
  });
});
