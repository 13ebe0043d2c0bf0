/**
 * ANY /api/*: the SPA's calls to the protected API, made by the BFF on its
 * behalf. The browser sends its session cookie; the API receives the access
 * token; neither sees the other's credential.
 *
 * One call, in order: the size the browser declares, the path and the route
 * table (api-routes.ts), the cross-site check (csrf.ts), the session and a fresh
 * access token (session/sessions.ts, which refreshes when needed), the route's
 * scopes; then the request to the API with the token, and the API's answer with
 * only the headers the browser may have (headers.ts). Bodies stream through in
 * both directions and are never held here.
 *
 * This module knows no web framework: the Hono route (routes/api-proxy.ts) and
 * the node:http path (node-listener.ts) both hand it an `ApiCall`.
 */
import type { Readable } from "node:stream";

import { countedUpload, tooLarge } from "../body-limit.ts";
import type { ResolvedBffConfig } from "../config.ts";
import { checkSameOriginScript } from "../csrf.ts";
import { BffError } from "../errors.ts";
import type { FlowLog } from "../inspector/flow-log.ts";
import type { CookieJar } from "../session/cookies.ts";
import type { Sessions } from "../session/sessions.ts";
import { apiPath, checkApiRoute, checkScopes } from "./api-routes.ts";
import { browserHeaders, FORWARDED_REQUEST_HEADERS } from "./headers.ts";
import { type Abortable, ApiTimeout, type ApiTransport } from "./transport.ts";

/** The browser's path and query, as the URL parser reads them (plain `.` and `..` segments resolved). */
export type BrowserUrl = Pick<URL, "pathname" | "search">;

export interface ApiCall {
  method: string;
  url: BrowserUrl;
  header(name: string): string | undefined;
  /** The request body as it arrives, or null when the request has none. */
  body: Readable | null;
  /** The request's cookies; a refreshed session's cookie is written here. */
  cookies: CookieJar;
  /** Aborted when the browser goes away before the API answers. */
  signal?: Abortable;
}

export interface ApiAnswer {
  status: number;
  /** The headers for the browser (cookies are in the call's jar). */
  headers: Record<string, string>;
  body: Readable | null;
}

export interface ApiProxy {
  forward(call: ApiCall): Promise<ApiAnswer>;
}

export function createApiProxy(deps: {
  config: ResolvedBffConfig;
  sessions: Sessions;
  flow: FlowLog;
  transport: ApiTransport;
}): ApiProxy {
  const { config, sessions, flow, transport } = deps;
  const base = config.apiBaseUrl.href.replace(/\/+$/, "");
  const maxBytes = config.apiMaxBodyBytes;

  return {
    async forward(call) {
      const { method, url } = call;
      // Refused before anything else: a declared size over the limit is not worth a session lookup.
      if (Number(call.header("content-length") ?? 0) > maxBytes) throw tooLarge(maxBytes);
      const path = apiPath(url.pathname);
      const route = checkApiRoute(config.apiRoutes, method, path);
      checkSameOriginScript(call.header, config.ownOrigin);
      // The destination comes from configuration only, never from the request (C5).
      const target = `${route?.upstream ? route.upstream.replace(/\/+$/, "") : base}${path}${url.search}`;

      const session = await sessions.withFreshAccessToken(call.cookies, await sessions.require(call.cookies));
      checkScopes(route, session.tokens.scopes);

      const headers: Record<string, string> = {};
      for (const name of FORWARDED_REQUEST_HEADERS) {
        const value = call.header(name);
        if (value !== undefined) headers[name] = value;
      }
      headers.authorization = `Bearer ${session.tokens.accessToken}`;

      // Streamed, never held: counted on the way to the API, and cut off past the limit.
      const upload =
        call.body && method !== "GET" && method !== "HEAD" ? countedUpload(call.body, maxBytes) : undefined;
      const started = performance.now();
      let answer: Awaited<ReturnType<ApiTransport>>;
      try {
        answer = await transport({
          url: target,
          method,
          headers,
          body: upload?.stream,
          timeoutMs: config.apiTimeoutMs,
          signal: call.signal,
        });
      } catch (error) {
        if (upload?.exceeded()) throw tooLarge(maxBytes);
        if ((error as { code?: unknown }).code === "UND_ERR_INVALID_ARG") {
          throw new BffError("invalid_request", "A header of this request cannot be forwarded.", {
            cause: error,
          });
        }
        const timedOut = error instanceof ApiTimeout;
        flow.record(session.sid, (steps) => steps.apiCallFailed({ method, path }, timedOut));
        if (timedOut)
          throw new BffError("upstream_timeout", "The API did not answer in time.", { cause: error });
        throw new BffError("upstream_unreachable", "The API could not be reached.", { cause: error });
      }
      flow.record(session.sid, (steps) => steps.apiCall(method, url, answer.status, started));
      return { status: answer.status, headers: browserHeaders(answer.header), body: answer.body };
    },
  };
}
