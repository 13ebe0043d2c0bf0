/**
 * The package on its own, as an app of its own uses it: a small Hono API with its own realm
 * and scopes, in front of the real embedded IdP (in process), with real tokens from it.
 */
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  AUDIENCE,
  ISSUER,
  serviceAccessToken,
  startIdp,
  type TestIdp,
  USERS,
  userTokens,
} from "../../api/test/helpers.ts";
import {
  type AuthEnv,
  bearerAuth,
  createIssuerKeySet,
  createTokenVerifier,
  DEFAULT_ALGORITHMS,
  requireScope,
  requireUser,
  type TokenError,
} from "../src/index.ts";

let idp: TestIdp;
let tokens: Awaited<ReturnType<typeof userTokens>>;
let serviceToken: string;
let idpDown = false;
const refused: TokenError[] = [];

function notesApi(): Hono<AuthEnv> {
  const fetch: typeof globalThis.fetch = async (input, init) => {
    if (idpDown) throw new TypeError("fetch failed");
    return idp.fetch(input, init);
  };
  const verify = createTokenVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: DEFAULT_ALGORITHMS,
    tokenTypes: ["at+jwt"],
    clockToleranceSeconds: 5,
    getKey: createIssuerKeySet({ issuer: ISSUER, fetch }),
  });
  const app = new Hono<AuthEnv>();
  const authenticate = bearerAuth(verify, { realm: "notes", onRefused: (error) => refused.push(error) });
  app.get("/notes", authenticate, requireScope("contacts:read"), requireUser(), (c) =>
    c.json({ owner: c.var.principal.user }),
  );
  app.get("/admin", authenticate, requireScope("notes:admin"), (c) => c.json({ ok: true }));
  app.get("/mine", authenticate, requireUser(), (c) => c.json({ ok: true }));
  return app;
}

const get = (app: Hono<AuthEnv>, path: string, token?: string) =>
  app.request(path, token ? { headers: { authorization: `Bearer ${token}` } } : {});

beforeAll(async () => {
  idp = await startIdp();
  tokens = await userTokens(idp.idp, USERS.alice);
  serviceToken = await serviceAccessToken(idp.idp);
});
afterAll(async () => {
  await idp.close();
});

describe("@oidc-bff/resource-server in an app of its own", () => {
  it("lets a person's RFC 9068 access token through, and names the caller", async () => {
    const answer = await get(notesApi(), "/notes", tokens.accessToken);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ owner: "user-alice" });
  });

  it("answers a missing token 401 with a challenge in the app's realm and no error code (RFC 6750 §3.1)", async () => {
    const answer = await get(notesApi(), "/notes");
    expect(answer.status).toBe(401);
    expect(answer.headers.get("www-authenticate")).toBe('Bearer realm="notes"');
    expect(answer.headers.get("content-type")).toContain("application/problem+json");
    expect(await answer.json()).toMatchObject({ status: 401, code: "invalid_token" });
  });

  it("refuses a tampered token 401 invalid_token, and tells onRefused", async () => {
    const [header, payload, signature = ""] = tokens.accessToken.split(".");
    const tampered = `${header}.${payload}.${signature.startsWith("A") ? "B" : "A"}${signature.slice(1)}`;
    const before = refused.length;
    const answer = await get(notesApi(), "/notes", tampered);
    expect(answer.status).toBe(401);
    expect(answer.headers.get("www-authenticate")).toMatch(/^Bearer realm="notes", error="invalid_token"/);
    expect(refused.slice(before).map((error) => error.code)).toEqual(["invalid_token"]);
  });

  it("refuses the person's ID token as an access token", async () => {
    for (const idToken of tokens.idTokens) {
      expect((await get(notesApi(), "/notes", idToken)).status).toBe(401);
    }
  });

  it("answers a missing scope 403 insufficient_scope, naming the scope in the challenge and the problem", async () => {
    const answer = await get(notesApi(), "/admin", tokens.accessToken);
    expect(answer.status).toBe(403);
    expect(answer.headers.get("www-authenticate")).toBe(
      'Bearer realm="notes", error="insufficient_scope", scope="notes:admin"',
    );
    expect(await answer.json()).toMatchObject({ code: "insufficient_scope", scope: "notes:admin" });
  });

  it("refuses a client's own token where a person is needed", async () => {
    const answer = await get(notesApi(), "/mine", serviceToken);
    expect(answer.status).toBe(403);
    expect(answer.headers.get("www-authenticate")).toMatch(
      /^Bearer realm="notes", error="insufficient_scope"/,
    );
  });

  it("answers 503 idp_unavailable with Retry-After when the IdP's keys cannot be fetched, never a 500", async () => {
    idpDown = true;
    try {
      const answer = await get(notesApi(), "/notes", tokens.accessToken);
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(await answer.json()).toMatchObject({ code: "idp_unavailable" });
    } finally {
      idpDown = false;
    }
  });
});
