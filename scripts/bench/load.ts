/**
 * One measured scenario: a short warm-up, then load for a fixed time while the
 * CPU time of the server processes is sampled before and after. Latencies are
 * kept exactly (autocannon's own histogram rounds to whole milliseconds).
 */
import autocannon from "autocannon";

import { cpuMicros } from "./processes.ts";

export interface Measurement {
  requests: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers other than 2xx, plus connection errors and timeouts. */
  failures: number;
  /** Microseconds of CPU per request (user + system), by process name. */
  cpuPerRequest: Record<string, number>;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function cpuSampler(pids: Record<string, number>) {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMicros(pid)]));
  return (requests: number) =>
    Object.fromEntries(
      Object.entries(pids).map(([name, pid]) => [
        name,
        (cpuMicros(pid) - (before[name] ?? 0)) / Math.max(1, requests),
      ]),
    );
}

export interface HttpLoad {
  url: string;
  headers?: Record<string, string>;
  connections: number;
  /** Per-request hooks (a cookie that follows Set-Cookie answers). */
  request?: Pick<autocannon.Request, "setupRequest" | "onResponse">;
}

async function run(load: HttpLoad, seconds: number, latencies?: number[]) {
  const { pathname, search } = new URL(load.url);
  return autocannon({
    url: load.url,
    connections: load.connections,
    duration: seconds,
    timeout: 10,
    headers: load.headers ?? {},
    ...(load.request ? { requests: [{ method: "GET", path: `${pathname}${search}`, ...load.request }] } : {}),
    setupClient: (client) => {
      client.on("response", (status, _bytes, ms) => {
        if (latencies && status >= 200 && status < 300) latencies.push(ms);
      });
    },
  });
}

/** autocannon against `load.url`: `warmup` seconds unmeasured, then `seconds` measured. */
export async function measureHttp(
  load: HttpLoad,
  options: { seconds: number; warmup: number; pids: Record<string, number> },
): Promise<Measurement> {
  await run(load, options.warmup);
  const latencies: number[] = [];
  const cpu = cpuSampler(options.pids);
  const started = performance.now();
  const result = await run(load, options.seconds, latencies);
  const seconds = (performance.now() - started) / 1000;
  const requests = result.requests.total;
  latencies.sort((a, b) => a - b);
  return {
    requests,
    seconds,
    perSecond: requests / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    failures: result.non2xx + result.errors + result.timeouts,
    cpuPerRequest: cpu(requests),
  };
}

/** Calls `once` over and over (sequentially) for `seconds`, after a warm-up of `warmup` calls. */
export async function measureLoop(
  once: () => Promise<void>,
  options: { seconds: number; warmup: number; pids: Record<string, number> },
): Promise<Measurement> {
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
  };
}
