/**
 * Request-body limits (bff/src/body-limit.ts): the BFF's own routes take 16 KiB, the proxy
 * its configured limit, streamed. A body over the limit is a 413 problem, whether it declares
 * its size (Content-Length) or not (chunked). The proxy cutting off a streamed body, and memory
 * under a burst of large bodies, need real processes: body-limits-processes.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { BFF, startSystem, TestBrowser, type TestSystem, USERS } from "./harness.ts";

let system: TestSystem;
afterEach(async () => {
  await system.close();
});

/** A body of `bytes` bytes sent as a stream, so no Content-Length is declared. */
function streamOf(bytes: number, chunk = 4096): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      const size = Math.min(chunk, bytes - sent);
      sent += size;
      controller.enqueue(new Uint8Array(size).fill(0x61));
    },
  });
}

async function expectTooLarge(response: Response) {
  expect(response.status).toBe(413);
  expect(response.headers.get("content-type")).toContain("application/problem+json");
  expect(await response.json()).toMatchObject({ status: 413, code: "payload_too_large" });
}

describe("the BFF's own routes take at most 16 KiB (X9)", () => {
  beforeEach(async () => {
    system = await startSystem();
  });

  const form = (bytes: number) => `logout_token=${"a".repeat(bytes)}`;
  const post = (
    path: string,
    body: string | ReadableStream<Uint8Array>,
    headers: Record<string, string> = {},
  ) =>
    system.bff.fetch(
      new Request(`${BFF}${path}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body,
        duplex: "half",
      } as RequestInit),
    );

  it("back-channel logout: 413 for a declared 17 KiB body and for an undeclared one, 400 (read) under it (X9)", async () => {
    await expectTooLarge(await post("/bff/backchannel-logout", form(17 * 1024)));
    await expectTooLarge(await post("/bff/backchannel-logout", streamOf(17 * 1024)));
    // Under the limit the body is read, and the token found wanting.
    const small = await post("/bff/backchannel-logout", form(1024));
    expect(small.status).toBe(400);
  });

  it("every other BFF route refuses a large body the same way, before it runs (X9)", async () => {
    for (const path of ["/bff/logout", "/bff/session", "/bff/login", "/bff/callback", "/bff/nowhere"]) {
      await expectTooLarge(await post(path, streamOf(64 * 1024), { "x-csrf": "1" }));
    }
  });
});

describe("the proxy refuses a declared body over its limit (X9)", () => {
  let alice: TestBrowser;
  beforeEach(async () => {
    // A proxy limit below the API's own (16 KiB), so a 413 here can only be the BFF's.
    system = await startSystem({ apiMaxBodyBytes: 8 * 1024 });
    alice = new TestBrowser(system);
    await alice.login(USERS.alice);
  });

  // Padding in a field the API ignores makes the body as large as wanted.
  const contact = (bytes: number) =>
    JSON.stringify({ name: "Big", email: "big@example.com", padding: "x".repeat(bytes) });
  // Declared as a browser's fetch declares it (in process, nothing adds Content-Length).
  const send = (body: string) =>
    alice.api("/api/contacts", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) },
      body,
    });

  it("a declared body over the limit: the BFF's 413, nothing created at the API (X9)", async () => {
    const response = await send(contact(9 * 1024));
    expect(response.status).toBe(413);
    // The API's own limit is 16 KiB: this refusal names the BFF's.
    expect(await response.json()).toMatchObject({
      code: "payload_too_large",
      detail: expect.stringContaining("8192"),
    });
    const list = (await (await alice.api("/api/contacts")).json()) as { name: string }[];
    expect(list.some((entry) => entry.name === "Big")).toBe(false);
  });

  it("a body under the limit reaches the API, streamed (X9)", async () => {
    const response = await send(contact(1024));
    expect(response.status).toBe(201);
  });
});
