import { createLocalJWKSet, errors, type JWTVerifyGetKey } from "jose";
import { DEFAULT_IDP_TIMEOUT_MS, discoverEndpoint, getIdpJson } from "./discovery.ts";
import { TokenError } from "./errors.ts";

export interface IssuerKeySetOptions {
  /** The issuer identifier, exactly as configured (and as it must appear in discovery). */
  issuer: string;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** The clock, ms since the epoch; default Date.now. */
  now?: () => number;
  /** How long after a fetch an unknown `kid` may trigger another one. */
  refetchCooldownMs?: number;
  /** Gives up on a slow IdP rather than holding every request. */
  timeoutMs?: number;
}

export const DEFAULT_REFETCH_COOLDOWN_MS = 30_000;

/**
 * The IdP's signing keys, found through OpenID Connect discovery and fetched by
 * us (not by jose) so that the caller's `fetch` is used — which is what lets the
 * tests route these requests to an in-process IdP.
 *
 * Nothing is fetched until the first token needs checking. The JWKS is then
 * cached; a token whose `kid` is not in it causes one re-fetch (the IdP may have
 * rotated its keys), at most once per cooldown so that a stream of forged `kid`s
 * cannot turn the API into a load generator against the IdP.
 *
 * The cooldown counts from the last such re-fetch, not from the first load: a
 * key rotated just after the API started is still picked up at once.
 *
 * A failed fetch is not cached: the next request tries again.
 */
export function createIssuerKeySet(options: IssuerKeySetOptions): JWTVerifyGetKey {
  const { issuer } = options;
  const now = options.now ?? Date.now;
  const fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const cooldown = options.refetchCooldownMs ?? DEFAULT_REFETCH_COOLDOWN_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_IDP_TIMEOUT_MS;

  let jwksUri: string | undefined;
  let keys: JWTVerifyGetKey | undefined;
  let refetchedAt = Number.NEGATIVE_INFINITY;
  // Concurrent requests that all need the keys share one fetch.
  let pending: Promise<JWTVerifyGetKey> | undefined;

  async function load(): Promise<JWTVerifyGetKey> {
    pending ??= (async () => {
      try {
        jwksUri ??= await discoverEndpoint(fetch, issuer, "jwks_uri", timeoutMs);
        const jwks = await getIdpJson(fetch, jwksUri, "JWKS", timeoutMs);
        let fresh: JWTVerifyGetKey;
        try {
          fresh = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
        } catch (cause) {
          throw new TokenError("idp_unavailable", "The identity provider's JWKS is malformed.", { cause });
        }
        keys = fresh;
        return fresh;
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  }

  return async function issuerKey(header, token) {
    const current = keys ?? (await load());
    try {
      return await current(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      if (now() - refetchedAt >= cooldown) {
        refetchedAt = now();
        return (await load())(header, token);
      }
      // Another request is re-fetching (or just did): use its result rather than refuse too early.
      const latest = pending ? await pending : keys;
      if (latest && latest !== current) return latest(header, token);
      throw error;
    }
  };
}
