/**
 * Test support: a `fetch` answered by an IdP running in this very process,
 * through its Node listener, with no port. Tests of the BFF, the API and the
 * CLI use it to talk to the real IdP the way they would over the network.
 * (`light-my-request` is a development dependency: never import this from
 * production code.)
 */
import { inject } from "light-my-request";

import type { Idp } from "./app.ts";

export function inProcessFetch(idp: Pick<Idp, "listener">): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.text();
    const response = await inject(idp.listener, {
      method: request.method as "GET",
      url: `${url.pathname}${url.search}`,
      headers: { ...Object.fromEntries(request.headers), host: url.host },
      ...(body === undefined ? {} : { payload: body }),
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) for (const item of [value].flat()) headers.append(name, String(item));
    }
    const status = response.statusCode;
    return new Response(status === 204 || status === 304 ? null : response.rawPayload, { status, headers });
  };
}
