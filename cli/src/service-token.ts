/**
 * Client credentials (RFC 6749 §4.4): a service asks for a token as itself,
 * authenticating with its own secret. No person, no browser, no refresh token:
 * when the token expires the service simply asks again.
 */
import * as oauth from "oauth4webapi";

import { discover } from "./authorization-server.ts";

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
  const { as, http } = await discover(request.issuer, request.fetch);
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
