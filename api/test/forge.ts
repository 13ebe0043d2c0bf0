/**
 * Hand-made tokens. Signed with the IdP's real private key they isolate one
 * check each (the signature is fine, one claim is not); signed otherwise they
 * are the forgeries an attacker would try.
 */
import { createPublicKey, type JsonWebKey } from "node:crypto";

import { exportJWK, generateKeyPair, importJWK, type JWTHeaderParameters, SignJWT } from "jose";

import { AUDIENCE, ISSUER, type PrivateJwk } from "./helpers.ts";

export interface ForgeOptions {
  /** Claims to add or replace; `undefined` removes a claim. */
  claims?: Record<string, unknown>;
  /** Header parameters to add or replace; `typ: undefined` removes it. */
  header?: Partial<JWTHeaderParameters>;
}

/** Alice's access token as the IdP would issue it, then altered. */
export async function forge(key: PrivateJwk, options: ForgeOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: "user-alice",
    client_id: "web-bff",
    scope: "contacts:read contacts:write",
    iat: now,
    exp: now + 300,
    jti: crypto.randomUUID(),
    ...options.claims,
  };
  const header = { alg: "RS256", typ: "at+jwt", kid: key.kid, ...options.header } as JWTHeaderParameters;
  return new SignJWT(payload).setProtectedHeader(header).sign(await importJWK(key, "RS256"));
}

/** A fresh RSA key that the IdP never published, as a JWK carrying `kid`. */
export async function strangerKey(kid: string): Promise<PrivateJwk> {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  return { ...(await exportJWK(privateKey)), kid } as PrivateJwk;
}

/** `alg: none`: a header and a payload, and no signature at all. */
export function unsigned(key: PrivateJwk): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  return `${encode({ alg: "none", typ: "at+jwt", kid: key.kid })}.${encode({
    iss: ISSUER,
    aud: AUDIENCE,
    sub: "user-alice",
    client_id: "web-bff",
    scope: "contacts:read contacts:write",
    iat: now,
    exp: now + 300,
  })}.`;
}

/**
 * Algorithm confusion: HS256 "signed" with the IdP's public key (PEM) as the
 * HMAC secret — what a verifier that trusts the header's `alg` would accept.
 */
export async function hmacWithPublicKey(key: PrivateJwk): Promise<string> {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = key;
  const pem = createPublicKey({ key: publicJwk as JsonWebKey, format: "jwk" }).export({
    type: "spki",
    format: "pem",
  });
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    sub: "user-alice",
    client_id: "web-bff",
    scope: "contacts:read contacts:write",
    jti: "x",
  })
    .setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: key.kid })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(new TextEncoder().encode(String(pem)));
}
