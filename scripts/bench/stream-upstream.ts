/**
 * A bench-only upstream with large bodies, which the contacts API does not
 * have: `GET /download?bytes=N` streams N bytes, `POST /upload` reads and
 * discards the body and answers how many bytes came. Neither holds more than
 * one 64 KiB chunk, so any memory that grows during a transfer is the
 * proxy's. Environment: STREAM_PORT.
 */
import { createServer } from "node:http";

const port = Number(process.env.STREAM_PORT ?? 3310);
const CHUNK = Buffer.alloc(64 * 1024, "x");

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://upstream");
  if (req.method === "GET" && url.pathname === "/download") {
    const total = Number(url.searchParams.get("bytes") ?? 0);
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(total) });
    let left = total;
    // Writes until the socket's buffer is full, then waits for it to drain: the reader sets the pace.
    const write = () => {
      while (left > 0) {
        const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
        left -= chunk.length;
        if (!res.write(chunk)) return void res.once("drain", write);
      }
      res.end();
    };
    write();
    return;
  }
  if (req.method === "POST" && url.pathname === "/upload") {
    let received = 0;
    req.on("data", (chunk: Buffer) => {
      received += chunk.length;
    });
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ received, authorized: req.headers.authorization?.startsWith("Bearer ") === true }),
      );
    });
    return;
  }
  res.writeHead(404).end();
});
server.listen(port, "127.0.0.1", () => console.log(`stream upstream listening on http://127.0.0.1:${port}`));
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
