/**
 * A person's login on this machine, after `contacts login`: the stored tokens,
 * the refresh that keeps them usable, and logout.
 *
 * Refresh with rotation (the IdP hands out a new refresh token on every use and
 * refuses the old one from then on): the new tokens are written to the token
 * file BEFORE the new access token is used, so that whatever happens next
 * (a crash, Ctrl-C), the file never holds a refresh token that is already spent.
 */
import * as oauth from "oauth4webapi";

import { discover } from "./authorization-server.ts";
import type { DeviceLoginResult } from "./device-login.ts";
import { CliError } from "./errors.ts";
import {
  deleteTokenFile,
  readTokenFile,
  type StoredTokens,
  withTokenFileLock,
  writeTokenFile,
} from "./token-file.ts";

export interface PersonSessionContext {
  issuer: string;
  clientId: string;
  api: string;
  /** The token file (see token-file.ts). */
  file: string;
  fetch: typeof fetch;
  /** Milliseconds since the epoch. */
  now(): number;
}

/** Refresh a little before the access token expires, not after: clocks differ. */
const EXPIRY_MARGIN_SECONDS = 30;

export const SESSION_EXPIRED_MESSAGE = "your login has expired or was revoked: run contacts login";

/** What `contacts login` stores. */
export function tokensFromLogin(context: PersonSessionContext, result: DeviceLoginResult): StoredTokens {
  return {
    issuer: context.issuer,
    clientId: context.clientId,
    api: context.api,
    accessToken: result.accessToken,
    accessTokenExpiresAt: Math.floor(context.now() / 1000) + (result.expiresIn ?? 0),
    ...(result.refreshToken ? { refreshToken: result.refreshToken } : {}),
    ...(result.scope ? { scope: result.scope } : {}),
    ...(result.subject ? { subject: result.subject } : {}),
  };
}

/**
 * The stored tokens, if they were issued by this IdP for this API: a token is
 * never sent to an API, or a refresh token to an IdP, it was not meant for.
 */
export async function storedTokens(context: PersonSessionContext): Promise<StoredTokens> {
  const tokens = await readTokenFile(context.file);
  if (
    tokens.issuer !== context.issuer ||
    tokens.api !== context.api ||
    tokens.clientId !== context.clientId
  ) {
    throw new CliError(
      "not_logged_in",
      `not logged in at ${context.issuer} for ${context.api} (the stored login is for ${tokens.issuer}, ${tokens.api}): run contacts login`,
    );
  }
  return tokens;
}

function hasExpired(tokens: StoredTokens, now: number): boolean {
  return now / 1000 >= tokens.accessTokenExpiresAt - EXPIRY_MARGIN_SECONDS;
}

/**
 * Spends the refresh token of `used` and stores the new tokens (atomically) before
 * returning them. Under the token file's lock: when another command refreshed
 * meanwhile, its tokens are taken instead of spending the same refresh token twice.
 */
export async function refreshTokens(
  context: PersonSessionContext,
  used: StoredTokens,
): Promise<StoredTokens> {
  return withTokenFileLock(context.file, async () => {
    const current = await storedTokens(context);
    if (current.refreshToken !== used.refreshToken && !hasExpired(current, context.now())) return current;
    if (!current.refreshToken) throw new CliError("session_expired", SESSION_EXPIRED_MESSAGE);

    const { as, http } = await discover(context.issuer, context.fetch);
    const client: oauth.Client = { client_id: context.clientId };
    const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), current.refreshToken, {
      ...http,
      additionalParameters: { resource: context.api },
    });
    let result: oauth.TokenEndpointResponse;
    try {
      result = await oauth.processRefreshTokenResponse(as, client, response);
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError && error.error === "invalid_grant") {
        // Spent, expired or revoked: it will never work again.
        await deleteTokenFile(context.file);
        throw new CliError("session_expired", SESSION_EXPIRED_MESSAGE, { cause: error });
      }
      throw error;
    }
    const next: StoredTokens = {
      ...current,
      accessToken: result.access_token,
      accessTokenExpiresAt: Math.floor(context.now() / 1000) + (result.expires_in ?? 0),
      // An IdP that does not rotate keeps the old refresh token valid.
      ...(result.refresh_token ? { refreshToken: result.refresh_token } : {}),
      ...(result.scope ? { scope: result.scope } : {}),
    };
    await writeTokenFile(context.file, next);
    return next;
  });
}

/**
 * Calls the API with the stored access token: refreshed first when it has
 * expired, and once more when the API still answers 401 (revoked, clock skew).
 */
export async function withAccessToken(
  context: PersonSessionContext,
  call: (accessToken: string) => Promise<Response>,
): Promise<Response> {
  let tokens = await storedTokens(context);
  let refreshed = false;
  if (hasExpired(tokens, context.now())) {
    tokens = await refreshTokens(context, tokens);
    refreshed = true;
  }
  const response = await call(tokens.accessToken);
  if (response.status !== 401 || refreshed) return response;
  await response.body?.cancel();
  return call((await refreshTokens(context, tokens)).accessToken);
}

/**
 * Revokes the refresh token at the IdP (RFC 7009; the IdP ends the whole grant
 * with it) and deletes the token file. When the IdP cannot be reached the file
 * is kept, so that logging out can be tried again. False: nobody was logged in.
 */
export async function logOut(context: PersonSessionContext): Promise<boolean> {
  let tokens: StoredTokens;
  try {
    tokens = await readTokenFile(context.file);
  } catch (error) {
    if (error instanceof CliError && error.code === "not_logged_in") {
      await deleteTokenFile(context.file);
      return false;
    }
    throw error;
  }
  // Revoke where the token came from, even if the environment now names another IdP.
  const { as, http } = await discover(tokens.issuer, context.fetch);
  const client: oauth.Client = { client_id: tokens.clientId };
  const token = tokens.refreshToken ?? tokens.accessToken;
  const response = await oauth.revocationRequest(as, client, oauth.None(), token, {
    ...http,
    additionalParameters: { token_type_hint: tokens.refreshToken ? "refresh_token" : "access_token" },
  });
  await oauth.processRevocationResponse(response);
  await deleteTokenFile(context.file);
  return true;
}
