/**
 * The benchmark's baseline: the cheapest proxy Node can be with undici's own
 * API. node:http in, `undici.request` out over a keep-alive pool, one header
 * added, the answer's status, type and length passed back and its body piped.
 * No session, no checks, no logging, and none of fetch's WHATWG Request,
 * Headers and stream objects. Whatever a Node proxy costs beyond this is the
 * price of what it does. Environment: HOP_PORT, HOP_UPSTREAM, HOP_TOKEN.
 */
import { createServer } from "node:http";

import { Agent, request } from "undici";

const upstream = process.env.HOP_UPSTREAM ?? "http://localhost:4001";
const authorization = `Bearer ${process.env.HOP_TOKEN ?? ""}`;
const port = Number(process.env.HOP_PORT ?? 3302);
// Keep-alive is undici's default; its own pool, so nothing else shares it.
const dispatcher = new Agent({ keepAliveTimeout: 30_000 });

const server = createServer(async (req, res) => {
  try {
    const answer = await request(`${upstream}${req.url}`, {
      method: req.method as "GET",
      headers: { authorization },
      dispatcher,
    });
    const headers: Record<string, string> = {};
    for (const name of ["content-type", "content-length"]) {
      const value = answer.headers[name];
      if (typeof value === "string") headers[name] = value;
    }
    // The load generator may have closed the connection meanwhile (the end of a run): piping
    // into a destroyed response throws.
    if (res.destroyed) return void answer.body.resume();
    res.writeHead(answer.statusCode, headers);
    // `pipe`, as the BFF does (`pipeline` makes an AbortController and a DOMException per call,
    // about a tenth of this hop's CPU): the baseline is the cheapest way, not the usual one.
    answer.body.on("error", () => res.destroy());
    res.once("close", () => {
      if (!res.writableFinished) answer.body.destroy();
    });
    answer.body.pipe(res);
  } catch {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  }
});
server.keepAliveTimeout = 30_000;
server.listen(port, "localhost", () => console.log(`undici hop listening on http://localhost:${port}`));
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
