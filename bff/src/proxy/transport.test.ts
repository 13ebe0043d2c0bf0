import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";

import { afterEach, describe, expect, it } from "vitest";

import { ApiTimeout, fetchTransport, StopSignal, undiciTransport } from "./transport.ts";

/** An API that takes requests and never answers: the transport alone decides when to stop. */
async function silentApi(): Promise<{ url: string; requests: IncomingMessage[]; server: Server }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req) => requests.push(req));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`, requests, server };
}

let open: Server | undefined;
afterEach(async () => {
  open?.closeAllConnections();
  open?.close();
  open = undefined;
});

const call = (url: string, options: { timeoutMs?: number; signal?: StopSignal | AbortSignal } = {}) => ({
  url,
  method: "GET",
  headers: {},
  body: undefined,
  timeoutMs: options.timeoutMs ?? 10_000,
  signal: options.signal,
});

describe.each([
  ["undici", () => undiciTransport()],
  ["fetch", () => fetchTransport(fetch)],
])("the %s transport to an API that does not answer", (_, transport) => {
  it("gives up after the timeout with ApiTimeout", async () => {
    const api = await silentApi();
    open = api.server;
    const started = Date.now();
    await expect(transport()(call(api.url, { timeoutMs: 300 }))).rejects.toBeInstanceOf(ApiTimeout);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it("counts the upload in the timeout: a body that never finishes is given up at the deadline", async () => {
    const api = await silentApi();
    open = api.server;
    // A browser that sends one byte of its upload and then nothing more.
    const upload = new PassThrough();
    upload.write("x");
    const started = Date.now();
    await expect(
      transport()({ ...call(api.url, { timeoutMs: 300 }), method: "POST", body: upload }),
    ).rejects.toBeInstanceOf(ApiTimeout);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("drops the API's request when the browser goes away (StopSignal), and it is no timeout", async () => {
    const api = await silentApi();
    open = api.server;
    const gone = new StopSignal();
    const answer = transport()(call(api.url, { signal: gone }));
    answer.catch(() => {});
    while (api.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const request = api.requests[0] as IncomingMessage;
    // The API sees its request cut off (an "aborted" error, then close).
    request.on("error", () => {});
    const closed = new Promise((resolve) => request.once("close", resolve));
    gone.abort();
    const error = await answer.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ApiTimeout);
    await closed;
  });
});
