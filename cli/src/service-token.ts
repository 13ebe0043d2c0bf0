/**
 * Client credentials (RFC 6749 §4.4): a service asks for a token as itself,
 * authenticating with its own secret. No person, no browser, no refresh token:
 * when the token expires the service simply asks again. The only module of the
 * CLI that imports oauth4webapi.
 */
import * as oauth from "oauth4webapi";

export interface ServiceTokenRequest {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** RFC 8707: the API the token is for; it becomes the token's `aud`. */
  resource: string;
  scope: string;
  fetch: typeof fetch;
}

export async function serviceToken(
  request: ServiceTokenRequest,
): Promise<{ accessToken: string; expiresIn?: number }> {
  const issuer = new URL(request.issuer);
  // Plain http only for an issuer on this machine (the embedded development IdP).
  const http = {
    [oauth.customFetch]: request.fetch,
    ...(issuer.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(issuer.hostname)
      ? { [oauth.allowInsecureRequests]: true }
      : {}),
  };
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, http));
  const client: oauth.Client = { client_id: request.clientId };
  const response = await oauth.clientCredentialsGrantRequest(
    as,
    client,
    oauth.ClientSecretBasic(request.clientSecret),
    { scope: request.scope, resource: request.resource },
    http,
  );
  const result = await oauth.processClientCredentialsResponse(as, client, response);
  return { accessToken: result.access_token, ...(result.expires_in ? { expiresIn: result.expires_in } : {}) };
}
