/**
 * Request-body limits in a real BFF process, with the real IdP and API processes behind it
 * (ports 41x2x/31x2x, away from the development ones): a streamed body is cut off at the
 * limit and answered 413 long before it is all sent, and the BFF's memory stays flat under
 * a burst of large uploads. The in-process cases: body-limits.test.ts.
 */
import { readFileSync } from "node:fs";
import { request } from "node:http";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type RealSystem, SESSION_COOKIE as SESSION, startRealSystem } from "./real-system.ts";

const BFF = "http://localhost:3121";
const MiB = 1024 * 1024;

let system: RealSystem;
let cookie: string;

/** The process's peak resident memory so far (VmHWM), in bytes. */
function peakMemory(pid: number): number {
  const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kib) * 1024;
}

/**
 * Posts up to `total` bytes in 64 KiB chunks without Content-Length (chunked), as fast as the
 * socket takes them, and stops sending once the answer arrives: what came back, and how much
 * had been sent by then.
 */
function upload(
  path: string,
  total: number,
  headers: Record<string, string>,
): Promise<{ status: number; code: string | undefined; sentBeforeAnswer: number }> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    let answered = false;
    const outgoing = request(`${BFF}${path}`, { method: "POST", headers }, (response) => {
      answered = true;
      const sentBeforeAnswer = sent;
      let text = "";
      response.on("data", (data: Buffer) => {
        text += data.toString();
      });
      response.on("end", () => {
        outgoing.destroy();
        let code: string | undefined;
        try {
          code = (JSON.parse(text) as { code?: string }).code;
        } catch {}
        resolve({ status: response.statusCode ?? 0, code, sentBeforeAnswer });
      });
    });
    outgoing.on("error", (error) => {
      if (!answered) reject(error);
    });
    const pump = () => {
      while (!answered && sent < total) {
        sent += chunk.length;
        if (!outgoing.write(chunk)) return void outgoing.once("drain", pump);
      }
      if (!answered) outgoing.end();
    };
    pump();
  });
}

beforeAll(async () => {
  system = await startRealSystem({ name: "body-limits", ports: { idp: 4120, api: 4121, bff: 3121 } });
  cookie = system.cookie;
}, 60_000);

afterAll(async () => {
  await system.stop();
});

const form = { "content-type": "application/x-www-form-urlencoded" };
const proxied = () => ({ "content-type": "application/json", cookie: `${SESSION}=${cookie}`, "x-csrf": "1" });

describe("body limits in a real BFF process (X9)", () => {
  it("a streamed body is answered 413 at the limit, long before it is all sent: back-channel logout and the proxy (X9)", async () => {
    const backchannel = await upload("/bff/backchannel-logout", 50 * MiB, form);
    expect(backchannel).toMatchObject({ status: 413, code: "payload_too_large" });
    expect(backchannel.sentBeforeAnswer).toBeLessThan(5 * MiB);

    const proxy = await upload("/api/contacts", 50 * MiB, proxied());
    expect(proxy).toMatchObject({ status: 413, code: "payload_too_large" });
    expect(proxy.sentBeforeAnswer).toBeLessThan(10 * MiB);
    // The session is untouched by it.
    const after = await fetch(`${BFF}/api/contacts`, { headers: proxied() });
    expect(after.status).toBe(200);
  });

  it("memory stays flat under a burst of eight parallel 100 MB uploads (X9)", async () => {
    const pid = system.processes.bff.pid as number;
    const before = peakMemory(pid);
    const answers = await Promise.all([
      ...Array.from({ length: 4 }, () => upload("/bff/backchannel-logout", 100 * MiB, form)),
      ...Array.from({ length: 4 }, () => upload("/api/contacts", 100 * MiB, proxied())),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(413));
    const growth = peakMemory(pid) - before;
    console.log(
      `BFF peak memory: ${(before / MiB).toFixed(0)} MiB before, +${(growth / MiB).toFixed(1)} MiB after 8 × 100 MB`,
    );
    // Without limits the bodies would be held: hundreds of MiB.
    expect(growth).toBeLessThan(40 * MiB);
  });
});
