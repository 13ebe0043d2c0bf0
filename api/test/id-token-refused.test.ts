/**
 * An ID token is never an access token, whatever the provider's typing. LemonLDAP::NG types both
 * `JWT` and gives both the client id as `aud`, so with the configuration it needs
 * (`API_TOKEN_TYPES=JWT`, `API_AUDIENCE=<client id>`) neither the header nor the audience tells
 * them apart: the claims do (verify-token.ts). The ID tokens here are the real IdP's, re-signed
 * with its key as LemonLDAP::NG would send them (typed JWT, with `azp`).
 */
import { decodeJwt, importJWK, SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import type { Api } from "../src/index.ts";
import { forge } from "./forge.ts";
import { apiFor, bearer, startIdp, type TestIdp, USERS, userTokens } from "./helpers.ts";

const CLIENT_ID = "web-bff";

let idp: TestIdp;
let idTokens: string[];
beforeAll(async () => {
  idp = await startIdp();
  ({ idTokens } = await userTokens(idp.idp, USERS.alice));
});
afterAll(async () => {
  await idp.close();
});

const apis: Api[] = [];
/** The API as LemonLDAP::NG needs it configured. */
function lemonldapApi(): Api {
  const api = apiFor(idp, { tokenTypes: ["JWT"], audience: CLIENT_ID });
  apis.push(api);
  return api;
}
afterEach(() => {
  for (const api of apis.splice(0)) api.close();
});

const me = (token: string) => lemonldapApi().app.request("/me", bearer(token));

/** A real ID token of the IdP, as LemonLDAP::NG types it: JWT, with azp. */
async function asLemonldapIdToken(idToken: string): Promise<string> {
  const claims = { azp: CLIENT_ID, ...decodeJwt(idToken) };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: idp.signingKey.kid })
    .sign(await importJWK(idp.signingKey, "RS256"));
}

/** An access token as LemonLDAP::NG issues it: typed JWT, `aud` the client id, client_id and scope. */
const lemonldapAccessToken = (claims: Record<string, unknown> = {}) =>
  forge(idp.signingKey, { header: { typ: "JWT" }, claims: { aud: CLIENT_ID, ...claims } });

async function expectIdTokenRefused(response: Response) {
  expect(response.status).toBe(401);
  expect(response.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
}

describe("with API_TOKEN_TYPES=JWT and API_AUDIENCE=<client id> (LemonLDAP::NG) (X22)", () => {
  it("a real ID token (code exchange and refresh) is refused: 401 invalid_token (X22)", async () => {
    expect(idTokens).toHaveLength(2);
    for (const idToken of idTokens) {
      const token = await asLemonldapIdToken(idToken);
      expect(decodeJwt(token).aud).toBe(CLIENT_ID);
      await expectIdTokenRefused(await me(token));
    }
  });

  it("an access token in LemonLDAP::NG's form is accepted, auth_time included (RFC 9068 §2.2.1) (X22)", async () => {
    const response = await me(await lemonldapAccessToken({ auth_time: Math.floor(Date.now() / 1000) - 60 }));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sub: "user-alice", client_id: CLIENT_ID });
  });

  it.each<[string, Record<string, unknown>]>([
    ["a nonce", { nonce: "n" }],
    ["an at_hash", { at_hash: "x" }],
    ["a c_hash", { c_hash: "x" }],
    ["an s_hash", { s_hash: "x" }],
    ["azp but neither client_id nor scope", { client_id: undefined, scope: undefined, azp: CLIENT_ID }],
    ["no client at all", { client_id: undefined }],
  ])("a token with %s is refused as an ID token (X22)", async (_, claims) => {
    await expectIdTokenRefused(await me(await lemonldapAccessToken(claims)));
  });
});
