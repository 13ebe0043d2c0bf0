// The only folder that knows about jose: everything else sees a TokenVerifier and a Principal.
export {
  createIntrospectionVerifier,
  type IntrospectionVerifierOptions,
  MAX_INTROSPECTION_CACHE_SECONDS,
} from "./introspect.ts";
export { createIssuerKeySet, DEFAULT_REFETCH_COOLDOWN_MS, type IssuerKeySetOptions } from "./key-set.ts";
export { type AuthEnv, bearerAuth, bearerToken, requireScope, requireUser } from "./middleware.ts";
export {
  checkAlgorithms,
  createTokenVerifier,
  DEFAULT_ALGORITHMS,
  type Principal,
  type TokenVerifier,
  type TokenVerifierOptions,
} from "./verify-token.ts";
