/**
 * Client credentials (RFC 6749 §4.4): a service asks for a token as itself,
 * authenticating with its own secret. No person, no browser, no refresh token:
 * when the token expires the service simply asks again.
 */
import * as oauth from "oauth4webapi";

import { discover } from "./authorization-server.ts";
import { CliError } from "./errors.ts";

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
  let result: Awaited<ReturnType<typeof oauth.processClientCredentialsResponse>>;
  try {
    result = await oauth.processClientCredentialsResponse(as, client, response);
  } catch (error) {
    throw refusal(error, request.clientId);
  }
  return { accessToken: result.access_token, ...(result.expires_in ? { expiresIn: result.expires_in } : {}) };
}

/** The IdP's refusal in words a person can act on (the library's own message names HTTP headers). */
function refusal(error: unknown, clientId: string): unknown {
  const code =
    error instanceof oauth.WWWAuthenticateChallengeError
      ? error.cause[0]?.parameters.error
      : error instanceof oauth.ResponseBodyError
        ? error.error
        : undefined;
  if (code === "invalid_client") {
    return new CliError(
      "login_failed",
      `the IdP refused the credentials of ${clientId} (invalid_client): check CONTACTS_CLIENT_SECRET or the --secret-file`,
      { cause: error },
    );
  }
  if (code === "invalid_scope" || code === "invalid_target" || code === "unauthorized_client") {
    return new CliError("login_failed", `the IdP refused the request of ${clientId} (${code})`, {
      cause: error,
    });
  }
  return error;
}
