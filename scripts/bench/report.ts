/**
 * The report of a run: the peer table, the BFF's own scenarios, streaming,
 * bytes and the targets, as Markdown (docs/perf/results.md, or smoke.md) and a
 * line for docs/perf/history.md. Targets are reported, never enforced here:
 * run.ts fails only on the refresh storm and the JavaScript budget.
 */
import type { Measurement } from "./load.ts";
import type { PeerRow } from "./scenarios/peers.ts";
import { RSS_GROWTH_LIMIT, type Transfer } from "./scenarios/streaming.ts";

export const JS_BUDGET_BYTES = 120_000;

export interface ScenarioRow {
  id: string;
  scenario: string;
  m: Measurement;
  /** Process under test, and a second one whose CPU is shown separately. */
  under: string;
  also?: string;
  unit?: string;
}

export interface ReportInput {
  smoke: boolean;
  date: string;
  command: string;
  machine: { model: string; cores: number; node: string };
  packages: Record<string, string | undefined>;
  load: string;
  peers: PeerRow[];
  scenarios: ScenarioRow[];
  storm: { calls: number; tokens: number; ok: number; slowestMs: number; allMs: number };
  transfers: Transfer[] | string;
  assets: {
    js: { files: string[]; raw: number; gzip: number };
    css: { files: string[]; raw: number; gzip: number };
  };
  cookie: { bytes: number; parts: number };
  notes: string[];
  /** What could not be measured, and why. */
  missing: string[];
}

export const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "n/a");
export const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "n/a");
export const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a");
const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

type Status = "PASS" | "MISS" | "n/a";
interface Target {
  what: string;
  measured: string;
  limit: string;
  status: Status;
  /** A failing hard target makes the run exit 1. */
  hard?: boolean;
}

const status = (ok: boolean | undefined): Status => (ok === undefined ? "n/a" : ok ? "PASS" : "MISS");
const known = (...values: number[]) => values.every(Number.isFinite);

export function targets(input: ReportInput): Target[] {
  const peer = (id: string) => input.peers.find((row) => row.id === id);
  const proxyCpu = (id: string) => {
    const row = peer(id);
    return row?.m && row.proxy ? (row.m.cpuPerRequest[row.proxy] ?? Number.NaN) : Number.NaN;
  };
  const hop = proxyCpu("undici");
  const bff = proxyCpu("bff");
  const redisBff = proxyCpu("bff-redis");
  const [shm, cookie] = [proxyCpu("moidc-shm"), proxyCpu("moidc-cookie")];
  const bffM = peer("bff")?.m;
  // The faster mod_auth_openidc mode: the one to beat on throughput and p99.
  const modes = [peer("moidc-shm"), peer("moidc-cookie")].filter((row) => row?.m !== undefined);
  const fastest = modes.sort((a, b) => (b?.m?.perSecond ?? 0) - (a?.m?.perSecond ?? 0))[0];
  const fastestName = fastest?.id === "moidc-shm" ? "server-cache" : "client-cookie";
  const health = input.scenarios.find((row) => row.id === "10")?.m;
  const contacts = peer("api")?.m;
  const authRatio = (contacts?.perSecond ?? Number.NaN) / (health?.perSecond ?? Number.NaN);
  const transfers = typeof input.transfers === "string" ? undefined : input.transfers;
  const growth = transfers ? Math.max(...transfers.map((t) => t.rssPeak - t.rssBefore)) : Number.NaN;
  const streamOk = transfers?.every((t) => t.problem === undefined);

  return [
    {
      what: "BFF CPU/request ÷ undici.request hop CPU/request",
      measured: f2(bff / hop),
      limit: "≤ 1.25",
      status: status(known(bff, hop) ? bff / hop <= 1.25 : undefined),
    },
    {
      what: "BFF CPU/request below both mod_auth_openidc modes",
      measured: `${f0(bff)} µs vs ${f0(shm)} (server-cache), ${f0(cookie)} (client-cookie)`,
      limit: "< both",
      status: status(known(bff, shm, cookie) ? bff < shm && bff < cookie : undefined),
    },
    {
      what: `BFF throughput vs the faster mod_auth_openidc mode (${fastest ? fastestName : "n/a"})`,
      measured: `${f0(bffM?.perSecond ?? Number.NaN)} vs ${f0(fastest?.m?.perSecond ?? Number.NaN)} req/s`,
      limit: "≥",
      status: status(bffM && fastest?.m ? bffM.perSecond >= fastest.m.perSecond : undefined),
    },
    {
      what: `BFF p99 vs that mode's p99`,
      measured: `${f2(bffM?.p99Ms ?? Number.NaN)} vs ${f2(fastest?.m?.p99Ms ?? Number.NaN)} ms`,
      limit: "≤",
      status: status(bffM && fastest?.m ? bffM.p99Ms <= fastest.m.p99Ms : undefined),
    },
    {
      what: "BFF with the Redis store: CPU/request ÷ undici.request hop (BFF process only)",
      measured: f2(redisBff / hop),
      limit: "≤ 1.5",
      status: status(known(redisBff, hop) ? redisBff / hop <= 1.5 : undefined),
    },
    {
      what: "Streaming through the BFF: peak RSS growth, every byte through",
      measured: transfers ? `${mb(growth)} MB${streamOk ? "" : ", bytes wrong"}` : "n/a",
      limit: `< ${mb(RSS_GROWTH_LIMIT)} MB`,
      status: status(transfers ? growth < RSS_GROWTH_LIMIT && streamOk === true : undefined),
    },
    {
      what: "API /contacts (JWT) throughput ÷ /health throughput",
      measured: Number.isFinite(authRatio) ? `${(authRatio * 100).toFixed(0)}%` : "n/a",
      limit: "≥ 75%",
      status: status(Number.isFinite(authRatio) ? authRatio >= 0.75 : undefined),
    },
    {
      what: `Refresh storm: token requests for ${input.storm.calls} parallel calls`,
      measured: String(input.storm.tokens),
      limit: "= 1",
      status: status(input.storm.tokens === 1),
      hard: true,
    },
    {
      what: "SPA initial JS, gzip",
      measured: `${(input.assets.js.gzip / 1000).toFixed(1)} kB`,
      limit: `≤ ${JS_BUDGET_BYTES / 1000} kB`,
      status: status(input.assets.js.gzip <= JS_BUDGET_BYTES),
      hard: true,
    },
  ];
}

const peerRounds = (rows: PeerRow[]) => Math.max(1, ...rows.map((row) => row.each?.length ?? 1));

function peerTable(rows: PeerRow[]): string[] {
  const hopRow = rows.find((row) => row.id === "undici");
  const hop = hopRow?.m?.cpuPerRequest.undici ?? Number.NaN;
  const lines = [
    "| # | peer | req/s | p50 ms | p99 ms | proxy CPU µs/req | ÷ undici hop | API CPU µs/req | redis CPU µs/req | failures |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  rows.forEach((row, i) => {
    const n = i + 1;
    if (!row.m) {
      lines.push(`| ${n} | ${row.name} | n/a: ${row.na ?? "not run"} | | | | | | | |`);
      return;
    }
    const { m } = row;
    const proxy = row.proxy ? (m.cpuPerRequest[row.proxy] ?? Number.NaN) : Number.NaN;
    // With several rounds: the median, and the lowest and highest round beside it.
    const rounds =
      row.proxy && row.each && row.each.length > 1
        ? row.each.map((one) => one.cpuPerRequest[row.proxy as string] ?? Number.NaN)
        : [];
    const spread = rounds.length > 1 ? ` (${f0(Math.min(...rounds))}–${f0(Math.max(...rounds))})` : "";
    const extra = row.extra ? f0(m.cpuPerRequest[row.extra] ?? Number.NaN) : "";
    lines.push(
      `| ${n} | ${row.name} | ${f0(m.perSecond)} | ${f2(m.p50Ms)} | ${f2(m.p99Ms)} | ${row.proxy ? `${f0(proxy)}${spread}` : ""} | ${row.proxy ? f2(proxy / hop) : ""} | ${f0(m.cpuPerRequest.api ?? Number.NaN)} | ${extra} | ${f0(m.failures)} |`,
    );
  });
  return lines;
}

function scenarioTable(input: ReportInput): string[] {
  const { storm } = input;
  return [
    "| # | scenario | rate | p50 ms | p99 ms | CPU µs (under test) | CPU µs (other) | failures |",
    "|---|---|--:|--:|--:|--:|--:|--:|",
    ...input.scenarios.map(({ id, scenario, m, under, also, unit }) => {
      const rate = unit ? `${f1(m.perSecond)} ${unit}s/s` : `${f0(m.perSecond)} req/s`;
      const other = also ? `${f0(m.cpuPerRequest[also] ?? Number.NaN)} (${also})` : "";
      return `| ${id} | ${scenario} | ${rate} | ${f2(m.p50Ms)} | ${f2(m.p99Ms)} | ${f0(m.cpuPerRequest[under] ?? Number.NaN)} (${under}) | ${other} | ${m.failures} |`;
    }),
    `| 13 | refresh storm: ${storm.calls} parallel calls, expired token | ${storm.tokens} token request(s) | | slowest ${f1(storm.slowestMs)} | | | ${storm.calls - storm.ok} |`,
  ];
}

function streamingTable(transfers: Transfer[] | string): string[] {
  if (typeof transfers === "string") return [`n/a: ${transfers}`];
  return [
    "| direction | MB | MB/s | BFF RSS before, MB | peak RSS − before, MB | bytes at the other end |",
    "|---|--:|--:|--:|--:|---|",
    ...transfers.map(
      (t) =>
        `| ${t.direction} | ${mb(t.bytes)} | ${f0(t.mbPerSecond)} | ${mb(t.rssBefore)} | ${mb(t.rssPeak - t.rssBefore)} | ${t.problem ?? `${f0(t.received)}, all`} |`,
    ),
  ];
}

export function render(input: ReportInput): { markdown: string; text: string; history: string } {
  const { assets, cookie, machine } = input;
  const list = targets(input);
  const peers = peerTable(input.peers);
  const scenarios = scenarioTable(input);
  const streaming = streamingTable(input.transfers);
  const bytes = [
    "| what | bytes |",
    "|---|--:|",
    `| session cookie per request (\`cookie:\` header line, ${cookie.parts} part${cookie.parts === 1 ? "" : "s"}) | ${f0(cookie.bytes)} |`,
    `| SPA initial JS (${assets.js.files.join(", ")}) | ${f0(assets.js.raw)} raw, ${f0(assets.js.gzip)} gzip |`,
    `| SPA initial CSS (${assets.css.files.join(", ")}) | ${f0(assets.css.raw)} raw, ${f0(assets.css.gzip)} gzip |`,
  ];
  const targetTable = [
    "| target | measured | limit | |",
    "|---|--:|--:|---|",
    ...list.map((t) => `| ${t.what}${t.hard ? " (hard)" : ""} | ${t.measured} | ${t.limit} | ${t.status} |`),
  ];
  const versions = Object.entries(input.packages)
    .map(([name, version]) => `${name} ${version ?? "not installed"}`)
    .join(", ");
  const failures = input.peers.filter((row) => row.m?.failureSample);
  const markdown = [
    `# Benchmark results${input.smoke ? " (smoke)" : ""}`,
    "",
    `- Date: ${input.date}`,
    `- Command: \`${input.command}\``,
    `- Machine: ${machine.model}, ${machine.cores} cores; Node ${machine.node}`,
    `- Debian packages: ${versions}`,
    `- Load: ${input.load}`,
    "- CPU: user + system time from /proc/<pid>/stat of each process tree (nginx's master and worker, Apache's parent and child), sampled before and after the measured part, divided by the requests answered",
    "",
    ...(input.missing.length > 0
      ? ["## Not measured in this run", "", ...input.missing.map((m) => `- ${m}`), ""]
      : []),
    "## Peers: the same GET /contacts through each proxy (1–9)",
    "",
    ...(peerRounds(input.peers) > 1
      ? [
          `The whole table was measured ${peerRounds(input.peers)} times, one peer after the other each time; each figure is the median of the rounds, and the proxy's CPU shows the lowest and highest round in brackets.`,
          "",
        ]
      : []),
    ...peers,
    "",
    "## Targets",
    "",
    ...targetTable,
    "",
    "## The BFF's other scenarios (10–13)",
    "",
    ...scenarios,
    "",
    "## Streaming through the BFF (14)",
    "",
    ...streaming,
    "",
    "## Bytes",
    "",
    ...bytes,
    "",
    "## Notes",
    "",
    "- Every answer of the peer table is checked: status 200 and exactly the body the API gave when called directly (wrk-check.lua); anything else is a failure.",
    "- ÷ undici hop: the proxy's CPU per request divided by that of the undici.request hop (peers/undici-hop.ts), the cheapest proxy Node can be and the baseline. The BFF with Redis: the BFF process only; redis-server's CPU is its own column.",
    "- 10 measures /health the same way as the peers; /contacts (peer 1) validates the JWT *and* reads the contacts from SQLite, so the ratio of the two is an upper bound on the cost of authentication.",
    "- 11: a fresh cookie jar per login, so each one goes through the IdP's login and consent pages; CPU per login is shown for the BFF and for the IdP.",
    "- 12: autocannon, because the cookie follows every Set-Cookie answer (JavaScript per request).",
    "- 13: a new session is logged in, then the run waits until its access token has expired and sends the calls at once with the same cookie; token requests are counted as API access tokens added to the IdP's token log (IDP_INSECURE_TOKEN_LOG_FILE).",
    `- 13: ${input.storm.ok}/${input.storm.calls} answered 200, all within ${f1(input.storm.allMs)} ms.`,
    "- Streaming: a BFF instance whose BFF_API_BASE_URL is a bench-only upstream (stream-upstream.ts) and whose BFF_API_MAX_BODY_BYTES is raised; RSS from /proc/<pid>/status every 20 ms; MB = 1,000,000 bytes.",
    "- 1–5 send the API access token of the run's first BFF session as a fixed Bearer token (10-minute tokens: no refresh during the run); 6 and 7 log in a session of their own in each round; 8 and 9 log in once per round through Apache and the IdP's pages, and wrk sends mod_auth_openidc's session cookie only.",
    "- gzip: node:zlib at its default level (6); kB = 1,000 bytes.",
    "- The API and BFF run with API_ACCESS_LOG=off and BFF_ACCESS_LOG=off, nginx and Apache without an access log.",
    ...failures.map((row) => `- ${row.name}: first wrong answer: \`${row.m?.failureSample}\``),
    ...input.notes.map((n) => `- ${n}`),
    "",
    "Where the time goes: [profile.md](profile.md) (`node scripts/bench/run.ts --profile`); what was tried, in [README.md](README.md); earlier runs in [history.md](history.md).",
    "",
  ].join("\n");

  const peer = (id: string) => input.peers.find((row) => row.id === id)?.m?.perSecond ?? Number.NaN;
  const history =
    `- ${input.date.slice(0, 10)}: ${machine.model}, Node ${machine.node}, wrk: undici hop ${f0(peer("undici"))} req/s, ` +
    `BFF ${f0(peer("bff"))} req/s, mod_auth_openidc ${f0(peer("moidc-shm"))}/${f0(peer("moidc-cookie"))} req/s; ` +
    `${list.map((t) => `${t.what.replace(/ \(.*\)$/, "")} ${t.measured} ${t.status}`).join("; ")}\n`;
  const text = [
    ...peers,
    "",
    ...targetTable,
    "",
    ...scenarios,
    "",
    ...streaming,
    "",
    ...bytes,
    ...(input.missing.length > 0
      ? ["", "NOT MEASURED in this run:", ...input.missing.map((m) => `  - ${m}`)]
      : []),
  ].join("\n");
  return { markdown, text, history };
}
