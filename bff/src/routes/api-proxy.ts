/**
 * ANY /api/* as a Hono route, for an app that mounts the BFF (`app.route("/", bff)`).
 * The call itself is proxy/api-call.ts; the BFF's own server takes these requests
 * on a shorter path, straight from node:http (proxy/node-listener.ts).
 */
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";

import { API_PREFIX } from "@oidc-bff/shared";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

import type { ApiProxy } from "../proxy/api-call.ts";
import { cookieJar } from "../session/cookies.ts";

export function apiProxyRoutes(proxy: ApiProxy): Hono {
  const routes = new Hono();
  routes.all(`${API_PREFIX}/*`, async (c) => {
    const body = c.req.raw.body;
    const answer = await proxy.forward({
      method: c.req.method,
      url: new URL(c.req.url),
      header: (name) => c.req.header(name),
      body: body ? Readable.fromWeb(body as WebReadableStream) : null,
      cookies: cookieJar(c),
      signal: c.req.raw.signal,
    });
    // Through Hono's context, so that cookies the BFF set during this request
    // (a refreshed session) are sent along with the API's own headers.
    for (const [name, value] of Object.entries(answer.headers)) c.header(name, value);
    if (answer.body === null) return c.body(null, answer.status as ContentfulStatusCode);
    return c.body(Readable.toWeb(answer.body) as ReadableStream, answer.status as ContentfulStatusCode);
  });
  return routes;
}
