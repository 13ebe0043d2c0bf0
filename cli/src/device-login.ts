/**
 * The device authorization grant (RFC 8628), the device's side: how a
 * command line with no browser gets a person's tokens.
 *
 * 1. Ask the IdP for a device code and a short user code (§3.1, §3.2).
 * 2. Tell the person where to go and which code to enter (§3.3).
 * 3. Poll the token endpoint every `interval` seconds (§3.4, §3.5) until the
 *    person has approved (tokens) or declined (`access_denied`), or the code
 *    ran out (`expired_token`). `slow_down` adds 5 seconds to the interval,
 *    for this and every later poll. When the IdP cannot be reached (network
 *    error, 5xx, 429) the interval doubles, up to a minute, and polling goes on
 *    until the code expires (§3.5: back off on connection problems).
 */
import * as oauth from "oauth4webapi";

import { discover } from "./authorization-server.ts";
import { CliError } from "./errors.ts";

/** What the person needs to approve the login in a browser. */
export interface DevicePrompt {
  verificationUri: string;
  userCode: string;
  /** The same page with the code filled in, when the IdP offers one. */
  verificationUriComplete?: string;
  /** Seconds until the code expires. */
  expiresIn: number;
}

export interface DeviceLoginRequest {
  issuer: string;
  /** A public client registered for the device_code grant (no secret). */
  clientId: string;
  /** RFC 8707: the API the access token is for. */
  resource: string;
  scope: string;
  fetch: typeof fetch;
  /** Shows the prompt to the person (called once, before polling starts). */
  prompt(prompt: DevicePrompt): void;
  /** Waits between polls; tests make it return at once. */
  sleep(ms: number): Promise<void>;
  /** Milliseconds since the epoch. */
  now(): number;
}

export interface DeviceLoginResult {
  accessToken: string;
  /** Seconds. */
  expiresIn?: number;
  refreshToken?: string;
  scope?: string;
  /** The validated ID token's `sub`, when the IdP sent an ID token. */
  subject?: string;
}

/** RFC 8628 §3.2: the interval when the IdP does not say; §3.5: what slow_down adds. */
export const DEFAULT_INTERVAL_SECONDS = 5;
export const SLOW_DOWN_SECONDS = 5;
/** Backing off doubles the interval up to this (a longer one only comes from slow_down). */
export const MAX_BACKOFF_SECONDS = 60;

export const DECLINED_MESSAGE = "you declined the login on the sign-in page; nothing was stored";
export const EXPIRED_MESSAGE = "the code expired; run contacts login again";
export const UNREACHABLE_MESSAGE =
  "the IdP could not be reached until the code expired; check the network and run contacts login again";

/** The token endpoint did not answer (the request failed before any response). */
class IdpUnreachable extends Error {}

/**
 * Runs the whole device flow and returns the tokens. Throws a CliError with
 * `access_denied` or `expired_token` when the person declined or took too long.
 */
export async function deviceLogin(request: DeviceLoginRequest): Promise<DeviceLoginResult> {
  const { as, http } = await discover(request.issuer, request.fetch);
  const client: oauth.Client = { client_id: request.clientId };
  // A public client: it only names itself (client_id in the body).
  const clientAuth = oauth.None();

  const authorization = await oauth.processDeviceAuthorizationResponse(
    as,
    client,
    await oauth.deviceAuthorizationRequest(
      as,
      client,
      clientAuth,
      { scope: request.scope, resource: request.resource },
      http,
    ),
  );
  request.prompt({
    verificationUri: authorization.verification_uri,
    userCode: authorization.user_code,
    ...(authorization.verification_uri_complete
      ? { verificationUriComplete: authorization.verification_uri_complete }
      : {}),
    expiresIn: authorization.expires_in,
  });

  // Never faster than once a second, whatever the IdP says.
  let intervalSeconds = Math.max(1, authorization.interval ?? DEFAULT_INTERVAL_SECONDS);
  const deadline = request.now() + authorization.expires_in * 1000;
  // Failures of the network itself are told apart from the library's own errors.
  const pollFetch: typeof fetch = (input, init) =>
    request.fetch(input, init).catch((cause: unknown) => {
      throw new IdpUnreachable("the IdP could not be reached", { cause });
    });
  let unreachable = false;
  for (;;) {
    await request.sleep(intervalSeconds * 1000);
    if (request.now() >= deadline) {
      throw new CliError("expired_token", unreachable ? UNREACHABLE_MESSAGE : EXPIRED_MESSAGE);
    }
    let response: Response;
    try {
      response = await oauth.deviceCodeGrantRequest(as, client, clientAuth, authorization.device_code, {
        ...http,
        [oauth.customFetch]: pollFetch,
        additionalParameters: { resource: request.resource },
      });
    } catch (error) {
      if (!(error instanceof IdpUnreachable)) throw error;
      unreachable = true;
      intervalSeconds = backedOff(intervalSeconds);
      continue;
    }
    // An IdP that is down or overloaded: ask less often rather than give up (RFC 8628 §3.5).
    if (response.status >= 500 || response.status === 429) {
      await response.body?.cancel();
      unreachable = true;
      intervalSeconds = backedOff(intervalSeconds);
      continue;
    }
    unreachable = false;
    try {
      const tokens = await oauth.processDeviceCodeResponse(as, client, response);
      const subject = tokens.id_token ? oauth.getValidatedIdTokenClaims(tokens)?.sub : undefined;
      return {
        accessToken: tokens.access_token,
        ...(tokens.expires_in === undefined ? {} : { expiresIn: tokens.expires_in }),
        ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
        ...(tokens.scope ? { scope: tokens.scope } : {}),
        ...(subject ? { subject } : {}),
      };
    } catch (error) {
      if (!(error instanceof oauth.ResponseBodyError)) throw error;
      switch (error.error) {
        case "authorization_pending":
          break;
        case "slow_down":
          intervalSeconds += SLOW_DOWN_SECONDS;
          break;
        case "access_denied":
          throw new CliError("access_denied", DECLINED_MESSAGE, { cause: error });
        case "expired_token":
          throw new CliError("expired_token", EXPIRED_MESSAGE, { cause: error });
        default:
          throw new CliError(
            "login_failed",
            `the IdP refused the login (${error.error}${error.error_description ? `: ${error.error_description}` : ""})`,
            { cause: error },
          );
      }
    }
  }
}

/** RFC 8628 §3.5: "doubling the polling interval on each such connection timeout" (here up to a minute). */
function backedOff(intervalSeconds: number): number {
  return Math.max(intervalSeconds, Math.min(intervalSeconds * 2, MAX_BACKOFF_SECONDS));
}
