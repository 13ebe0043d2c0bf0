/**
 * The IdP as oauth4webapi sees it: its discovery document, and the options
 * every request to it carries. One place decides when plain http is allowed.
 */
import * as oauth from "oauth4webapi";

export interface AuthorizationServerConnection {
  as: oauth.AuthorizationServer;
  /** `customFetch` (tests route it in-process) and, on loopback only, plain http. */
  http: { [oauth.customFetch]: typeof fetch; [oauth.allowInsecureRequests]?: boolean };
}

const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"];

/** How long any request to the IdP may take. */
export const IDP_TIMEOUT_MS = 10_000;

/** This machine: the only place plain http may go. */
export function isLoopback(hostname: string): boolean {
  return LOOPBACK_HOSTS.includes(hostname);
}

/**
 * Fetches and checks the IdP's discovery document (its `issuer` must be the
 * one asked for, or nothing is sent to it).
 */
export async function discover(
  issuerUrl: string,
  fetch: typeof globalThis.fetch,
): Promise<AuthorizationServerConnection> {
  const issuer = new URL(issuerUrl);
  // Plain http only for an issuer on this machine (the embedded development IdP).
  const http = {
    // Every request to the IdP has a deadline, well inside the token file's stale-lock time
    // (token-file.ts): a hung refresh must not outlive the lock that protects it.
    [oauth.customFetch]: (url: string | URL | Request, init: RequestInit = {}) =>
      fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(IDP_TIMEOUT_MS) }),
    ...(issuer.protocol === "http:" && isLoopback(issuer.hostname)
      ? { [oauth.allowInsecureRequests]: true }
      : {}),
  };
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, http));
  return { as, http };
}
