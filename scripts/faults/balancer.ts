/**
 * A small round-robin HTTP balancer on loopback, in front of the BFF replicas:
 * each request goes to the next replica, with no stickiness, as a cloud load
 * balancer or nginx `upstream` does. Like nginx's default `proxy_next_upstream
 * error timeout`, a request whose replica cannot be reached, or dies before it
 * answers, is tried on the next replica: always when the connection was refused
 * (the replica never saw it), and for GET and HEAD otherwise (idempotent).
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";

/** The suite's bodies are small; a bound keeps the balancer itself from buffering without limit. */
const MAX_BODY_BYTES = 1_000_000;

export interface Balancer {
  readonly port: number;
  /** POSTs to /bff/backchannel-logout that went through (the IdP ending sessions). */
  backchannelLogouts(): number;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error("request body too large for the test balancer");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startBalancer(port: number, replicaPorts: readonly number[]): Promise<Balancer> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let next = 0;
  let backchannel = 0;

  const server: Server = createServer(async (request, response) => {
    const body = await readBody(request).catch(() => undefined);
    if (body === undefined) {
      response.writeHead(413).end();
      return;
    }
    if (request.method === "POST" && request.url === "/bff/backchannel-logout") backchannel++;
    const idempotent = request.method === "GET" || request.method === "HEAD";

    // Round robin for the first try; then each other replica once, in order.
    const first = next++;
    for (let attempt = 0; attempt < replicaPorts.length; attempt++) {
      const target = replicaPorts[(first + attempt) % replicaPorts.length] as number;
      const outcome = await new Promise<"done" | "refused" | "lost">((resolve) => {
        const upstream = httpRequest(
          {
            host: "127.0.0.1",
            port: target,
            method: request.method,
            path: request.url,
            headers: request.headers,
            agent,
          },
          (answer) => {
            response.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(response);
            answer.once("end", () => resolve("done"));
            answer.once("error", () => {
              response.destroy();
              resolve("done");
            });
          },
        );
        upstream.once("error", (error: NodeJS.ErrnoException) => {
          if (response.headersSent) {
            response.destroy();
            resolve("done");
          } else resolve(error.code === "ECONNREFUSED" ? "refused" : "lost");
        });
        upstream.end(body);
      });
      if (outcome === "done") return;
      if (outcome === "lost" && !idempotent) break;
    }
    if (!response.headersSent)
      response.writeHead(502, { "content-type": "text/plain" }).end("no replica answered");
  });
  // The suite's requests may wait a lease out (10 s and more): no idle cut-off.
  server.requestTimeout = 0;
  server.headersTimeout = 0;

  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    port,
    backchannelLogouts: () => backchannel,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
