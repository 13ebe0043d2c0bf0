/**
 * A proxy hop with Node's fetch: node:http in, fetch (undici underneath,
 * keep-alive) out, one header added. No session, no checks, no logging. It
 * was the benchmark's baseline until peers/undici-hop.ts, which does the same
 * with `undici.request`, took its place; it stays in the table to show what
 * fetch's WHATWG objects cost. Environment: BARE_HOP_PORT, BARE_HOP_UPSTREAM,
 * BARE_HOP_TOKEN.
 */
import { createServer } from "node:http";
import { Readable } from "node:stream";

const upstream = process.env.BARE_HOP_UPSTREAM ?? "http://localhost:4001";
const authorization = `Bearer ${process.env.BARE_HOP_TOKEN ?? ""}`;
const port = Number(process.env.BARE_HOP_PORT ?? 3301);

const server = createServer(async (req, res) => {
  try {
    const answer = await fetch(`${upstream}${req.url}`, { method: req.method, headers: { authorization } });
    res.writeHead(answer.status, {
      "content-type": answer.headers.get("content-type") ?? "application/octet-stream",
    });
    if (answer.body) Readable.fromWeb(answer.body as import("node:stream/web").ReadableStream).pipe(res);
    else res.end();
  } catch {
    res.writeHead(502).end();
  }
});
server.keepAliveTimeout = 10_000;
server.listen(port, "localhost", () => console.log(`bare hop listening on http://localhost:${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
