import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

/**
 * The address a request comes from, which the guessing limits count by (login,
 * user codes, client authentication). It is the socket's, except when the
 * socket is one of the reverse proxies the IdP was told to trust
 * (IDP_TRUSTED_PROXIES): then it is the address that proxy appended to
 * X-Forwarded-For. Anyone can write X-Forwarded-For, so it is believed only
 * from a trusted proxy, and only the entries appended by trusted proxies: the
 * rightmost entry that is not itself a trusted proxy is the client.
 *
 * Read once per request, before the listener removes X-Forwarded-For (so that
 * oidc-provider, which trusts proxy headers for the issuer's sake, never sees it).
 */
const addresses = new WeakMap<IncomingMessage, string>();

/** "::ffff:127.0.0.1" and "127.0.0.1" are one address. */
function normalize(address: string): string {
  return address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export function rememberClientAddress(req: IncomingMessage, trustedProxies: ReadonlySet<string>): void {
  const socket = normalize(req.socket.remoteAddress ?? "unknown");
  let address = socket;
  if (trustedProxies.has(socket)) {
    const header = req.headers["x-forwarded-for"];
    const hops = [header ?? []]
      .flat()
      .join(",")
      .split(",")
      .map((hop) => normalize(hop.trim()));
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] as string;
      if (isIP(hop) === 0) break; // not written by a proxy: stop believing here
      address = hop;
      if (!trustedProxies.has(hop)) break;
    }
  }
  addresses.set(req, address);
}

/** The client's address (see above); the socket's for a request the listener did not see. */
export function clientAddress(req: IncomingMessage): string {
  return addresses.get(req) ?? normalize(req.socket.remoteAddress ?? "unknown");
}

/** For configuration: the entries of a trusted proxy list that are not IP addresses. */
export function notIpAddresses(list: readonly string[]): string[] {
  return list.filter((entry) => isIP(entry) === 0);
}

export function trustedProxySet(list: readonly string[] | undefined): ReadonlySet<string> {
  return new Set((list ?? []).map(normalize));
}
