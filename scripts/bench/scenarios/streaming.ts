/**
 * Large bodies through the BFF: a download and an upload of `bytes` each,
 * between this process and stream-upstream.ts, while the BFF's resident memory
 * is sampled every 20 ms. A proxy that streams stays flat; one that buffers a
 * whole body grows by about its size. Byte counts are checked at both ends.
 */
import { Readable } from "node:stream";

import { request } from "undici";

import { rssBytes } from "../processes.ts";

export interface Transfer {
  direction: "download" | "upload";
  bytes: number;
  /** What arrived at the other end. */
  received: number;
  seconds: number;
  mbPerSecond: number;
  rssBefore: number;
  rssPeak: number;
  /** Something other than a 200 with every byte, or the BFF's token missing upstream. */
  problem?: string;
}

/** Peak RSS growth (bytes; 64 MB) under which a transfer counts as streamed, not buffered. */
export const RSS_GROWTH_LIMIT = 64_000_000;

async function sampled<T>(pid: number, transfer: () => Promise<T>) {
  const rssBefore = rssBytes(pid);
  let rssPeak = rssBefore;
  const timer = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssBytes(pid));
  }, 20);
  const started = performance.now();
  try {
    const result = await transfer();
    rssPeak = Math.max(rssPeak, rssBytes(pid));
    return { result, rssBefore, rssPeak, seconds: (performance.now() - started) / 1000 };
  } finally {
    clearInterval(timer);
  }
}

/** `bytes` bytes in 64 KiB chunks, made as they are read. */
function* generated(bytes: number) {
  const chunk = Buffer.alloc(64 * 1024, "y");
  for (let left = bytes; left > 0; left -= chunk.length) {
    yield left >= chunk.length ? chunk : chunk.subarray(0, left);
  }
}

export async function streamThroughBff(options: {
  bff: string;
  cookie: string;
  bffPid: number;
  bytes: number;
}): Promise<Transfer[]> {
  const { bff, cookie, bffPid, bytes } = options;
  const headers = { cookie, "x-csrf": "1" };
  const transfers: Transfer[] = [];
  const mbPerSecond = (n: number, seconds: number) => n / 1e6 / seconds;

  const down = await sampled(bffPid, async () => {
    const answer = await request(`${bff}/api/download?bytes=${bytes}`, { headers });
    let received = 0;
    for await (const chunk of answer.body) received += (chunk as Buffer).length;
    return { status: answer.statusCode, received };
  });
  transfers.push({
    direction: "download",
    bytes,
    received: down.result.received,
    seconds: down.seconds,
    mbPerSecond: mbPerSecond(down.result.received, down.seconds),
    rssBefore: down.rssBefore,
    rssPeak: down.rssPeak,
    ...(down.result.status !== 200 || down.result.received !== bytes
      ? { problem: `status ${down.result.status}, ${down.result.received} of ${bytes} bytes` }
      : {}),
  });

  const up = await sampled(bffPid, async () => {
    const answer = await request(`${bff}/api/upload`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/octet-stream", "content-length": String(bytes) },
      body: Readable.from(generated(bytes)),
    });
    const text = await answer.body.text();
    let said: { received?: number; authorized?: boolean } = {};
    try {
      said = JSON.parse(text) as typeof said;
    } catch {
      // not the upstream's answer: the status tells
    }
    return { status: answer.statusCode, said, text };
  });
  const received = up.result.said.received ?? 0;
  transfers.push({
    direction: "upload",
    bytes,
    received,
    seconds: up.seconds,
    mbPerSecond: mbPerSecond(received, up.seconds),
    rssBefore: up.rssBefore,
    rssPeak: up.rssPeak,
    ...(up.result.status !== 200 || received !== bytes || up.result.said.authorized !== true
      ? { problem: `status ${up.result.status}: ${up.result.text.slice(0, 200)}` }
      : {}),
  });
  return transfers;
}
