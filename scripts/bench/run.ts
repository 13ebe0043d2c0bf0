/**
 * `pnpm bench` (10 s per scenario) and `pnpm bench:smoke` (2 s per scenario):
 * what the BFF costs per request, against the API called directly and against
 * the cheapest proxy Node can be (bare-hop.ts), over real HTTP on loopback.
 *
 *   1 API direct          GET /contacts with a Bearer token
 *   2 bare hop            the same through bare-hop.ts (adds the Authorization header)
 *   3 BFF                 GET /api/contacts with the session cookie
 *   4 BFF with refresh    as 3, access tokens of 5 s refreshed 2 s before expiry
 *   5 API auth cost       /health (no token) against 1
 *   6 login               complete logins through BFF and IdP, one after the other
 *   7 refresh storm       50 parallel calls on an expired token: token requests, slowest call
 *   8 bytes               session cookie per request, the SPA's initial JS and CSS (gzip)
 *
 * Output: docs/perf/results.md and a line in docs/perf/history.md; in smoke
 * mode docs/perf/smoke.md (git-ignored) only. The exit code is 1 only if the
 * refresh storm made other than one token request or the SPA's JavaScript is
 * over budget, never because of a timing.
 *
 * `node scripts/bench/run.ts --profile` runs scenarios 2 and 3 with the BFF and
 * the bare hop under `node --cpu-prof` and writes docs/perf/profile.md.
 */
import { randomBytes } from "node:crypto";
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
import { type Measurement, measureHttp, measureLoop } from "./load.ts";
import { pinSelf, ROOT, type Server, startServer, stopAll, stopServer, waitFor } from "./processes.ts";
import { summarizeProfile } from "./profile.ts";
import { apiTokens } from "./tokens.ts";

const { values } = parseArgs({
  options: {
    smoke: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
  },
});
const smoke = values.smoke === true;
const profile = values.profile === true;
const SECONDS = smoke ? 2 : 10;
const WARMUP_SECONDS = smoke ? 1 : 2;
const CONNECTIONS = 10;
const STORM = 50;
const JS_BUDGET_BYTES = 120_000;

const ADDR = {
  idp: "http://127.0.0.1:4300",
  api: "http://localhost:4301",
  bff: "http://localhost:3300",
  hop: "http://localhost:3301",
} as const;
const CLIENT_SECRET = randomBytes(32).toString("base64url");
const COOKIE_SECRET = randomBytes(32).toString("base64url");

const PERF_DIR = path.join(ROOT, "docs", "perf");
const command =
  process.env.npm_lifecycle_event !== undefined
    ? `pnpm ${process.env.npm_lifecycle_event}`
    : `node scripts/bench/run.ts ${process.argv.slice(2).join(" ")}`.trim();

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

const dataDir = mkdtempSync(path.join(tmpdir(), "oidc-bff-bench-"));
const tokenLog = path.join(dataDir, "issued-tokens.log");
const profileDir = path.join(dataDir, "profiles");

const idpEnv = (accessTokenTtl: number): Record<string, string> => ({
  IDP_PORT: "4300",
  IDP_ISSUER: ADDR.idp,
  IDP_MODE: "development",
  // Kept across the two IdP starts: same signing keys, so the API's cached JWKS stays good.
  IDP_DATA_DIR: path.join(dataDir, "idp"),
  IDP_COOKIE_KEYS: randomBytes(32).toString("base64url"),
  IDP_WEB_BFF_SECRET: CLIENT_SECRET,
  IDP_WEB_BFF_REDIRECT_URIS: `${ADDR.bff}/bff/callback`,
  IDP_WEB_BFF_POST_LOGOUT_REDIRECT_URIS: `${ADDR.bff}/`,
  IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI: `${ADDR.bff}/bff/backchannel-logout`,
  IDP_API_AUDIENCE: ADDR.api,
  IDP_ACCESS_TOKEN_TTL: String(accessTokenTtl),
  IDP_INSECURE_TOKEN_LOG_FILE: tokenLog,
});

const bffEnv = (refreshLeeway: number): Record<string, string> => ({
  BFF_PORT: "3300",
  BFF_HOST: "localhost",
  BFF_MODE: "development",
  BFF_DANGEROUSLY_ALLOW_INSECURE_HTTP_ISSUER: "true",
  BFF_ISSUER: ADDR.idp,
  BFF_CLIENT_ID: "web-bff",
  BFF_CLIENT_SECRET: CLIENT_SECRET,
  BFF_REDIRECT_URI: `${ADDR.bff}/bff/callback`,
  BFF_POST_LOGOUT_REDIRECT_URI: `${ADDR.bff}/`,
  BFF_API_BASE_URL: ADDR.api,
  BFF_RESOURCE: ADDR.api,
  BFF_SCOPES: "openid profile email offline_access contacts:read contacts:write",
  BFF_COOKIE_SECRETS: COOKIE_SECRET,
  BFF_REFRESH_LEEWAY_SECONDS: String(refreshLeeway),
  // One log line per request costs more than much of what is measured (honoured if the BFF knows it).
  BFF_ACCESS_LOG: "off",
});

const cpuProf = (name: string) =>
  profile ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : [];

async function startIdp(accessTokenTtl: number): Promise<Server> {
  const idp = startServer("idp", "idp/src/server.ts", idpEnv(accessTokenTtl));
  await waitFor(`${ADDR.idp}/.well-known/openid-configuration`, idp);
  return idp;
}

async function startBff(refreshLeeway: number): Promise<Server> {
  const bff = startServer("bff", "bff/src/server.ts", bffEnv(refreshLeeway), cpuProf("bff"));
  await waitFor(`${ADDR.bff}/bff/session`, bff);
  return bff;
}

// ---------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------

interface Row {
  id: string;
  scenario: string;
  m: Measurement;
  /** Process under test, and a second one whose CPU is shown separately. */
  under: string;
  also?: string;
  unit?: string;
}
const rows: Row[] = [];
const notes: string[] = [];

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "n/a");
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "n/a");
const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a");

function report(row: Row): void {
  rows.push(row);
  const cpu = Object.entries(row.m.cpuPerRequest)
    .map(([name, us]) => `${name} ${f0(us)} µs`)
    .join(", ");
  console.log(
    `bench: ${row.id} ${row.scenario}: ${f0(row.m.perSecond)} ${row.unit ?? "req"}/s, p50 ${f2(row.m.p50Ms)} ms, ` +
      `p99 ${f2(row.m.p99Ms)} ms, CPU/${row.unit ?? "req"} ${cpu}, failures ${row.m.failures}`,
  );
}

function machine() {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown";
  // All cores of the machine (this process is pinned to one, so availableParallelism() would say 1).
  return { model, cores: cpus().length, node: process.version };
}

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------

const limitMs = (profile ? 3 : smoke ? 4 : 8) * 60_000;
const hardTimeout = setTimeout(() => {
  console.error(`bench: still running after ${limitMs / 60_000} minutes; stopping`);
  void stopAll().finally(() => process.exit(1));
}, limitMs);
hardTimeout.unref();
process.once("SIGINT", () => void stopAll().finally(() => process.exit(130)));

let exitCode = 1;
try {
  const pinning = pinSelf();
  console.log(`bench: ${smoke ? "smoke, " : ""}${SECONDS} s per scenario; ${pinning}; data in ${dataDir}`);
  const assets = initialAssets();

  // --- The first system: long-lived tokens (10 minutes), the BFF's default leeway.
  let idp = await startIdp(600);
  const api = startServer("api", "api/src/server.ts", {
    API_PORT: "4301",
    API_HOST: "localhost",
    API_ISSUER: ADDR.idp,
    API_AUDIENCE: ADDR.api,
    API_DB_PATH: path.join(dataDir, "contacts.sqlite"),
    API_ACCESS_LOG: "off",
  });
  await waitFor(`${ADDR.api}/health`, api);
  let bff = await startBff(30);

  const browser = new HttpBrowser({ bff: ADDR.bff, idp: ADDR.idp });
  await browser.login();
  const cookie = browser.sessionCookie();
  const bffHeaders = { cookie, "x-csrf": "1" };
  const check = await fetch(`${ADDR.bff}/api/contacts`, { headers: bffHeaders });
  if (check.status !== 200)
    throw new Error(`BFF /api/contacts answered ${check.status}: ${await check.text()}`);
  await check.body?.cancel();
  // The API token the BFF holds for this session: the latest one issued.
  const token = apiTokens(tokenLog, ADDR.api).at(-1)?.token;
  if (token === undefined) throw new Error("no API access token in the IdP's token log");
  const apiHeaders = { authorization: `Bearer ${token}` };

  const hop = startServer(
    "hop",
    "scripts/bench/bare-hop.ts",
    { BARE_HOP_PORT: "3301", BARE_HOP_UPSTREAM: ADDR.api, BARE_HOP_TOKEN: token },
    cpuProf("bare-hop"),
  );
  await waitFor(`${ADDR.hop}/contacts`, hop);
  for (const [name, url, headers] of [
    ["API", `${ADDR.api}/contacts`, apiHeaders],
    ["bare hop", `${ADDR.hop}/contacts`, {}],
  ] as const) {
    const answer = await fetch(url, { headers });
    if (answer.status !== 200) throw new Error(`${name} /contacts answered ${answer.status}`);
    await answer.body?.cancel();
  }

  const timing = { seconds: SECONDS, warmup: WARMUP_SECONDS };
  const http = (url: string, headers: Record<string, string>) => ({ url, headers, connections: CONNECTIONS });

  if (!profile) {
    report({
      id: "1",
      scenario: "API direct: GET /contacts, Bearer",
      m: await measureHttp(http(`${ADDR.api}/contacts`, apiHeaders), { ...timing, pids: { api: api.pid } }),
      under: "api",
    });
  }
  report({
    id: "2",
    scenario: "bare hop → API",
    m: await measureHttp(http(`${ADDR.hop}/contacts`, {}), {
      ...timing,
      pids: { hop: hop.pid, api: api.pid },
    }),
    under: "hop",
    also: "api",
  });
  report({
    id: "3",
    scenario: "BFF → API (session cookie)",
    m: await measureHttp(http(`${ADDR.bff}/api/contacts`, bffHeaders), {
      ...timing,
      pids: { bff: bff.pid, api: api.pid },
    }),
    under: "bff",
    also: "api",
  });

  if (profile) {
    await stopServer(bff);
    await stopServer(hop);
    const lines = [
      `# Profile of the BFF (scenario 3) and the bare hop (scenario 2)`,
      "",
      `${new Date().toISOString()}, \`${command}\`, ${SECONDS} s per scenario, ${CONNECTIONS} connections.`,
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
    const health = await measureHttp(http(`${ADDR.api}/health`, {}), { ...timing, pids: { api: api.pid } });
    report({ id: "5a", scenario: "API /health (no token)", m: health, under: "api" });
    const validated = rows.find((r) => r.id === "1")?.m;
    if (validated)
      report({ id: "5b", scenario: "API /contacts (JWT validated) = 1", m: validated, under: "api" });

    const logins = await measureLoop(() => new HttpBrowser({ bff: ADDR.bff, idp: ADDR.idp }).login(), {
      seconds: SECONDS,
      warmup: 2,
      pids: { bff: bff.pid, idp: idp.pid },
    });
    report({
      id: "6",
      scenario: "login (BFF + IdP, sequential)",
      m: logins,
      under: "bff",
      also: "idp",
      unit: "login",
    });

    // --- The second system: 5-second access tokens, refreshed when less than 2 s are left.
    await stopServer(hop);
    await stopServer(bff);
    await stopServer(idp);
    idp = await startIdp(5);
    bff = await startBff(2);

    const user = new HttpBrowser({ bff: ADDR.bff, idp: ADDR.idp });
    await user.login();
    // One browser, many connections: every answer's Set-Cookie updates the cookie all of them send.
    const jar = user.jar;
    let rotations = 0;
    const tokensBefore4 = apiTokens(tokenLog, ADDR.api).length;
    const refreshing = await measureHttp(
      {
        url: `${ADDR.bff}/api/contacts`,
        headers: { "x-csrf": "1" },
        connections: CONNECTIONS,
        request: {
          setupRequest: (request) => ({
            ...request,
            headers: { ...request.headers, cookie: sessionCookieHeader(jar, ADDR.bff) },
          }),
          onResponse: (_status, _body, _context, headers) => {
            const lines = Object.entries(headers ?? {})
              .filter(([name]) => name.toLowerCase() === "set-cookie")
              .flatMap(([, value]) => value ?? []);
            if (lines.length > 0 && applySetCookie(jar, ADDR.bff, lines)) rotations++;
          },
        },
      },
      { ...timing, pids: { bff: bff.pid, api: api.pid } },
    );
    const refreshes4 = apiTokens(tokenLog, ADDR.api).length - tokensBefore4;
    report({
      id: "4",
      scenario: "BFF → API, 5 s tokens (cookie follows Set-Cookie)",
      m: refreshing,
      under: "bff",
      also: "api",
    });
    notes.push(
      `Scenario 4: the cookie is updated from every Set-Cookie answer (shared by all ${CONNECTIONS} connections, ` +
        `like one browser); ${refreshes4} token refreshes and ${rotations} cookie changes during warm-up and measurement ` +
        `(${WARMUP_SECONDS + SECONDS} s).`,
    );

    // --- Refresh storm: a new session, its access token expired, 50 calls at once with the same cookie.
    const stormUser = new HttpBrowser({ bff: ADDR.bff, idp: ADDR.idp });
    await stormUser.login();
    const expiresAt = apiTokens(tokenLog, ADDR.api).at(-1)?.expiresAt ?? Date.now() + 5000;
    await sleep(Math.max(0, expiresAt - Date.now()) + 500);
    const stormCookie = stormUser.sessionCookie();
    const before = apiTokens(tokenLog, ADDR.api).length;
    const stormStarted = performance.now();
    const answers = await Promise.all(
      Array.from({ length: STORM }, async () => {
        const t = performance.now();
        const response = await fetch(`${ADDR.bff}/api/contacts`, {
          headers: { cookie: stormCookie, "x-csrf": "1" },
        });
        await response.arrayBuffer();
        return { status: response.status, ms: performance.now() - t };
      }),
    );
    const stormMs = performance.now() - stormStarted;
    const stormTokens = apiTokens(tokenLog, ADDR.api).length - before;
    const slowest = Math.max(...answers.map((a) => a.ms));
    const stormOk = answers.filter((a) => a.status === 200).length;
    console.log(
      `bench: 7 refresh storm: ${stormTokens} token request(s), ${stormOk}/${STORM} answered 200, slowest ${f1(slowest)} ms`,
    );

    // --- Bytes.
    const cookieParts = cookie.split("; ").filter((p) => p.startsWith(SESSION_COOKIE)).length;
    const cookieBytes = Buffer.byteLength(`cookie: ${cookie}\r\n`);

    // --- Targets.
    const get = (id: string) => rows.find((r) => r.id === id)?.m;
    const [m2, m3, m5a] = [get("2"), get("3"), get("5a")];
    const cpu = (m: Measurement | undefined, name: string) => m?.cpuPerRequest[name] ?? Number.NaN;
    const cpuRatio = cpu(m3, "bff") / cpu(m2, "hop");
    const rpsRatio = (m3?.perSecond ?? 0) / (m2?.perSecond ?? 1);
    const authRatio = (validated?.perSecond ?? 0) / (m5a?.perSecond ?? 1);
    const pass = (ok: boolean) => (ok ? "PASS" : "MISS");
    const targets: [string, string, string, boolean][] = [
      ["BFF CPU/request ÷ bare hop CPU/request (3 ÷ 2)", f2(cpuRatio), "≤ 1.25", cpuRatio <= 1.25],
      [
        "BFF throughput ÷ bare hop throughput (3 ÷ 2)",
        `${(rpsRatio * 100).toFixed(0)}%`,
        "≥ 80%",
        rpsRatio >= 0.8,
      ],
      [
        "API /contacts (JWT) throughput ÷ /health throughput (5)",
        `${(authRatio * 100).toFixed(0)}%`,
        "≥ 75%",
        authRatio >= 0.75,
      ],
      [
        "Refresh storm: token requests for 50 parallel calls (7)",
        String(stormTokens),
        "= 1",
        stormTokens === 1,
      ],
      [
        "SPA initial JS, gzip (8)",
        `${(assets.js.gzip / 1000).toFixed(1)} kB`,
        `≤ ${JS_BUDGET_BYTES / 1000} kB`,
        assets.js.gzip <= JS_BUDGET_BYTES,
      ],
    ];

    // --- The report.
    const { model, cores, node } = machine();
    const date = new Date().toISOString();
    const table = [
      "| # | scenario | req/s | p50 ms | p99 ms | CPU µs/req (under test) | API CPU µs/req | failures |",
      "|---|---|--:|--:|--:|--:|--:|--:|",
      ...["1", "2", "3", "4", "5a", "5b", "6"].flatMap((id) => {
        const row = rows.find((r) => r.id === id);
        if (!row) return [];
        const { m } = row;
        const under = `${f0(m.cpuPerRequest[row.under] ?? Number.NaN)} (${row.under})`;
        const also = row.also
          ? row.also === "api"
            ? f0(m.cpuPerRequest.api ?? Number.NaN)
            : `${f0(m.cpuPerRequest[row.also] ?? Number.NaN)} (${row.also})`
          : "";
        const rate = row.unit ? `${f1(m.perSecond)} ${row.unit}s/s` : f0(m.perSecond);
        return [
          `| ${id} | ${row.scenario} | ${rate} | ${f2(m.p50Ms)} | ${f2(m.p99Ms)} | ${under} | ${also} | ${m.failures} |`,
        ];
      }),
      `| 7 | refresh storm: ${STORM} parallel calls, expired token | ${stormTokens} token request(s) | | slowest ${f1(slowest)} | | | ${STORM - stormOk} |`,
    ];
    const bytes = [
      "| what | bytes |",
      "|---|--:|",
      `| session cookie per request (\`cookie:\` header line, ${cookieParts} part${cookieParts === 1 ? "" : "s"}) | ${f0(cookieBytes)} |`,
      `| SPA initial JS (${assets.js.files.join(", ")}) | ${f0(assets.js.raw)} raw, ${f0(assets.js.gzip)} gzip |`,
      `| SPA initial CSS (${assets.css.files.join(", ")}) | ${f0(assets.css.raw)} raw, ${f0(assets.css.gzip)} gzip |`,
    ];
    const targetTable = [
      "| target | measured | limit | |",
      "|---|--:|--:|---|",
      ...targets.map(([what, measured, limit, ok]) => `| ${what} | ${measured} | ${limit} | ${pass(ok)} |`),
    ];
    const markdown = [
      `# Benchmark results${smoke ? " (smoke)" : ""}`,
      "",
      `- Date: ${date}`,
      `- Command: \`${command}\``,
      `- Machine: ${model}, ${cores} cores; Node ${node}`,
      `- Load: autocannon, ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up then ${SECONDS} s measured per scenario; ${pinning}`,
      "- CPU: user + system time of the process from /proc/<pid>/stat, sampled before and after the measured part, divided by the requests answered",
      "",
      "## Scenarios",
      "",
      ...table,
      "",
      "## Targets",
      "",
      ...targetTable,
      "",
      "## Bytes",
      "",
      ...bytes,
      "",
      "## Notes",
      "",
      "- 5b is scenario 1 again (the same measurement): /contacts validates the JWT *and* reads the contacts from SQLite, so the ratio to /health is an upper bound on the cost of authentication.",
      "- 6: a fresh cookie jar per login, so each one goes through the IdP's login and consent pages; CPU per login is shown for the BFF and for the IdP.",
      "- 7: a new session is logged in, then the run waits until its access token has expired and sends 50 calls at once with the same cookie; token requests are counted as API access tokens added to the IdP's token log (IDP_INSECURE_TOKEN_LOG_FILE).",
      `- 7: ${stormOk}/${STORM} answered 200, all ${STORM} within ${f1(stormMs)} ms.`,
      "- gzip: node:zlib at its default level (6); kB = 1,000 bytes.",
      "- The API and BFF are started with API_ACCESS_LOG=off and BFF_ACCESS_LOG=off (no log line per request; ignored by servers that do not know them).",
      ...notes.map((n) => `- ${n}`),
      "",
      "For targets not met: where the time goes is in [profile.md](profile.md) (`node scripts/bench/run.ts --profile`), what was tried and measured before and after in [README.md](README.md), earlier runs in [history.md](history.md).",
      "",
    ].join("\n");

    mkdirSync(PERF_DIR, { recursive: true });
    const out = path.join(PERF_DIR, smoke ? "smoke.md" : "results.md");
    writeFileSync(out, markdown);
    if (!smoke) {
      const summary = targets.map(
        ([what, measured, , ok]) => `${what.replace(/ \(.*\)$/, "")} ${measured} ${pass(ok)}`,
      );
      appendFileSync(
        path.join(PERF_DIR, "history.md"),
        `- ${date.slice(0, 10)}: ${model}, Node ${node}: bare hop ${f0(m2?.perSecond ?? Number.NaN)} req/s, ` +
          `BFF ${f0(m3?.perSecond ?? Number.NaN)} req/s; ${summary.join("; ")}\n`,
      );
    }
    console.log(
      `\n${table.join("\n")}\n\n${targetTable.join("\n")}\n\n${bytes.join("\n")}\n\nbench: wrote ${out}`,
    );
    exitCode = stormTokens === 1 && assets.js.gzip <= JS_BUDGET_BYTES ? 0 : 1;
  }
} catch (error) {
  console.error("bench: the run failed:", error);
  exitCode = 1;
} finally {
  await stopAll();
  clearTimeout(hardTimeout);
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
