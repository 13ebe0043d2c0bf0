/**
 * Logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4) as the IdP
 * signs them, for tests that post them to the BFF: valid by default, altered
 * by `claims` (a claim set to undefined is left out) and `header`.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";

import { importJWK, type JWK, SignJWT } from "jose";

import { IDP } from "./harness.ts";

export const BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout";

export type SigningJwk = JWK & { kid: string };

/** The IdP's current signing key, from the JWKS file a test system was started with (`keysPath`). */
export function idpSigningKey(keysPath: string): SigningJwk {
  const { keys } = JSON.parse(readFileSync(keysPath, "utf8")) as { keys: SigningJwk[] };
  return keys[0] as SigningJwk;
}

export async function signLogoutToken(
  key: SigningJwk,
  options: { claims?: Record<string, unknown>; header?: Record<string, unknown> } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: IDP,
    aud: "web-bff",
    iat: now,
    exp: now + 120,
    jti: randomUUID(),
    sub: "user-alice",
    events: { [BACKCHANNEL_EVENT]: {} },
    ...options.claims,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", typ: "logout+jwt", kid: key.kid, ...options.header })
    .sign(await importJWK(key, "RS256"));
}
