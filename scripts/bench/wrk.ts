/**
 * wrk (C, Debian's package) as the load generator of the peer table: a Node
 * load generator on the same 2-core machine spends more CPU per request than
 * some of the proxies it measures, and a slow client flattens the differences
 * between fast servers. One wrk thread on LOAD_CORE (inherited from this
 * process, pinned by pinSelf), keep-alive connections, every answer checked by
 * wrk-check.lua against the API's exact body.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { cpuSampler, type Measurement, type MeasureOptions } from "./load.ts";

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "wrk-check.lua");

/** `wrk -v` prints its version and exits 1; only a missing binary is an error. */
export const hasWrk = () => spawnSync("wrk", ["-v"], { stdio: "ignore" }).error === undefined;

export interface WrkTarget {
  url: string;
  headers?: Record<string, string>;
  connections: number;
  /** What every answer must be: status 200 and exactly this body. */
  expectedBody: string;
}

interface WrkResult {
  requests: number;
  durationUs: number;
  connect: number;
  read: number;
  write: number;
  timeout: number;
  mismatches: number;
  p50Us: number;
  p99Us: number;
  sample: string;
}

// wrk ends by itself (-d); these are killed only if this process exits first.
const active = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of active) child.kill("SIGKILL");
  if (bodyDir) rmSync(bodyDir, { recursive: true, force: true });
});

let bodyDir: string | undefined;

function run(target: WrkTarget, seconds: number): Promise<WrkResult> {
  bodyDir ??= mkdtempSync(path.join(tmpdir(), "oidc-bff-bench-wrk-"));
  const bodyFile = path.join(bodyDir, "expected.body");
  const headersFile = path.join(bodyDir, "headers");
  writeFileSync(bodyFile, target.expectedBody);
  const headers = Object.entries(target.headers ?? {}).map(([name, value]) => `${name}: ${value}\n`);
  writeFileSync(headersFile, headers.join(""), { mode: 0o600 });
  const args = ["-t1", `-c${target.connections}`, `-d${seconds}s`, "--timeout", "10s", "--latency"];
  const child = spawn("wrk", [...args, "-s", SCRIPT, target.url], {
    env: { ...process.env, BENCH_EXPECTED_BODY: bodyFile, BENCH_HEADERS: headersFile },
    stdio: ["ignore", "pipe", "pipe"],
  });
  active.add(child);
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), (seconds + 20) * 1000);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(killer);
      active.delete(child);
      const json = /^BENCH-WRK (\{.*\})$/m.exec(out)?.[1];
      if (code !== 0 || json === undefined) {
        return reject(new Error(`wrk ${target.url} failed (exit ${code}): ${out.trim().slice(-500)}`));
      }
      const sample = /^BENCH-WRK-SAMPLE ?(.*)$/m.exec(out)?.[1] ?? "";
      resolve({ ...(JSON.parse(json) as Omit<WrkResult, "sample">), sample });
    });
  });
}

/** wrk against `target`: `warmup` seconds unmeasured, then `seconds` measured with CPU sampled around it. */
export async function measureWrk(target: WrkTarget, options: MeasureOptions): Promise<Measurement> {
  await run(target, options.warmup);
  const cpu = cpuSampler(options.pids);
  const result = await run(target, options.seconds);
  const seconds = result.durationUs / 1e6;
  return {
    requests: result.requests,
    seconds,
    perSecond: result.requests / seconds,
    p50Ms: result.p50Us / 1000,
    p99Ms: result.p99Us / 1000,
    failures: result.mismatches + result.connect + result.read + result.write + result.timeout,
    ...(result.sample ? { failureSample: result.sample } : {}),
    cpuPerRequest: cpu(result.requests),
    tool: "wrk",
  };
}
