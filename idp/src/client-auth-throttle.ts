import { setTimeout as sleep } from "node:timers/promises";

import type Provider from "oidc-provider";
import type { KoaContextWithOIDC } from "oidc-provider";

import { clientAddress } from "./client-address.ts";
import { createFailureWindow, delayAfter, failuresToReachMax, type GrowingDelay } from "./login-throttle.ts";

/**
 * Slows down guessing of client secrets at every endpoint where oidc-provider
 * authenticates clients (token, introspection, revocation, device
 * authorization, pushed authorization requests). The same shape as the login
 * throttle (ADR 022):
 *
 * - per client address: past the limit of failed client authentications, the
 *   address is answered 429 with Retry-After before anything is checked;
 * - per client id, whatever the address: only a delay before its secret is
 *   compared, growing with the failures and capped, so that an attacker cannot
 *   shut the real client out from the real client's own address.
 */
export interface ClientAuthenticationThrottle {
  /** Seconds until this address may authenticate a client again, or 0 when it may now. */
  refusalSeconds(address: string): number;
  recordFailure(address: string): void;
  /** How long to wait before comparing a secret presented for this client (ms). */
  delayMs(clientId: string): number;
  recordWrongSecret(clientId: string): void;
}

// Why these numbers: a client that works never fails to authenticate, and a
// secret is at least 32 characters (production refuses shorter ones), so ten
// failures from one address are an attack or a broken deployment; five minutes
// keeps a deployment whose secret was just corrected from waiting long. The
// delay starts after ten wrong secrets for one client and stays under 2 s,
// well inside the 5 s its callers allow for an answer.
export const CLIENT_AUTH_FAILURES_PER_ADDRESS = 10;
export const CLIENT_AUTH_WINDOW_MS = 5 * 60 * 1000;
export const CLIENT_SECRET_DELAY: GrowingDelay = { free: 10, baseMs: 250, maxMs: 2000 };

export interface ClientAuthenticationThrottleOptions {
  perAddress?: number;
  windowMs?: number;
  clientDelay?: GrowingDelay;
  maxKeys?: number;
  now?: () => number;
}

export function createClientAuthenticationThrottle(
  options: ClientAuthenticationThrottleOptions = {},
): ClientAuthenticationThrottle {
  const clientDelay = options.clientDelay ?? CLIENT_SECRET_DELAY;
  const shared = {
    windowMs: options.windowMs ?? CLIENT_AUTH_WINDOW_MS,
    ...(options.now ? { now: options.now } : {}),
    ...(options.maxKeys ? { maxKeys: options.maxKeys } : {}),
  };
  const byAddress = createFailureWindow({
    limit: options.perAddress ?? CLIENT_AUTH_FAILURES_PER_ADDRESS,
    ...shared,
  });
  // Keyed by registered clients only (the secret is compared only for a client that exists).
  const byClient = createFailureWindow({ limit: failuresToReachMax(clientDelay), ...shared });
  return {
    refusalSeconds: (address) => byAddress.waitSeconds(address),
    recordFailure: (address) => byAddress.recordFailure(address),
    delayMs: (clientId) => delayAfter(byClient.failures(clientId), clientDelay),
    recordWrongSecret: (clientId) => byClient.recordFailure(clientId),
  };
}

/** The endpoints at which oidc-provider authenticates clients, with the event each emits on an error. */
const CLIENT_AUTHENTICATING_ROUTES = [
  ["token", "grant.error"],
  ["introspection", "introspection.error"],
  ["revocation", "revocation.error"],
  ["device_authorization", "device_authorization.error"],
  ["pushed_authorization_request", "pushed_authorization_request.error"],
  ["backchannel_authentication", "backchannel_authentication.error"],
] as const;

const addressOf = (ctx: Pick<KoaContextWithOIDC, "req">) => clientAddress(ctx.req);

/** Registers the throttle on the provider. Call before the provider answers any request. */
export function limitClientAuthenticationFailures(
  provider: Provider,
  throttle: ClientAuthenticationThrottle = createClientAuthenticationThrottle(),
): void {
  const paths = new Set<string>();
  /** Addresses already reported as refused (forgotten once they may try again). */
  const refused = new Set<string>();
  for (const [route, event] of CLIENT_AUTHENTICATING_ROUTES) {
    try {
      paths.add(provider.pathFor(route));
    } catch {
      continue; // that feature is off: no such endpoint
    }
    // oidc-provider emits the endpoint's error event for every error it answers
    // there; invalid_client is a failed client authentication (unknown client,
    // wrong secret, bad assertion, wrong method), whatever the Accept header.
    // (Every one of these events has the listener type of "grant.error".)
    provider.on(event as "grant.error", (ctx, error) => {
      if (error.error !== "invalid_client") return;
      const address = addressOf(ctx);
      throttle.recordFailure(address);
      // Said once, when the address starts being refused: a deployment with a wrong
      // secret looks exactly like this, and its operator needs to know why it gets 429.
      const wait = throttle.refusalSeconds(address);
      if (wait > 0 && !refused.has(address)) {
        if (refused.size >= 10_000) refused.clear(); // bounded: at worst a line said twice
        refused.add(address);
        console.warn(`idp: too many failed client authentications from ${address}: refused for ${wait} s`);
      }
    });
  }

  provider.use(async function refuseAddressesThatFailTooOften(ctx, next) {
    if (ctx.method !== "POST" || !paths.has(ctx.path)) return next();
    const address = addressOf(ctx);
    const wait = throttle.refusalSeconds(address);
    if (wait === 0) {
      refused.delete(address);
      return next();
    }
    // RFC 6585 §4: 429 with Retry-After. The body is an RFC 6749 §5.2 error
    // document: invalid_client, because this address may not authenticate a
    // client now (no credentials were looked at), with the wait in words.
    ctx.status = 429;
    ctx.set("Retry-After", String(wait));
    ctx.set("Cache-Control", "no-store");
    ctx.body = {
      error: "invalid_client",
      error_description: `too many failed client authentications from this address; try again in ${wait} seconds`,
    };
  });

  // The delay goes right before the secret is compared (client_secret_basic and
  // client_secret_post alike), once oidc-provider knows which registered client is
  // named, wherever the client id came from (the Authorization header or the form).
  // Waiting there, not after a failure, means that a guesser learns nothing sooner
  // by giving up early.
  const { prototype } = provider.Client;
  const compareClientSecret = prototype.compareClientSecret;
  prototype.compareClientSecret = async function throttledCompareClientSecret(actual: string) {
    const delay = throttle.delayMs(this.clientId);
    if (delay > 0) await sleep(delay);
    const matches = await compareClientSecret.call(this, actual);
    if (!matches) throttle.recordWrongSecret(this.clientId);
    return matches;
  };
}
