import type { IncomingMessage } from "node:http";

import { describe, expect, it } from "vitest";

import { clientAddress, rememberClientAddress, trustedProxySet } from "./client-address.ts";

function request(socket: string, forwardedFor?: string | string[]): IncomingMessage {
  return {
    socket: { remoteAddress: socket },
    headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor },
  } as unknown as IncomingMessage;
}

function addressOf(req: IncomingMessage, trusted: string[] = []): string {
  rememberClientAddress(req, trustedProxySet(trusted));
  return clientAddress(req);
}

describe("the client address", () => {
  it("is the socket's, whatever X-Forwarded-For says, when no proxy is trusted", () => {
    expect(addressOf(request("198.51.100.1", "203.0.113.9"))).toBe("198.51.100.1");
    expect(addressOf(request("::ffff:198.51.100.1"))).toBe("198.51.100.1");
  });

  it("is the one a trusted proxy appended, not what the client wrote before it", () => {
    const trusted = ["127.0.0.1"];
    expect(addressOf(request("127.0.0.1", "203.0.113.9"), trusted)).toBe("203.0.113.9");
    expect(addressOf(request("::ffff:127.0.0.1", "10.9.9.9, 203.0.113.9"), trusted)).toBe("203.0.113.9");
    // Through two trusted proxies: the rightmost address that is not one of them.
    expect(
      addressOf(request("127.0.0.1", ["1.2.3.4, 203.0.113.9", "10.0.0.2"]), [...trusted, "10.0.0.2"]),
    ).toBe("203.0.113.9");
    // Nothing or garbage appended: the proxy itself.
    expect(addressOf(request("127.0.0.1"), trusted)).toBe("127.0.0.1");
    expect(addressOf(request("127.0.0.1", "203.0.113.9, not-an-address"), trusted)).toBe("127.0.0.1");
    // A socket that is not a trusted proxy is believed, its header is not.
    expect(addressOf(request("198.51.100.2", "203.0.113.9"), trusted)).toBe("198.51.100.2");
  });
});
