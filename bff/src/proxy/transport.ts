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
import { EventEmitter } from "node:events";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";

import { Agent, type Dispatcher, request } from "undici";

export interface ApiRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** Streamed to the API as it arrives; undefined for no body. */
  body: Readable | undefined;
  /** How long, from the start of the call, until the answer's headers have arrived; then `ApiTimeout`. */
  timeoutMs: number;
  /** Aborted when the browser goes away. */
  signal: Abortable | undefined;
}

/**
 * What tells the transport to stop: an AbortSignal, or an EventEmitter that emits "abort"
 * and says `aborted` (`StopSignal`). undici takes either as a request's signal; the
 * node:http path and the undici transport use the second, which costs a fraction of an
 * AbortController and its EventTarget listeners on every call.
 */
export type Abortable = AbortSignal | StopSignal;

export class StopSignal extends EventEmitter {
  aborted = false;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit("abort");
  }
}

/** Calls `listener` when `signal` aborts; returns what removes it. */
function onAbort(signal: Abortable, listener: () => void): () => void {
  if (signal instanceof AbortSignal) {
    signal.addEventListener("abort", listener, { once: true });
    return () => signal.removeEventListener("abort", listener);
  }
  signal.once("abort", listener);
  return () => signal.removeListener("abort", listener);
}

/** An AbortSignal for an `Abortable` (fetch takes only those). */
function abortSignalOf(signal: Abortable): AbortSignal {
  if (signal instanceof AbortSignal) return signal;
  const controller = new AbortController();
  if (signal.aborted) controller.abort();
  else signal.once("abort", () => controller.abort());
  return controller.signal;
}

/** The API sent no answer within the request's `timeoutMs`. */
export class ApiTimeout extends Error {
  override name = "ApiTimeout";
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
  return async ({ url, method, headers, body, timeoutMs, signal }) => {
    // One deadline from the start of the call: connecting, sending the body and waiting for the
    // answer's headers all count (undici's headersTimeout would start only once the body is sent,
    // so a browser dribbling an upload could hold a connection to the API for minutes).
    const stop = new StopSignal();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stop.abort();
    }, timeoutMs);
    const stopListening = signal ? onAbort(signal, () => stop.abort()) : undefined;
    if (signal?.aborted) stop.abort();
    let answer: Dispatcher.ResponseData;
    try {
      answer = await request(url, {
        method: method as "GET",
        headers,
        signal: stop,
        dispatcher,
        ...(body ? { body } : {}),
      });
    } catch (error) {
      if (timedOut) throw new ApiTimeout("no answer in time", { cause: error });
      throw error;
    } finally {
      // The deadline covers the wait for the answer's headers; the body then streams at its own pace.
      clearTimeout(timer);
      stopListening?.();
    }
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
  return async ({ url, method, headers, body, timeoutMs, signal }) => {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    let answer: Response;
    try {
      // Node's fetch would decompress a gzip answer but keep its headers: ask for none.
      answer = await fetchImpl(url, {
        method,
        headers: { ...headers, "accept-encoding": "identity" },
        redirect: "manual",
        signal: signal ? AbortSignal.any([abortSignalOf(signal), timeout.signal]) : timeout.signal,
        ...(body ? { body: Readable.toWeb(body), duplex: "half" } : {}),
      } as RequestInit);
    } catch (error) {
      if (timeout.signal.aborted && signal?.aborted !== true) {
        throw new ApiTimeout("no answer in time", { cause: error });
      }
      throw error;
    } finally {
      // The timeout covers the wait for the answer's headers; the body then streams at its own pace.
      clearTimeout(timer);
    }
    return {
      status: answer.status,
      header: (name) => answer.headers.get(name) ?? undefined,
      body: answer.body ? Readable.fromWeb(answer.body as WebReadableStream) : null,
    };
  };
}
