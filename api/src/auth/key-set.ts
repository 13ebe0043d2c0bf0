import { createLocalJWKSet, errors, type JWTVerifyGetKey } from "jose";

import { ApiError } from "../errors.ts";

export interface IssuerKeySetOptions {
  /** The issuer identifier, exactly as configured (and as it must appear in discovery). */
  issuer: string;
  fetch: typeof fetch;
  now: () => number;
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
  const { issuer, now } = options;
  const cooldown = options.refetchCooldownMs ?? DEFAULT_REFETCH_COOLDOWN_MS;
  const timeoutMs = options.timeoutMs ?? 5_000;

  let jwksUri: string | undefined;
  let keys: JWTVerifyGetKey | undefined;
  let refetchedAt = Number.NEGATIVE_INFINITY;
  // Concurrent requests that all need the keys share one fetch.
  let pending: Promise<JWTVerifyGetKey> | undefined;

  async function getJson(url: string, what: string): Promise<unknown> {
    let response: Response;
    try {
      response = await options.fetch(url, {
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (cause) {
      throw new ApiError("idp_unavailable", `The identity provider cannot be reached (${what}).`, { cause });
    }
    if (!response.ok) {
      throw new ApiError(
        "idp_unavailable",
        `The identity provider answered ${response.status} for its ${what}.`,
      );
    }
    try {
      return await response.json();
    } catch (cause) {
      throw new ApiError("idp_unavailable", `The identity provider's ${what} is not JSON.`, { cause });
    }
  }

  async function discover(): Promise<string> {
    // OpenID Connect Discovery 1.0 §4: the issuer, without a trailing slash, + the well-known path.
    const url = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
    const metadata = (await getJson(url, "discovery document")) as Record<string, unknown> | null;
    // §4.3: the document must name exactly the issuer we trust, or its keys mean nothing to us.
    if (metadata?.issuer !== issuer) {
      throw new ApiError(
        "idp_unavailable",
        "The identity provider's discovery document names a different issuer than the one configured.",
      );
    }
    if (typeof metadata.jwks_uri !== "string" || !URL.canParse(metadata.jwks_uri)) {
      throw new ApiError("idp_unavailable", "The identity provider's discovery document has no jwks_uri.");
    }
    return metadata.jwks_uri;
  }

  async function load(): Promise<JWTVerifyGetKey> {
    pending ??= (async () => {
      try {
        jwksUri ??= await discover();
        const jwks = await getJson(jwksUri, "JWKS");
        let fresh: JWTVerifyGetKey;
        try {
          fresh = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
        } catch (cause) {
          throw new ApiError("idp_unavailable", "The identity provider's JWKS is malformed.", { cause });
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
