/**
 * The BFF as a node:http request listener: `createServer(createNodeListener(bff))`.
 *
 * Calls to /api/* are served here, straight from Node's request to the API and
 * back (proxy/api-call.ts, with undici's stream in and out): on this path a
 * Fetch-API Request, Response and Headers per call would cost more than the rest
 * of the proxy together (docs/decisions/025). Every other request goes to the
 * Hono app, as `serve(bff)` would send it.
 *
 * What the Hono app adds to every answer is added here too: the security headers,
 * the problem documents, the same log lines for failures.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";

import { getRequestListener } from "@hono/node-server";
import { API_PREFIX } from "@oidc-bff/shared";

import { BffError, problemParts } from "../errors.ts";
import { type BffLogger, describeError } from "../logger.ts";
import { securityHeaders } from "../security-headers.ts";
import { CookieJar } from "../session/cookies.ts";
import type { ApiProxy, BrowserUrl } from "./api-call.ts";
import { StopSignal } from "./transport.ts";

export interface NodePath {
  proxy: ApiProxy;
  ownOrigin: string;
  production: boolean;
  logger: BffLogger;
}

/** Set by createBff for each BFF it builds, so that the listener finds the proxy of a BFF. */
const nodePaths = new WeakMap<object, NodePath>();

export function registerNodePath(bff: object, path: NodePath): void {
  nodePaths.set(bff, path);
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * @example
 * const bff = createBff(config);
 * createServer(createNodeListener(bff)).listen(3000);
 */
export function createNodeListener(bff: {
  fetch: (request: Request) => Response | Promise<Response>;
}): Listener {
  const path = nodePaths.get(bff);
  if (path === undefined) throw new TypeError("createNodeListener: not a BFF made by createBff");
  const others = getRequestListener((request) => bff.fetch(request));
  return (req, res) => {
    const url = browserUrl(req.url ?? "/", path.ownOrigin);
    // Decided on the resolved path, as the Hono router would see it ("/api/../bff/x" is not a call).
    if (url === undefined || !url.pathname.startsWith(`${API_PREFIX}/`)) {
      others(req, res);
      return;
    }
    void serveApiCall(path, req, res, url);
  };
}

/**
 * A request target the URL parser would leave exactly as it is: /api/ and then only
 * characters that it neither decodes, encodes nor resolves (no `%`, `.`, `\` in the path;
 * no quote, `<`, `>` or backtick anywhere). Most calls are like this, and need no parser.
 */
const PLAIN_API_TARGET = new RegExp(
  `^${API_PREFIX}/[\\w\\-~!$&()*+,;=:@/]*(?:\\?[\\w\\-~!$&()*+,;=:@/?%.]*)?$`,
);

/** The path and query of a request target, as `new URL` reads them; undefined when it cannot. */
export function browserUrl(target: string, origin: string): BrowserUrl | undefined {
  if (PLAIN_API_TARGET.test(target)) {
    const query = target.indexOf("?");
    return query === -1
      ? { pathname: target, search: "" }
      : // "?" alone is no query, as the URL parser sees it.
        { pathname: target.slice(0, query), search: query === target.length - 1 ? "" : target.slice(query) };
  }
  try {
    const { pathname, search } = new URL(target, origin);
    return { pathname, search };
  } catch {
    return undefined;
  }
}

async function serveApiCall(path: NodePath, req: IncomingMessage, res: ServerResponse, url: BrowserUrl) {
  const cookies = new CookieJar(req.headers.cookie);
  const method = req.method ?? "GET";
  const gone = new StopSignal();
  res.once("close", () => {
    if (!res.writableFinished) gone.abort();
  });
  try {
    const answer = await path.proxy.forward({
      method,
      url,
      header: (name) => {
        const value = req.headers[name];
        return Array.isArray(value) ? value.join(", ") : value;
      },
      body: declaresBody(req) ? req : null,
      cookies,
      signal: gone,
    });
    res.writeHead(answer.status, withCookies(answerHeaders(path, answer.headers), cookies));
    if (answer.body === null) {
      res.end();
      return;
    }
    pass(answer.body, res);
  } catch (error) {
    refuse(path, req, res, url, cookies, error);
  }
}

/** Whether the request has a body to read: a length above zero, or a chunked one. */
function declaresBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return (length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined;
}

/**
 * The API's body into the browser's answer. A browser that goes away mid-download ends
 * the API's stream too, and a stream the API breaks off ends the answer. (`pipe`, not
 * `pipeline`: pipeline makes an AbortController and its DOMException for every call.)
 */
function pass(body: Readable, res: ServerResponse): void {
  body.on("error", () => res.destroy());
  res.once("close", () => {
    if (!res.writableFinished) body.destroy();
  });
  body.pipe(res);
}

/** The security headers of every /api answer, by mode: the same for all of them (no /api path is a page route). */
const API_SECURITY_HEADERS = {
  development: securityHeaders(false, `${API_PREFIX}/`),
  production: securityHeaders(true, `${API_PREFIX}/`),
};

/** The answer's own headers (a fresh object of this request's) with the security headers added. */
function answerHeaders(path: NodePath, headers: Record<string, string>): Record<string, string> {
  return Object.assign(
    headers,
    path.production ? API_SECURITY_HEADERS.production : API_SECURITY_HEADERS.development,
  );
}

function withCookies(headers: Record<string, string>, cookies: CookieJar): Record<string, string | string[]> {
  const lines = cookies.setCookieLines();
  return lines.length > 0 ? { ...headers, "set-cookie": lines } : headers;
}

/** How long a refused body is read on and dropped, at most, before its connection is closed. */
const LINGER_MS = 2_000;

/**
 * Closing a connection while the browser is still sending makes the kernel answer the bytes
 * that keep coming with a reset, and the browser may then lose the answer it was sent (RFC 9112
 * §9.6). So the rest of a refused body is read and dropped, and the connection closed if the
 * body has not ended within LINGER_MS: nobody keeps it busy with an endless body. A body that
 * ends in time leaves the connection as it would be after any answer.
 */
function dropRestOfBody(req: IncomingMessage): void {
  req.resume();
  const deadline = setTimeout(() => req.socket.destroy(), LINGER_MS);
  deadline.unref();
  const done = () => clearTimeout(deadline);
  req.once("end", done);
  req.socket.once("close", done);
}

/** As the Hono app's onError: a problem document, logged like it, with the cookies this request set or cleared. */
function refuse(
  path: NodePath,
  req: IncomingMessage,
  res: ServerResponse,
  url: BrowserUrl,
  cookies: CookieJar,
  error: unknown,
) {
  const known =
    error instanceof BffError ? error : new BffError("internal_error", "unexpected error", { cause: error });
  const line = `${req.method} ${url.pathname}: ${describeError(error)}`;
  if (known.status >= 500) path.logger.error(line);
  else path.logger.info(line);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // The body was not read (refused before, or cut off): what still comes is dropped, for a while.
  if (declaresBody(req) && !req.readableEnded) dropRestOfBody(req);
  const problem = problemParts(known);
  res.writeHead(problem.status, withCookies(answerHeaders(path, problem.headers), cookies));
  res.end(problem.body);
}
