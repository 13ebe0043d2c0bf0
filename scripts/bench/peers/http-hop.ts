/**
 * The same hop as undici-hop.ts with node:http's own client and a keep-alive
 * Agent: the other way a Node proxy can be written without fetch, shown beside
 * it. Environment: HOP_PORT, HOP_UPSTREAM, HOP_TOKEN.
 */
import { Agent, createServer, request } from "node:http";
import { pipeline } from "node:stream";

const upstream = new URL(process.env.HOP_UPSTREAM ?? "http://localhost:4001");
const authorization = `Bearer ${process.env.HOP_TOKEN ?? ""}`;
const port = Number(process.env.HOP_PORT ?? 3303);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

const server = createServer((req, res) => {
  const outgoing = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      path: req.url,
      method: req.method,
      headers: { authorization },
      agent,
    },
    (answer) => {
      const headers: Record<string, string> = {};
      for (const name of ["content-type", "content-length"]) {
        const value = answer.headers[name];
        if (typeof value === "string") headers[name] = value;
      }
      // The load generator may have closed the connection meanwhile (the end of a run): piping
      // into a destroyed response throws.
      if (res.destroyed) return void answer.resume();
      res.writeHead(answer.statusCode ?? 502, headers);
      pipeline(answer, res, () => {});
    },
  );
  outgoing.once("error", () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  outgoing.end();
});
server.keepAliveTimeout = 30_000;
server.listen(port, "localhost", () => console.log(`node:http hop listening on http://localhost:${port}`));
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
