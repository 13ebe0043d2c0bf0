import { errors, type JWTVerifyGetKey, jwtVerify } from "jose";

import { ApiError } from "../errors.ts";

/** Who is calling, from a validated access token. */
export interface Principal {
  /** The token's `sub`: a user, or the client itself (client credentials). */
  subject: string;
  clientId: string;
  scopes: ReadonlySet<string>;
  /**
   * The user the token was issued for, or null when a client acts on its own
   * behalf. RFC 9068 §2.2 gives such tokens `sub` = the client's id.
   */
  user: string | null;
}

export type TokenVerifier = (token: string) => Promise<Principal>;

/**
 * Claims that only an ID token carries (OpenID Connect Core §2, §3.1.3.6, §3.3.2.11): they bind
 * it to the authorization request (`nonce`) and to the other artefacts of its response (hashes
 * of the access token, the code, the state). No access token has a use for them, and RFC 9068
 * §2.2 lists none of them.
 */
const ID_TOKEN_ONLY_CLAIMS = ["nonce", "at_hash", "c_hash", "s_hash"] as const;

/**
 * Refuses a JWT that is an ID token, whatever its `typ` says. With a provider that types both
 * tokens `JWT` and gives both the client id as `aud` (LemonLDAP::NG), the header and the
 * audience cannot tell them apart; the claims can:
 * - an ID-token-only claim (above) means an ID token;
 * - an access token names its client in `client_id` (RFC 9068 §2.2, REQUIRED). Keycloak's
 *   names it in `azp` only, and always carries `scope`; an ID token may carry `azp` but never
 *   `scope` (no OpenID Connect claim of that name). So `azp` counts only beside `scope`.
 */
function refuseIdToken(payload: Record<string, unknown>): unknown {
  const idTokenClaim = ID_TOKEN_ONLY_CLAIMS.find((claim) => claim in payload);
  if (idTokenClaim) {
    throw new ApiError(
      "invalid_token",
      `The token is an ID token (it has ${idTokenClaim}), not an access token.`,
    );
  }
  if (payload.client_id !== undefined) return payload.client_id;
  if (payload.azp !== undefined && payload.scope !== undefined) return payload.azp;
  throw new ApiError(
    "invalid_token",
    "The token names no client_id (RFC 9068 §2.2), so it is not an access token.",
  );
}

const VERIFIED_MEMORY_MS = 5 * 60 * 1000;
const VERIFIED_MEMORY_SIZE = 10_000;

export const DEFAULT_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"];

// Asymmetric only: an HS* key would be the IdP's public key bytes used as a shared secret,
// the classic algorithm-confusion forgery. "none" is never a signature.
const ASYMMETRIC = new Set([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
]);

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  algorithms: string[];
  /** Accepted JOSE `typ` headers. RFC 9068 says at+jwt; a provider without RFC 9068 (Keycloak: JWT) needs its own. */
  tokenTypes: string[];
  clockToleranceSeconds: number;
  getKey: JWTVerifyGetKey;
  now: () => number;
}

/** Throws an `invalid_config` ApiError unless every algorithm is an asymmetric JWS algorithm. */
export function checkAlgorithms(algorithms: string[]): void {
  const refused = algorithms.filter((alg) => !ASYMMETRIC.has(alg));
  if (algorithms.length === 0 || refused.length > 0) {
    throw new ApiError(
      "invalid_config",
      `Access token algorithms must be asymmetric JWS algorithms (refused: ${refused.join(", ") || "an empty list"}).`,
    );
  }
}

/**
 * Validates an RFC 9068 JWT access token: signature by one of the issuer's keys
 * with an allowed algorithm, `typ` at+jwt (so an ID token or any other JWT the
 * IdP signs is not accepted as an access token), `iss`, `aud`, `exp`, and the
 * claims the API relies on. Any failure is an `invalid_token` ApiError whose
 * message says what was wrong, never how to forge a better one.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  checkAlgorithms(options.algorithms);
  const tokenTypes = new Set(options.tokenTypes.map((t) => t.toLowerCase().replace(/^application\//, "")));

  /** The principal, and until when (ms) the token is valid: its `exp`, already checked. */
  async function verifyAccessToken(token: string): Promise<{ principal: Principal; expiresAt: number }> {
    // An opaque token (a reference only the IdP can resolve) or an encrypted one: say so
    // plainly rather than "malformed", so a caller sees which kind of token is expected.
    if (token.split(".").length !== 3) {
      throw new ApiError(
        "invalid_token",
        "The access token is not a signed JWT (RFC 9068), the only kind accepted.",
      );
    }
    let payload: Record<string, unknown>;
    let typ: string | undefined;
    try {
      let protectedHeader: { typ?: string };
      ({ payload, protectedHeader } = await jwtVerify(token, options.getKey, {
        algorithms: options.algorithms,
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: options.clockToleranceSeconds,
        requiredClaims: ["exp", "iat", "sub"],
        currentDate: new Date(options.now()),
      }));
      typ = protectedHeader.typ;
    } catch (error) {
      if (error instanceof errors.JOSEError) {
        throw new ApiError("invalid_token", describe(error), { cause: error });
      }
      throw error;
    }

    // RFC 9068 §4: "at+jwt", also spelled "application/at+jwt"; media types are case-insensitive.
    const type = typ?.toLowerCase().replace(/^application\//, "");
    if (type === undefined || !tokenTypes.has(type)) {
      throw new ApiError(
        "invalid_token",
        `The token is not an access token (typ must be ${[...tokenTypes].join(" or ")}).`,
      );
    }
    // RFC 9068 §2.2 makes jti REQUIRED: a token typed at+jwt without one was not made by an
    // RFC 9068 issuer. A provider's own format (configured typ, e.g. Entra's, which has `uti`)
    // is not held to it.
    if (type === "at+jwt" && (typeof payload.jti !== "string" || payload.jti === "")) {
      throw new ApiError("invalid_token", "The access token has no jti claim.");
    }
    // RFC 9068 names the client in client_id; providers without it (Keycloak) use OIDC's azp.
    const principal = principalFromClaims(payload.sub, refuseIdToken(payload), payload.scope);
    return { principal, expiresAt: Number(payload.exp) * 1000 };
  }

  // A client sends the same token with every call until it expires, and the RSA
  // signature check is most of what a request costs here. So a token that passed
  // is remembered, keyed by its exact text, until its `exp` (at most five
  // minutes). A forged or changed token is a different text and is checked in full.
  const verified = new Map<string, { principal: Principal; until: number }>();
  return async function verifyWithMemory(token) {
    const now = options.now();
    const known = verified.get(token);
    if (known && known.until > now) return known.principal;
    const { principal, expiresAt } = await verifyAccessToken(token);
    verified.set(token, { principal, until: Math.min(expiresAt, now + VERIFIED_MEMORY_MS) });
    if (verified.size > VERIFIED_MEMORY_SIZE) verified.delete(verified.keys().next().value as string);
    return principal;
  };
}

/**
 * The caller, from the claims of a token already validated (signature or
 * introspection): `sub`, the client's id and the space-separated `scope`.
 * A token whose `sub` is its own client's id was issued to that client acting
 * for itself (RFC 9068 §2.2, client credentials): it has no user. The IdP
 * refuses client ids equal to a user's `sub`, so the two cannot be confused.
 */
export function principalFromClaims(sub: unknown, clientId: unknown, scope: unknown): Principal {
  if (typeof sub !== "string" || sub === "" || typeof clientId !== "string" || clientId === "") {
    throw new ApiError("invalid_token", "The access token's sub or client_id is not a string.");
  }
  if (scope !== undefined && typeof scope !== "string") {
    throw new ApiError("invalid_token", "The access token's scope is not a string.");
  }
  return {
    subject: sub,
    clientId,
    scopes: new Set((scope ?? "").split(" ").filter((s) => s !== "")),
    user: sub === clientId ? null : sub,
  };
}

/** A caller-facing reason, in our words: jose's messages contain quotes RFC 6750 does not allow. */
function describe(error: InstanceType<typeof errors.JOSEError>): string {
  if (error instanceof errors.JWTExpired) return "The access token expired.";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === "missing") return `The access token has no ${error.claim} claim.`;
    return `The access token's ${error.claim} claim is not valid.`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return "The access token's signing algorithm is not allowed.";
  if (error instanceof errors.JWKSNoMatchingKey) return "The access token was signed by an unknown key.";
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return "The access token's signature is not valid.";
  }
  return "The access token is malformed.";
}
