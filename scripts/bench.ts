/**
 * `pnpm bench`: what the BFF costs, measured against the cheapest possible hop,
 * all scenarios in one run on loopback, written to docs/perf/results.md.
 * `pnpm bench:smoke` (--smoke): 2 s per scenario, written to a temporary file;
 * fails only on the refresh-storm count and the bundle budget, never on timing.
 *
 * Load comes from autocannon in this process, pinned to core 0; the servers are
 * pinned to core 1 (taskset). CPU per request is read from /proc/<pid>/stat.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";

import autocannon from "autocannon";

import { SESSION_COOKIE, SoakBrowser, USERS } from "./soak-browser.ts";
import { ADDRESSES, ROOT, type RunningSystem, startSystem } from "./system.ts";

const { values } = parseArgs({ options: { smoke: { type: "boolean", default: false } } });
const SMOKE = values.smoke;
const SECONDS = SMOKE ? 2 : 10;
const CONNECTIONS = 10;
const BARE_HOP = "http://localhost:3301";
const TICKS_PER_SECOND = 100; // CLK_TCK on Linux

interface Row {
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  /** CPU µs per request of the process under test; and of the API behind it, when there is one. */
  cpuUs: number;
  apiCpuUs?: number;
  requests: number;
}

/** utime + stime of a process, in microseconds. */
function cpuMicros(pid: number | undefined): number {
  if (!pid) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  // After "pid (comm) ", utime and stime are fields 12 and 13 (0-based 11 and 12).
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1_000_000;
}

function pin(pid: number | undefined, core: number): void {
  if (pid) spawnSync("taskset", ["-pc", String(core), String(pid)], { stdio: "ignore" });
}

async function load(
  name: string,
  url: string,
  headers: Record<string, string>,
  pids: { server?: number | undefined; api?: number | undefined },
  extra: Partial<autocannon.Options> = {},
): Promise<Row> {
  // Warm-up: JIT, connection pools, caches.
  await autocannon({ url, headers, connections: CONNECTIONS, duration: 1, ...extra });
  const cpuBefore = cpuMicros(pids.server);
  const apiBefore = cpuMicros(pids.api);
  const result = await autocannon({ url, headers, connections: CONNECTIONS, duration: SECONDS, ...extra });
  const requests = result.requests.total;
  const non2xx = result.non2xx + result.errors;
  if (non2xx > 0) console.warn(`bench: ${name}: ${non2xx} answers were not 2xx`);
  return {
    scenario: name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests,
    cpuUs: (cpuMicros(pids.server) - cpuBefore) / Math.max(1, requests),
    ...(pids.api ? { apiCpuUs: (cpuMicros(pids.api) - apiBefore) / Math.max(1, requests) } : {}),
  };
}

/** The session cookie header of a logged-in browser, all parts. */
function cookieHeader(browser: SoakBrowser): string {
  return browser.sessionCookie();
}

/** The API access tokens the IdP issued (JWTs typed at+jwt), oldest first. */
function issuedAccessTokens(tokenLog: string): string[] {
  if (!existsSync(tokenLog)) return [];
  return readFileSync(tokenLog, "utf8")
    .split("\n")
    .filter((token) => {
      const header = token.split(".")[0];
      if (!header || token.split(".").length !== 3) return false;
      try {
        return JSON.parse(Buffer.from(header, "base64url").toString()).typ === "at+jwt";
      } catch {
        return false;
      }
    });
}

function spaBytes(): { js: number; css: number } {
  const dist = path.join(ROOT, "web", "dist");
  if (!existsSync(path.join(dist, "index.html")))
    spawnSync("pnpm", ["build"], { cwd: ROOT, stdio: "inherit" });
  const html = readFileSync(path.join(dist, "index.html"), "utf8");
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1] ?? "");
  const gz = (file: string) => gzipSync(readFileSync(path.join(dist, file))).length;
  return {
    js: assets.filter((a) => a.endsWith(".js")).reduce((sum, a) => sum + gz(a), 0),
    css: assets.filter((a) => a.endsWith(".css")).reduce((sum, a) => sum + gz(a), 0),
  };
}

async function withSystem<T>(
  env: Record<string, string>,
  run: (system: RunningSystem, tokenLog: string) => Promise<T>,
): Promise<T> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "oidc-bff-bench-"));
  const tokenLog = path.join(dataDir, "issued-tokens.log");
  const log = path.join(dataDir, "system.log");
  const system = await startSystem({
    mode: "start",
    dataDir,
    env: { IDP_INSECURE_TOKEN_LOG_FILE: tokenLog, BFF_ACCESS_LOG: "off", API_ACCESS_LOG: "off", ...env },
    log: (line) => appendFileSync(log, `${line}\n`),
  });
  for (const name of ["idp", "api", "bff"] as const) pin(system.pid(name), 1);
  try {
    return await run(system, tokenLog);
  } finally {
    await system.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  pin(process.pid, 0);
  const rows: Row[] = [];
  const facts: string[] = [];
  let stormTokenRequests = -1;

  // Scenarios 1, 2, 3, 5, 6 and 8 on the default system (5-minute access tokens).
  await withSystem({}, async (system, tokenLog) => {
    const alice = new SoakBrowser();
    await alice.login(USERS.alice);
    const accessToken = issuedAccessTokens(tokenLog).at(-1) ?? "";
    const bearer = { authorization: `Bearer ${accessToken}` };

    const bareHop: ChildProcess = spawn(process.execPath, ["scripts/bench/bare-hop.ts"], {
      cwd: ROOT,
      env: { ...process.env, BARE_HOP_TOKEN: accessToken, BARE_HOP_UPSTREAM: ADDRESSES.api },
      stdio: "ignore",
    });
    pin(bareHop.pid, 1);
    try {
      for (let i = 0; i < 50; i++) {
        if ((await fetch(`${BARE_HOP}/health`).catch(() => undefined))?.ok) break;
        await sleep(100);
      }
      const apiPid = system.pid("api");
      rows.push(
        await load("1. API direct (GET /contacts)", `${ADDRESSES.api}/contacts`, bearer, { server: apiPid }),
      );
      rows.push(
        await load(
          "2. Bare hop (node:http + fetch)",
          `${BARE_HOP}/contacts`,
          {},
          { server: bareHop.pid, api: apiPid },
        ),
      );
      rows.push(
        await load(
          "3. BFF (/api/contacts, session cookie)",
          `${ADDRESSES.bff}/api/contacts`,
          { cookie: cookieHeader(alice), "x-csrf": "1" },
          { server: system.pid("bff"), api: apiPid },
        ),
      );
      rows.push(await load("5a. API /health (no token)", `${ADDRESSES.api}/health`, {}, { server: apiPid }));
      rows.push(
        await load("5b. API /contacts (JWT validated)", `${ADDRESSES.api}/contacts`, bearer, {
          server: apiPid,
        }),
      );
    } finally {
      bareHop.kill("SIGTERM");
    }

    // 6. Complete logins, as a browser makes them, one after another.
    const bffBefore = cpuMicros(system.pid("bff"));
    const idpBefore = cpuMicros(system.pid("idp"));
    const latencies: number[] = [];
    const until = performance.now() + SECONDS * 1000;
    while (performance.now() < until) {
      const started = performance.now();
      await new SoakBrowser().login(latencies.length % 2 ? USERS.bob : USERS.alice);
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    const logins = latencies.length;
    rows.push({
      scenario: "6. Login (BFF + IdP, no browser)",
      rps: logins / SECONDS,
      p50: latencies[Math.floor(logins * 0.5)] ?? 0,
      p99: latencies[Math.min(logins - 1, Math.floor(logins * 0.99))] ?? 0,
      requests: logins,
      cpuUs: (cpuMicros(system.pid("bff")) - bffBefore) / Math.max(1, logins),
      apiCpuUs: (cpuMicros(system.pid("idp")) - idpBefore) / Math.max(1, logins),
    });

    const cookieBytes = Buffer.byteLength(cookieHeader(alice));
    const { js, css } = spaBytes();
    facts.push(`8. Session cookie per request: ${cookieBytes} bytes (${SESSION_COOKIE}, our IdP's tokens)`);
    facts.push(
      `8. SPA initial JavaScript: ${(js / 1024).toFixed(1)} KB gzip; CSS: ${(css / 1024).toFixed(1)} KB gzip`,
    );
    facts.push(`__js=${js}`);
  });

  // Scenarios 4 and 7: access tokens that live 6 s, refreshed when 3 s are left.
  await withSystem(
    { IDP_ACCESS_TOKEN_TTL: "6", BFF_REFRESH_LEEWAY_SECONDS: "3" },
    async (system, tokenLog) => {
      const alice = new SoakBrowser();
      await alice.login(USERS.alice);
      // 4. Like 3, but each connection keeps the newest session cookie, as a browser does.
      const context = { cookie: cookieHeader(alice) };
      rows.push(
        await load(
          "4. BFF with refresh (6 s tokens)",
          `${ADDRESSES.bff}/api/contacts`,
          { "x-csrf": "1" },
          { server: system.pid("bff"), api: system.pid("api") },
          {
            duration: Math.max(SECONDS, 8),
            requests: [
              {
                setupRequest: (request) => ({
                  ...request,
                  headers: { ...request.headers, cookie: context.cookie },
                }),
                onResponse: (_status, _body, _ctx, headers) => {
                  const lines = [headers?.["set-cookie"] ?? []].flat() as string[];
                  const fresh = lines
                    .map((line) => line.split(";")[0] ?? "")
                    .filter((pair) => pair.startsWith(SESSION_COOKIE));
                  if (fresh.length > 0) context.cookie = fresh.join("; ");
                },
              },
            ],
          },
        ),
      );

      // 7. Refresh storm: a fresh session, its access token left to expire, then 50 calls at once.
      const bob = new SoakBrowser();
      await bob.login(USERS.bob);
      await sleep(3_500);
      const before = issuedAccessTokens(tokenLog).length;
      const started = performance.now();
      const cookie = cookieHeader(bob);
      const times = await Promise.all(
        Array.from({ length: 50 }, async () => {
          const t0 = performance.now();
          const answer = await fetch(`${ADDRESSES.bff}/api/contacts`, { headers: { cookie, "x-csrf": "1" } });
          await answer.arrayBuffer();
          if (!answer.ok) throw new Error(`refresh storm: ${answer.status}`);
          return performance.now() - t0;
        }),
      );
      stormTokenRequests = issuedAccessTokens(tokenLog).length - before;
      facts.push(
        `7. Refresh storm: 50 parallel calls on an expiring token → ${stormTokenRequests} token request(s); slowest call ${Math.max(...times).toFixed(1)} ms (all done in ${(performance.now() - started).toFixed(1)} ms)`,
      );
    },
  );

  return report(rows, facts, stormTokenRequests);
}

function report(rows: Row[], facts: string[], stormTokenRequests: number): number {
  const find = (prefix: string) => rows.find((row) => row.scenario.startsWith(prefix));
  const bare = find("2.");
  const bff = find("3.");
  const health = find("5a.");
  const validated = find("5b.");
  const js = Number(facts.find((f) => f.startsWith("__js="))?.slice(5) ?? 0);
  const targets: [string, string, boolean][] = [];
  if (bare && bff) {
    const cpuRatio = bff.cpuUs / bare.cpuUs;
    const rpsRatio = bff.rps / bare.rps;
    targets.push(["BFF CPU per request ≤ 1.25 × bare hop", `${cpuRatio.toFixed(2)} ×`, cpuRatio <= 1.25]);
    targets.push(["BFF throughput ≥ 80 % of bare hop", `${(rpsRatio * 100).toFixed(0)} %`, rpsRatio >= 0.8]);
  }
  if (health && validated) {
    const ratio = validated.rps / health.rps;
    targets.push(["API validated ≥ 75 % of unauthenticated", `${(ratio * 100).toFixed(0)} %`, ratio >= 0.75]);
  }
  targets.push([
    "Refresh storm: exactly one token request",
    String(stormTokenRequests),
    stormTokenRequests === 1,
  ]);
  targets.push(["SPA initial JavaScript ≤ 120 KB gzip", `${(js / 1024).toFixed(1)} KB`, js <= 120 * 1024]);

  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const command = SMOKE ? "pnpm bench:smoke" : "pnpm bench";
  const lines = [
    "# Benchmark results",
    "",
    `${new Date().toISOString().slice(0, 10)} · ${cpu} · ${cpus().length} cores · Node ${process.version} · \`${command}\` · ${SECONDS} s per scenario, ${CONNECTIONS} connections, load generator on core 0, servers on core 1`,
    "",
    "| scenario | requests/s | p50 ms | p99 ms | CPU µs/request (server) | CPU µs/request (API / IdP behind it) |",
    "|---|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.cpuUs.toFixed(0)} | ${r.apiCpuUs === undefined ? "" : r.apiCpuUs.toFixed(0)} |`,
    ),
    "",
    ...facts.filter((f) => !f.startsWith("__")).map((f) => `- ${f}`),
    "",
    "| target | measured | |",
    "|---|---:|---|",
    ...targets.map(([name, value, met]) => `| ${name} | ${value} | ${met ? "met" : "**missed**"} |`),
    "",
  ];
  const text = lines.join("\n");
  console.log(`\n${text}`);
  if (SMOKE) {
    writeFileSync(path.join(tmpdir(), "oidc-bff-bench-smoke.md"), text);
  } else {
    mkdirSync(path.join(ROOT, "docs", "perf"), { recursive: true });
    writeFileSync(path.join(ROOT, "docs", "perf", "results.md"), `${text}\n`);
    const summary = targets.map(([name, value]) => `${name.split(" ")[0]} ${value}`).join("; ");
    appendFileSync(
      path.join(ROOT, "docs", "perf", "history.md"),
      `- ${new Date().toISOString()}: ${summary}\n`,
    );
  }
  // Timing is noisy on shared machines: only the counts decide.
  const hard = targets.filter(([name]) => name.startsWith("Refresh storm") || name.startsWith("SPA"));
  return hard.every(([, , met]) => met) ? 0 : 1;
}

const watchdog = setTimeout(
  () => {
    console.error("bench: took too long, stopping");
    process.exit(1);
  },
  (SMOKE ? 3 : 8) * 60_000,
);
watchdog.unref();
process.exitCode = await main();
