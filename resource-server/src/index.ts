/**
 * A resource server's side of OAuth for an API behind the BFF (or any OAuth client): RFC 9068
 * JWT access tokens validated by discovery and JWKS, or opaque ones by RFC 7662 introspection,
 * scopes per route, RFC 6750 challenges and RFC 9457 problem documents, ID tokens refused.
 * The only package that knows about jose: an app sees a TokenVerifier and a Principal.
 */

export {
  IDP_UNAVAILABLE_RETRY_AFTER_SECONDS,
  TOKEN_ERROR_CODES,
  TokenError,
  type TokenErrorCode,
  tokenProblem,
} from "./errors.ts";
export {
  createIntrospectionVerifier,
  type IntrospectionVerifierOptions,
  MAX_INTROSPECTION_CACHE_SECONDS,
} from "./introspect.ts";
export { createIssuerKeySet, DEFAULT_REFETCH_COOLDOWN_MS, type IssuerKeySetOptions } from "./key-set.ts";
export {
  type AuthEnv,
  type BearerAuthOptions,
  bearerAuth,
  bearerToken,
  requireScope,
  requireUser,
} from "./middleware.ts";
export {
  checkAlgorithms,
  createTokenVerifier,
  DEFAULT_ALGORITHMS,
  type Principal,
  type TokenVerifier,
  type TokenVerifierOptions,
} from "./verify-token.ts";
