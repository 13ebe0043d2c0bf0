/**
 * Validation of OpenID Connect Back-Channel Logout 1.0 logout tokens (§2.6):
 * the only module that imports jose. oauth4webapi validates what the BFF asks
 * for; a logout token arrives unasked, from the IdP's server, so it gets every
 * check a JWT from the outside needs.
 */
import { createRemoteJWKSet, customFetch, errors, jwtVerify } from "jose";

export const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";

/**
 * How old (by `iat`) a logout token may be, and how far in the future a clock may run. With or
 * without `exp`, no token is accepted longer than this after it was issued; its `jti` must be
 * remembered at least as long (LOGOUT_TOKEN_ACCEPTED_FOR_MS), so a replay is always caught.
 */
const MAX_AGE_SECONDS = 120;
const CLOCK_TOLERANCE_SECONDS = 30;

/** The longest a logout token can be accepted, from the first moment it can be: `iat` in the future by the tolerance until `iat` + max age + tolerance. */
export const LOGOUT_TOKEN_ACCEPTED_FOR_MS = (MAX_AGE_SECONDS + 2 * CLOCK_TOLERANCE_SECONDS) * 1000;

/**
 * The `typ` values a logout token may have (docs/decisions/017): `logout+jwt` as §2.4 asks, and
 * none or `JWT` as providers written before that rule send (Glewlwyd). Anything else names
 * another kind of token (`at+jwt`, …) and is refused. Compared as media types: case-insensitive,
 * with or without `application/`.
 */
const LOGOUT_TOKEN_TYPES = new Set(["logout+jwt", "jwt"]);

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
      let typ: unknown;
      try {
        let protectedHeader: { typ?: unknown };
        ({ payload, protectedHeader } = await jwtVerify(token, keys, {
          issuer,
          audience: options.clientId,
          algorithms: [options.algorithm],
          // exp is checked when present. Without it (Glewlwyd), iat alone bounds the token's life:
          // maxTokenAge below applies to every token, so one without exp is no longer-lived.
          requiredClaims: ["iat", "jti", "events"],
          maxTokenAge: MAX_AGE_SECONDS,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          currentDate: new Date(options.now()),
        }));
        typ = protectedHeader.typ;
      } catch (error) {
        if (error instanceof errors.JOSEError)
          throw new InvalidLogoutToken(`The logout token is not valid (${error.code}).`);
        throw error;
      }

      // §2.4 types logout tokens so that no other JWT passes as one. A token typed JWT or not at
      // all is told from an ID token by what follows: the event is required and a nonce forbidden
      // (§2.6), and an ID token never carries that event.
      if (
        typ !== undefined &&
        !LOGOUT_TOKEN_TYPES.has(
          String(typ)
            .toLowerCase()
            .replace(/^application\//, ""),
        )
      ) {
        throw new InvalidLogoutToken(
          `The logout token is typed as another kind of token (${String(typ).slice(0, 40)}).`,
        );
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
