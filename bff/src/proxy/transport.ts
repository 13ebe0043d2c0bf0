/**
 * How the proxy reaches the API. Two ways, one shape:
 *
 * - `undiciTransport`: undici's `request` on a keep-alive connection pool. The
 *   answer's body is a Node stream that the node:http path pipes straight into the
 *   browser's socket: no Fetch-API Request, Response or Headers objects, no web
 *   streams. This is what the server uses (docs/decisions/025).
 * - `fetchTransport`: any `fetch`. Tests route it to the API in the same process, and
 *   an app that wraps `fetch` (for tracing, say) keeps its wrapper.
 */
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";

import { Agent, request } from "undici";

export interface ApiRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** Streamed to the API as it arrives; undefined for no body. */
  body: Readable | undefined;
  signal: AbortSignal;
}

export interface ApiResponse {
  status: number;
  /** A response header, or undefined. */
  header(name: string): string | undefined;
  body: Readable | null;
}

export type ApiTransport = (call: ApiRequest) => Promise<ApiResponse>;

export function undiciTransport(): ApiTransport {
  // One pool per BFF, kept alive between requests like the browser's own connection.
  const dispatcher = new Agent();
  return async ({ url, method, headers, body, signal }) => {
    const answer = await request(url, {
      method: method as "GET",
      headers,
      signal,
      dispatcher,
      ...(body ? { body } : {}),
    });
    return {
      status: answer.statusCode,
      header(name) {
        const value = answer.headers[name];
        return Array.isArray(value) ? value.join(", ") : value;
      },
      body: answer.body,
    };
  };
}

export function fetchTransport(fetchImpl: typeof fetch): ApiTransport {
  return async ({ url, method, headers, body, signal }) => {
    // Node's fetch would decompress a gzip answer but keep its headers: ask for none.
    const answer = await fetchImpl(url, {
      method,
      headers: { ...headers, "accept-encoding": "identity" },
      redirect: "manual",
      signal,
      ...(body ? { body: Readable.toWeb(body), duplex: "half" } : {}),
    } as RequestInit);
    return {
      status: answer.status,
      header: (name) => answer.headers.get(name) ?? undefined,
      body: answer.body ? Readable.fromWeb(answer.body as WebReadableStream) : null,
    };
  };
}
