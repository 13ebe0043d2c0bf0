/**
 * One measured scenario: a short warm-up, then load for a fixed time while the
 * CPU time of the server processes is sampled before and after. The peer table
 * is measured with wrk (wrk.ts); autocannon stays for what needs JavaScript
 * per request (scenario 4's cookie that follows every Set-Cookie), and stands
 * in for wrk where wrk cannot be installed. Latencies are kept exactly
 * (autocannon's own histogram rounds to whole milliseconds).
 */
import autocannon from "autocannon";

import { cpuBetween, treeCpu } from "./processes.ts";

export interface Measurement {
  requests: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers other than the expected one (a 2xx, or exactly `expectedBody`), connection errors, timeouts. */
  failures: number;
  /** The first wrong answer, when there was one. */
  failureSample?: string;
  /** Microseconds of CPU per request (user + system of the whole process tree), by process name. */
  cpuPerRequest: Record<string, number>;
  /** What generated the load. */
  tool: "wrk" | "autocannon" | "loop";
}

export interface MeasureOptions {
  seconds: number;
  warmup: number;
  /** The processes whose CPU is counted, by name; each one with all its descendants. */
  pids: Record<string, number>;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** Samples CPU now; the function it returns gives CPU per request since then. */
export function cpuSampler(pids: Record<string, number>) {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, treeCpu(pid)]));
  return (requests: number) =>
    Object.fromEntries(
      Object.entries(pids).map(([name, pid]) => [
        name,
        cpuBetween(before[name] ?? new Map(), treeCpu(pid)) / Math.max(1, requests),
      ]),
    );
}

export interface HttpLoad {
  url: string;
  headers?: Record<string, string>;
  connections: number;
  /** Every answer must be a 200 with exactly this body (otherwise: any 2xx). */
  expectedBody?: string;
  /** Per-request hooks (a cookie that follows Set-Cookie answers). */
  request?: Pick<autocannon.Request, "setupRequest" | "onResponse">;
}

async function run(load: HttpLoad, seconds: number, latencies?: number[]) {
  const { pathname, search } = new URL(load.url);
  const check = { mismatches: 0, sample: undefined as string | undefined };
  const { expectedBody } = load;
  const request: Pick<autocannon.Request, "setupRequest" | "onResponse"> = { ...load.request };
  // autocannon's type also allows a string here (a module path for its workers); ours is a function.
  const given = load.request?.onResponse as Exclude<autocannon.Request["onResponse"], string>;
  if (expectedBody !== undefined) {
    request.onResponse = (status, body, context, headers) => {
      if (status !== 200 || body !== expectedBody) {
        check.mismatches++;
        check.sample ??= `${status} ${String(body).slice(0, 160)}`;
      }
      given?.(status, body, context, headers);
    };
  }
  const result = await autocannon({
    url: load.url,
    connections: load.connections,
    duration: seconds,
    timeout: 10,
    headers: load.headers ?? {},
    ...(request.onResponse || request.setupRequest
      ? { requests: [{ method: "GET", path: `${pathname}${search}`, ...request }] }
      : {}),
    setupClient: (client) => {
      client.on("response", (status, _bytes, ms) => {
        if (latencies && status >= 200 && status < 300) latencies.push(ms);
      });
    },
  });
  return { result, check };
}

/** autocannon against `load.url`: `warmup` seconds unmeasured, then `seconds` measured. */
export async function measureHttp(load: HttpLoad, options: MeasureOptions): Promise<Measurement> {
  await run(load, options.warmup);
  const latencies: number[] = [];
  const cpu = cpuSampler(options.pids);
  const started = performance.now();
  const { result, check } = await run(load, options.seconds, latencies);
  const seconds = (performance.now() - started) / 1000;
  const requests = result.requests.total;
  latencies.sort((a, b) => a - b);
  // With an expected body every wrong answer is a mismatch (non-2xx included); without, non-2xx counts.
  const wrong = load.expectedBody !== undefined ? check.mismatches : result.non2xx;
  return {
    requests,
    seconds,
    perSecond: requests / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    failures: wrong + result.errors + result.timeouts,
    ...(check.sample ? { failureSample: check.sample } : {}),
    cpuPerRequest: cpu(requests),
    tool: "autocannon",
  };
}

/** Calls `once` over and over (sequentially) for `seconds`, after a warm-up of `warmup` calls. */
export async function measureLoop(once: () => Promise<void>, options: MeasureOptions): Promise<Measurement> {
  for (let i = 0; i < options.warmup; i++) await once();
  const latencies: number[] = [];
  let failures = 0;
  const cpu = cpuSampler(options.pids);
  const started = performance.now();
  const until = started + options.seconds * 1000;
  while (performance.now() < until) {
    const t = performance.now();
    try {
      await once();
      latencies.push(performance.now() - t);
    } catch (error) {
      failures++;
      if (failures > 5) throw error;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const requests = latencies.length + failures;
  latencies.sort((a, b) => a - b);
  return {
    requests,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    failures,
    cpuPerRequest: cpu(requests),
    tool: "loop",
  };
}
