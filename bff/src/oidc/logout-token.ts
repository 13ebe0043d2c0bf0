/**
 * Validation of OpenID Connect Back-Channel Logout 1.0 logout tokens (§2.6):
 * the only module that imports jose. oauth4webapi validates what the BFF asks
 * for; a logout token arrives unasked, from the IdP's server, so it gets every
 * check a JWT from the outside needs.
 */
import { createRemoteJWKSet, customFetch, errors, jwtVerify } from "jose";

export const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";

/** How old (by `iat`) a logout token may be, and how far in the future a clock may run. */
const MAX_AGE_SECONDS = 120;
const CLOCK_TOLERANCE_SECONDS = 30;

export interface LogoutTokenClaims {
  sub?: string;
  sid?: string;
  jti: string;
  /** ms since the epoch. */
  issuedAt: number;
}

export class InvalidLogoutToken extends Error {
  override name = "InvalidLogoutToken";
}

export interface LogoutTokenVerifier {
  verify(token: string): Promise<LogoutTokenClaims>;
}

export function createLogoutTokenVerifier(options: {
  /** The provider's issuer identifier and JWKS URL, from discovery. */
  signer: () => Promise<{ issuer: string; jwksUri: URL }>;
  clientId: string;
  algorithm: string;
  fetch: typeof fetch;
  now: () => number;
}): LogoutTokenVerifier {
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;

  return {
    async verify(token) {
      const { issuer, jwksUri } = await options.signer();
      keys ??= createRemoteJWKSet(jwksUri, {
        [customFetch]: (url, init) => options.fetch(url, init as RequestInit),
      });
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer,
          audience: options.clientId,
          algorithms: [options.algorithm],
          // §2.4: logout tokens are explicitly typed, so an ID token can never pass as one.
          typ: "logout+jwt",
          // §2.4: exp is required too (jose checks exp only when present).
          requiredClaims: ["iat", "exp", "jti", "events"],
          maxTokenAge: MAX_AGE_SECONDS,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          currentDate: new Date(options.now()),
        }));
      } catch (error) {
        if (error instanceof errors.JOSEError)
          throw new InvalidLogoutToken(`The logout token is not valid (${error.code}).`);
        throw error;
      }

      const events = payload.events as Record<string, unknown> | undefined;
      const event = events?.[BACKCHANNEL_LOGOUT_EVENT];
      if (typeof event !== "object" || event === null || Array.isArray(event)) {
        throw new InvalidLogoutToken("The logout token has no back-channel logout event.");
      }
      // §2.4: a nonce is forbidden, so that an ID token cannot be replayed as a logout token.
      if ("nonce" in payload) throw new InvalidLogoutToken("The logout token must not contain a nonce.");
      const sub = typeof payload.sub === "string" ? payload.sub : undefined;
      const sid = typeof payload.sid === "string" ? payload.sid : undefined;
      if (!sub && !sid) throw new InvalidLogoutToken("The logout token names neither a sub nor a sid.");
      if (typeof payload.jti !== "string" || payload.jti === "")
        throw new InvalidLogoutToken("The logout token has no jti.");
      return {
        ...(sub ? { sub } : {}),
        ...(sid ? { sid } : {}),
        jti: payload.jti,
        issuedAt: Number(payload.iat) * 1000,
      };
    },
  };
}
