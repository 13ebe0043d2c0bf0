/**
 * `pnpm bench` (3 s warm-up, 10 s measured per scenario) and `pnpm bench:smoke`
 * (1 s + 2 s): what the BFF costs per request, side by side with other proxies
 * in front of the same API, over real HTTP on loopback. wrk (wrk.ts) on core 0,
 * the proxy and the API on core 1.
 *
 * Peers, each `GET /contacts` of the API, every answer checked (scenarios/peers.ts):
 *   1 API direct            with a Bearer token
 *   2 nginx                 proxy_pass with a fixed Bearer token (the limit of a proxy hop)
 *   3 undici.request hop    the limit of a Node proxy: the baseline of every "÷ hop" ratio
 *   4 fetch hop             bare-hop.ts, Node's fetch
 *   5 node:http Agent hop
 *   6 BFF                   the session cookie
 *   7 BFF, Redis store      redis-server's CPU shown separately
 *   8 mod_auth_openidc      Apache, sessions in shared memory (server-cache, shm)
 *   9 mod_auth_openidc      Apache, sessions in the cookie (client-cookie)
 * The BFF's other scenarios:
 *  10 API /health           against 1: what authentication and the query cost
 *  11 login                 complete logins through BFF and IdP, one after the other
 *  12 BFF with refresh      5 s access tokens refreshed 2 s before expiry
 *  13 refresh storm         50 parallel calls on an expired token: token requests, slowest call
 *  14 streaming             200 MB down and 200 MB up through the BFF: memory, MB/s (scenarios/streaming.ts)
 *  15 bytes                 session cookie per request, the SPA's initial JS and CSS (gzip)
 *
 * The peers' Debian packages (packages.ts) are installed when missing; a peer
 * that cannot run is reported n/a and the run goes on. Output:
 * docs/perf/results.md and a line in docs/perf/history.md; in smoke mode
 * docs/perf/smoke.md (git-ignored) only. The exit code is 1 only if the
 * refresh storm made other than one token request or the SPA's JavaScript is
 * over budget, never because of a timing.
 *
 * `node scripts/bench/run.ts --profile` measures the undici hop and the BFF
 * under `node --cpu-prof` and writes docs/perf/profile.md.
 */
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";

import { applySetCookie, HttpBrowser, SESSION_COOKIE, sessionCookieHeader } from "../http-browser.ts";
import { initialAssets } from "./assets.ts";
import { measureHttp, measureLoop } from "./load.ts";
import { ensurePackages, PEER_PACKAGES, packageVersion } from "./packages.ts";
import { pinSelf, ROOT, type Server, startServer, stopAll, stopServer, waitFor } from "./processes.ts";
import { summarizeProfile } from "./profile.ts";
import { f0, f1, JS_BUDGET_BYTES, render, type ScenarioRow, targets } from "./report.ts";
import { measureChecked, runPeers } from "./scenarios/peers.ts";
import { streamThroughBff, type Transfer } from "./scenarios/streaming.ts";
import { allocatePorts, System } from "./system.ts";
import { apiTokens } from "./tokens.ts";
import { hasWrk } from "./wrk.ts";

const { values } = parseArgs({
  options: {
    smoke: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
  },
});
const smoke = values.smoke === true;
const profile = values.profile === true;
const SECONDS = smoke ? 2 : 10;
const WARMUP_SECONDS = smoke ? 1 : 3;
const CONNECTIONS = 10;
/** The peer table is measured this many times over, alternating, and each row is the median (scenarios/peers.ts). */
const PEER_ROUNDS = smoke || profile ? 1 : 3;
const STORM = 50;
/** Large enough that a buffered body could not hide under the RSS limit (64 MB). */
const STREAM_BYTES = (smoke ? 100 : 200) * 1_000_000;

const PERF_DIR = path.join(ROOT, "docs", "perf");
const command =
  process.env.npm_lifecycle_event !== undefined
    ? `pnpm ${process.env.npm_lifecycle_event}`
    : `node scripts/bench/run.ts ${process.argv.slice(2).join(" ")}`.trim();

const dataDir = mkdtempSync(path.join(tmpdir(), "oidc-bff-bench-"));
const profileDir = path.join(dataDir, "profiles");

function machine() {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown";
  // All cores of the machine (this process is pinned to one, so availableParallelism() would say 1).
  return { model, cores: cpus().length, node: process.version };
}

/** Whatever happens (an error, Ctrl-C, the time limit): every process we started is stopped by its pid. */
async function shutDown(code: number): Promise<never> {
  await stopAll();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(code);
}
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
  ["SIGHUP", 129],
] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}: stopping every process of the run`);
    void shutDown(code);
  });
}

let exitCode = 1;
let hardTimeout: NodeJS.Timeout | undefined;
try {
  const pinning = pinSelf();
  console.log(
    `bench: ${smoke ? "smoke, " : profile ? "profile, " : ""}${WARMUP_SECONDS} s + ${SECONDS} s per scenario; ${pinning}; data in ${dataDir}`,
  );
  // Installing packages may take minutes on a fresh machine: the time limit starts after it.
  const install = ensurePackages(profile ? ["wrk"] : PEER_PACKAGES);
  const missingPackages = new Map(install.missing.map((name) => [name, install.reason ?? "not installed"]));
  const missing = install.missing.map(
    (name) => `Debian package ${name}: ${install.reason ?? "not installed"}`,
  );

  const limitMs = (profile ? 4 : smoke ? 4 : 15) * 60_000;
  hardTimeout = setTimeout(() => {
    console.error(`bench: still running after ${limitMs / 60_000} minutes; stopping`);
    void shutDown(1);
  }, limitMs);
  hardTimeout.unref();

  const useWrk = hasWrk();
  const notes: string[] = [];
  if (!useWrk) {
    missing.push("wrk: the peer table was measured with autocannon instead (not comparable with wrk runs)");
  }
  const system = new System(await allocatePorts(), dataDir);
  if (profile) {
    system.nodeArgs = (name) =>
      ["bff", "undici"].includes(name)
        ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`]
        : [];
  }
  const { ports } = system;
  const assets = initialAssets();

  // --- The first system: long-lived tokens (10 minutes), the BFF's default leeway.
  let idp = await system.startIdp(600);
  const api = await system.startApi();
  let bff = await system.startBff("bff", ports.bff, { refreshLeeway: 30 });
  const bffOrigin = system.bff(ports.bff);

  const browser = new HttpBrowser({ bff: bffOrigin, idp: system.idp });
  await browser.login();
  const cookie = browser.sessionCookie();
  // The API token the BFF holds for this session: the latest one issued.
  const token = apiTokens(system.tokenLog, system.api).at(-1)?.token;
  if (token === undefined) throw new Error("no API access token in the IdP's token log");
  const direct = await fetch(`${system.api}/contacts`, { headers: { authorization: `Bearer ${token}` } });
  const expectedBody = await direct.text();
  if (direct.status !== 200)
    throw new Error(`the API's /contacts answered ${direct.status}: ${expectedBody}`);

  const timing = { seconds: SECONDS, warmup: WARMUP_SECONDS };
  const peers = await runPeers({
    system,
    dir: path.join(dataDir, "peers"),
    api,
    bff,
    token,
    expectedBody,
    timing,
    connections: CONNECTIONS,
    useWrk,
    missing: missingPackages,
    rounds: PEER_ROUNDS,
    ...(profile ? { only: ["undici", "bff"] } : {}),
  });
  missing.push(...peers.filter((row) => row.na).map((row) => `${row.name}: ${row.na}`));

  if (profile) {
    await stopServer(bff);
    const lines = [
      "# Profile of the BFF (peer 6) and the undici.request hop (peer 3)",
      "",
      `${new Date().toISOString()}, \`${command}\`, ${SECONDS} s measured, ${CONNECTIONS} connections (${useWrk ? "wrk" : "autocannon"}).`,
      "Self time of each function over the whole life of the process (start-up included), idle excluded.",
    ];
    for (const file of readdirSync(profileDir).filter((f) => f.endsWith(".cpuprofile"))) {
      const summary = summarizeProfile(path.join(profileDir, file), 25);
      lines.push(
        "",
        `## ${file} (${f0(summary.busyMs)} ms busy)`,
        "",
        "| source | ms | share |",
        "|---|--:|--:|",
      );
      for (const s of summary.sources.slice(0, 15)) {
        lines.push(`| ${s.source} | ${f0(s.ms)} | ${(s.share * 100).toFixed(1)}% |`);
      }
      lines.push("", "| function | where | ms | share |", "|---|---|--:|--:|");
      for (const fn of summary.functions) {
        lines.push(`| \`${fn.name}\` | ${fn.where} | ${f0(fn.ms)} | ${(fn.share * 100).toFixed(1)}% |`);
      }
    }
    mkdirSync(PERF_DIR, { recursive: true });
    writeFileSync(path.join(PERF_DIR, "profile.md"), `${lines.join("\n")}\n`);
    console.log(lines.join("\n"));
    exitCode = 0;
  } else {
    const scenarios: ScenarioRow[] = [];
    const report = (row: ScenarioRow) => {
      scenarios.push(row);
      const { m } = row;
      console.log(
        `bench: ${row.id} ${row.scenario}: ${f1(m.perSecond)} ${row.unit ?? "req"}/s, p50 ${m.p50Ms.toFixed(2)} ms, p99 ${m.p99Ms.toFixed(2)} ms, failures ${m.failures}`,
      );
    };

    // --- 10: the API without authentication, measured as the peers are.
    const health = await fetch(`${system.api}/health`);
    report({
      id: "10",
      scenario: "API /health (no token)",
      m: await measureChecked(
        useWrk,
        { url: `${system.api}/health`, connections: CONNECTIONS, expectedBody: await health.text() },
        { ...timing, pids: { api: api.pid } },
      ),
      under: "api",
    });

    // --- 11: logins.
    report({
      id: "11",
      scenario: "login (BFF + IdP, sequential)",
      m: await measureLoop(() => new HttpBrowser({ bff: bffOrigin, idp: system.idp }).login(), {
        seconds: SECONDS,
        warmup: 2,
        pids: { bff: bff.pid, idp: idp.pid },
      }),
      under: "bff",
      also: "idp",
      unit: "login",
    });

    // --- 14: streaming, on a BFF instance of its own whose API is the bench-only upstream.
    let transfers: Transfer[] | string;
    const streamServers: Server[] = [];
    try {
      const upstream = startServer("stream", "scripts/bench/stream-upstream.ts", {
        STREAM_PORT: String(ports.stream),
      });
      streamServers.push(upstream);
      await waitFor(`http://127.0.0.1:${ports.stream}/`, upstream);
      const streamBff = await system.startBff("bff-stream", ports.bffStream, {
        refreshLeeway: 30,
        env: {
          BFF_API_BASE_URL: `http://127.0.0.1:${ports.stream}`,
          BFF_API_MAX_BODY_BYTES: String(2 * STREAM_BYTES),
          BFF_API_TIMEOUT_MS: "120000",
        },
      });
      streamServers.push(streamBff);
      const streamer = new HttpBrowser({ bff: system.bff(ports.bffStream), idp: system.idp });
      await streamer.login();
      const stream = {
        bff: system.bff(ports.bffStream),
        cookie: streamer.sessionCookie(),
        bffPid: streamBff.pid,
      };
      // A transfer of a quarter of the size first: the BFF's code paths warm and its heap at the
      // size streaming needs (V8's young generation grows once, by tens of MB, on the first large
      // transfer and stays). What the measured transfer adds is then what it holds: a proxy that
      // buffers grows by the whole body.
      await streamThroughBff({ ...stream, bytes: STREAM_BYTES / 4 });
      transfers = await streamThroughBff({ ...stream, bytes: STREAM_BYTES });
      for (const t of transfers) {
        console.log(
          `bench: 14 streaming ${t.direction}: ${f1(t.bytes / 1e6)} MB at ${f0(t.mbPerSecond)} MB/s, BFF RSS +${f1((t.rssPeak - t.rssBefore) / 1e6)} MB${t.problem ? `, ${t.problem}` : ""}`,
        );
      }
    } catch (error) {
      transfers = error instanceof Error ? (error.message.split("\n")[0] ?? "failed") : String(error);
      missing.push(`streaming: ${transfers}`);
      console.log(`bench: 14 streaming: n/a: ${transfers}`);
    } finally {
      for (const server of streamServers.reverse()) await stopServer(server);
    }

    // --- The second system: 5-second access tokens, refreshed when less than 2 s are left.
    await stopServer(bff);
    await stopServer(idp);
    idp = await system.startIdp(5);
    bff = await system.startBff("bff", ports.bff, { refreshLeeway: 2 });

    const user = new HttpBrowser({ bff: bffOrigin, idp: system.idp });
    await user.login();
    // One browser, many connections: every answer's Set-Cookie updates the cookie all of them send.
    const jar = user.jar;
    let rotations = 0;
    const tokensBefore = apiTokens(system.tokenLog, system.api).length;
    const refreshing = await measureHttp(
      {
        url: `${bffOrigin}/api/contacts`,
        headers: { "x-csrf": "1" },
        connections: CONNECTIONS,
        request: {
          setupRequest: (request) => ({
            ...request,
            headers: { ...request.headers, cookie: sessionCookieHeader(jar, bffOrigin) },
          }),
          onResponse: (_status, _body, _context, headers) => {
            const lines = Object.entries(headers ?? {})
              .filter(([name]) => name.toLowerCase() === "set-cookie")
              .flatMap(([, value]) => value ?? []);
            if (lines.length > 0 && applySetCookie(jar, bffOrigin, lines)) rotations++;
          },
        },
      },
      { ...timing, pids: { bff: bff.pid, api: api.pid } },
    );
    const refreshes = apiTokens(system.tokenLog, system.api).length - tokensBefore;
    report({
      id: "12",
      scenario: "BFF → API, 5 s tokens (cookie follows Set-Cookie)",
      m: refreshing,
      under: "bff",
      also: "api",
    });
    notes.push(
      `12: the cookie is updated from every Set-Cookie answer (shared by all ${CONNECTIONS} connections, ` +
        `like one browser); ${refreshes} token refreshes and ${rotations} cookie changes during warm-up and measurement ` +
        `(${WARMUP_SECONDS + SECONDS} s).`,
    );

    // --- 13: refresh storm: a new session, its access token expired, 50 calls at once with the same cookie.
    const stormUser = new HttpBrowser({ bff: bffOrigin, idp: system.idp });
    await stormUser.login();
    const expiresAt = apiTokens(system.tokenLog, system.api).at(-1)?.expiresAt ?? Date.now() + 5000;
    await sleep(Math.max(0, expiresAt - Date.now()) + 500);
    const stormCookie = stormUser.sessionCookie();
    const before = apiTokens(system.tokenLog, system.api).length;
    const stormStarted = performance.now();
    const answers = await Promise.all(
      Array.from({ length: STORM }, async () => {
        const t = performance.now();
        const response = await fetch(`${bffOrigin}/api/contacts`, {
          headers: { cookie: stormCookie, "x-csrf": "1" },
        });
        await response.arrayBuffer();
        return { status: response.status, ms: performance.now() - t };
      }),
    );
    const storm = {
      calls: STORM,
      tokens: apiTokens(system.tokenLog, system.api).length - before,
      ok: answers.filter((a) => a.status === 200).length,
      slowestMs: Math.max(...answers.map((a) => a.ms)),
      allMs: performance.now() - stormStarted,
    };
    console.log(
      `bench: 13 refresh storm: ${storm.tokens} token request(s), ${storm.ok}/${STORM} answered 200, slowest ${f1(storm.slowestMs)} ms`,
    );

    // --- 15: bytes, and the report.
    const input = {
      smoke,
      date: new Date().toISOString(),
      command,
      machine: machine(),
      packages: Object.fromEntries(PEER_PACKAGES.map((name) => [name, packageVersion(name)])),
      load:
        `${useWrk ? "wrk, 1 thread" : "autocannon"}, ${CONNECTIONS} keep-alive connections, ${WARMUP_SECONDS} s warm-up then ` +
        `${SECONDS} s measured per scenario; ${pinning}`,
      peers,
      scenarios,
      storm,
      transfers,
      assets,
      cookie: {
        bytes: Buffer.byteLength(`cookie: ${cookie}\r\n`),
        parts: cookie.split("; ").filter((p) => p.startsWith(SESSION_COOKIE)).length,
      },
      notes,
      missing,
    };
    const { markdown, text, history } = render(input);
    mkdirSync(PERF_DIR, { recursive: true });
    const out = path.join(PERF_DIR, smoke ? "smoke.md" : "results.md");
    writeFileSync(out, markdown);
    if (!smoke) appendFileSync(path.join(PERF_DIR, "history.md"), history);
    console.log(`\n${text}\n\nbench: wrote ${out}`);
    if (missing.length > 0 && !smoke) {
      console.log(
        `bench: this full run is INCOMPLETE: ${missing.length} thing(s) not measured (listed above)`,
      );
    }
    const hard = targets(input).filter((t) => t.hard);
    exitCode = hard.every((t) => t.status === "PASS") && assets.js.gzip <= JS_BUDGET_BYTES ? 0 : 1;
  }
} catch (error) {
  console.error("bench: the run failed:", error);
  exitCode = 1;
} finally {
  clearTimeout(hardTimeout);
}
await shutDown(exitCode);
