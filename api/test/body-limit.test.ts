/**
 * Every route of the API refuses a body over 16 KiB with a 413 problem, before the token is
 * checked and whether the size is declared or not: no request makes the API hold more.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Api } from "../src/app.ts";
import { apiFor, startIdp, type TestIdp } from "./helpers.ts";

let idp: TestIdp;
let api: Api;
beforeAll(async () => {
  idp = await startIdp();
  api = apiFor(idp);
});
afterAll(async () => {
  api.close();
  await idp.close();
});

function streamOf(bytes: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      sent += 4096;
      controller.enqueue(new Uint8Array(4096));
    },
  });
}

describe("the API's body limit (X9)", () => {
  it.each(["/contacts", "/contacts/1", "/me", "/stats", "/health", "/nowhere"])(
    "%s: 413 payload_too_large for 20 KiB, declared or streamed, before any token check (X9)",
    async (path) => {
      const declared = await api.app.request(path, {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": String(20 * 1024) },
        body: "x".repeat(20 * 1024),
      });
      const streamed = await api.app.request(path, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: streamOf(20 * 1024),
        duplex: "half",
      } as RequestInit);
      for (const response of [declared, streamed]) {
        expect(response.status).toBe(413);
        expect(await response.json()).toMatchObject({ status: 413, code: "payload_too_large" });
      }
    },
  );
});
