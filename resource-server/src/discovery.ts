import { TokenError } from "./errors.ts";

/** Gives up on a slow IdP rather than holding every request. */
export const DEFAULT_IDP_TIMEOUT_MS = 5_000;

/**
 * GETs a JSON document from the IdP. Any failure (unreachable, slow, an error
 * status, not JSON) is an `idp_unavailable` TokenError: the caller's token is not
 * at fault, and the answer is 503, never 500.
 */
export async function getIdpJson(
  fetch: typeof globalThis.fetch,
  url: string,
  what: string,
  timeoutMs = DEFAULT_IDP_TIMEOUT_MS,
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    throw new TokenError("idp_unavailable", `The identity provider cannot be reached (${what}).`, { cause });
  }
  if (!response.ok) {
    throw new TokenError(
      "idp_unavailable",
      `The identity provider answered ${response.status} for its ${what}.`,
    );
  }
  try {
    return await response.json();
  } catch (cause) {
    throw new TokenError("idp_unavailable", `The identity provider's ${what} is not JSON.`, { cause });
  }
}

/**
 * One endpoint of the issuer's metadata (OpenID Connect Discovery 1.0), e.g.
 * `jwks_uri` or `introspection_endpoint`. The document must name exactly the
 * configured issuer (§4.3), or what it points at means nothing to us.
 */
export async function discoverEndpoint(
  fetch: typeof globalThis.fetch,
  issuer: string,
  endpoint: "jwks_uri" | "introspection_endpoint",
  timeoutMs = DEFAULT_IDP_TIMEOUT_MS,
): Promise<string> {
  // §4: the issuer, without a trailing slash, + the well-known path.
  const url = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  const metadata = (await getIdpJson(fetch, url, "discovery document", timeoutMs)) as Record<
    string,
    unknown
  > | null;
  if (metadata?.issuer !== issuer) {
    throw new TokenError(
      "idp_unavailable",
      "The identity provider's discovery document names a different issuer than the one configured.",
    );
  }
  const value = metadata[endpoint];
  if (typeof value !== "string" || !URL.canParse(value)) {
    throw new TokenError("idp_unavailable", `The identity provider's discovery document has no ${endpoint}.`);
  }
  return value;
}
