/**
 * A transparent HTTP hop in front of the IdP, on the issuer's own address: every
 * request of the browsers and the BFF replicas passes through unchanged, and the
 * suite watches the refresh-token requests go by. That lets a fault be placed at
 * an exact moment of a refresh — when the request reaches the IdP, once the IdP
 * has answered but before the answer is delivered, just after it was delivered —
 * and counts what the IdP answered (a refusal is a grant being revoked).
 *
 * Like the network it stands for, it never drops a request it received: when the
 * client goes away, the IdP still gets the request, followed by the connection's
 * end, and acts on it (which is exactly how a killed or impatient client spends a
 * refresh token without learning the answer).
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { Agent, createServer, request as httpRequest, type Server } from "node:http";

export interface RefreshSeen {
  /** The client's source port: which process sent it can be looked up (senderPid). */
  remotePort: number;
  /** When the tap received it (ms since the epoch). */
  at: number;
}

export interface TapHooks {
  /** Before the request goes on to the IdP. */
  onRefreshRequest?(seen: RefreshSeen): Promise<void> | void;
  /** The IdP has answered; the answer is delivered once this resolves. */
  onRefreshAnswer?(seen: RefreshSeen, status: number): Promise<void> | void;
  /** The answer has been written to the client. */
  onRefreshDelivered?(seen: RefreshSeen, status: number): Promise<void> | void;
}

export interface RefreshAnswer {
  at: number;
  status: number;
  /** The person, from the new API access token (a JWT) when the refresh succeeded. */
  sub: string | undefined;
  /** The OAuth error of a refusal: `invalid_grant` is a spent or revoked grant. */
  error: string | undefined;
}

export interface IdpTap {
  readonly port: number;
  hooks: TapHooks;
  /** Every refresh answer the IdP gave, in order. */
  readonly answers: RefreshAnswer[];
  /** The pid, among `candidates`, whose socket has source port `remotePort` towards the tap. */
  senderPid(remotePort: number, candidates: readonly number[]): number | undefined;
  close(): Promise<void>;
}

function subOf(body: string): string | undefined {
  try {
    const token = (JSON.parse(body) as { access_token?: string }).access_token ?? "";
    const payload = token.split(".")[1];
    return payload
      ? (JSON.parse(Buffer.from(payload, "base64url").toString()) as { sub?: string }).sub
      : undefined;
  } catch {
    return undefined;
  }
}

function errorOf(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { error?: string }).error;
  } catch {
    return undefined;
  }
}

/** Socket inodes of TCP connections from `localPort` to `remotePort`, from /proc/net/tcp{,6}. */
function socketInodes(localPort: number, remotePort: number): string[] {
  const inodes: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = Number.parseInt(fields[1]?.split(":")[1] ?? "", 16);
      const remote = Number.parseInt(fields[2]?.split(":")[1] ?? "", 16);
      if (local === localPort && remote === remotePort && fields[9]) inodes.push(fields[9]);
    }
  }
  return inodes;
}

export async function startIdpTap(port: number, idpPort: number): Promise<IdpTap> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const answers: RefreshAnswer[] = [];

  const server: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const isRefresh =
      request.method === "POST" &&
      request.url === "/token" &&
      new URLSearchParams(body.toString()).get("grant_type") === "refresh_token";
    const seen: RefreshSeen = { remotePort: request.socket.remotePort ?? 0, at: Date.now() };
    if (isRefresh) await tap.hooks.onRefreshRequest?.(seen);

    const upstream = httpRequest({
      host: "127.0.0.1",
      port: idpPort,
      method: request.method,
      path: request.url,
      headers: request.headers,
      agent,
    });
    // The client gave up (a deadline, a crash): the IdP's connection ends too, after the request.
    response.once("close", () => {
      if (!response.writableFinished) upstream.destroy();
    });
    upstream.once("error", () => {
      if (!response.headersSent) response.writeHead(502).end();
      else response.destroy();
    });
    upstream.once("response", async (answer) => {
      const parts: Buffer[] = [];
      for await (const chunk of answer) parts.push(chunk as Buffer);
      const text = Buffer.concat(parts);
      const status = answer.statusCode ?? 502;
      if (isRefresh) {
        const decoded = text.toString();
        answers.push({ at: Date.now(), status, sub: subOf(decoded), error: errorOf(decoded) });
        await tap.hooks.onRefreshAnswer?.(seen, status);
      }
      if (response.destroyed) return;
      const headers = { ...answer.headers };
      delete headers["transfer-encoding"];
      headers["content-length"] = String(text.length);
      response.writeHead(status, headers);
      response.end(text, () => {
        if (isRefresh) void tap.hooks.onRefreshDelivered?.(seen, status);
      });
    });
    upstream.end(body);
  });
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));

  const tap: IdpTap = {
    port,
    hooks: {},
    answers,
    senderPid(remotePort, candidates) {
      const inodes = new Set(socketInodes(remotePort, port).map((inode) => `socket:[${inode}]`));
      if (inodes.size === 0) return undefined;
      for (const pid of candidates) {
        let fds: string[] = [];
        try {
          fds = readdirSync(`/proc/${pid}/fd`);
        } catch {
          continue;
        }
        for (const fd of fds) {
          try {
            if (inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return pid;
          } catch {
            // closed meanwhile
          }
        }
      }
      return undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return tap;
}
