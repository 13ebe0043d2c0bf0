/**
 * `pnpm soak`: a bounded soak test of the whole system over real HTTP.
 * Flags: --minutes <n> (default 10), --users <n> (default 6).
 *
 * It starts the IdP, the API and the BFF on a fresh, temporary data directory
 * with access tokens that live only 30 seconds, signs in N simulated people
 * (alice and bob in turn, each with their own cookie jar) through the real
 * login and consent pages, and has them use the contacts API through the BFF
 * until the time is up:
 *
 * - mixed traffic: 70% list, 20% add, 10% delete one of their own, 50-300 ms apart;
 * - every 30 seconds, a burst of 10 parallel requests per person: with
 *   30-second tokens this lands around a refresh, when several requests carry
 *   the same old cookie and the BFF must refresh once, not ten times (a second
 *   use of a spent refresh token would make the IdP revoke the whole grant);
 * - half-way through, the BFF process is restarted: sessions live in sealed
 *   cookies, so nobody should notice more than a few refused connections.
 *
 * What must hold: no error answers, and no 401 (a 401 means someone was
 * logged out, which a refresh should have prevented). Exit code 0 if so, 1 if not.
 */
import { spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";

import { SoakBrowser, USERS } from "./soak-browser.ts";
import { ROOT, type RunningSystem, startSystem } from "./system.ts";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    users: { type: "string", default: "6" },
  },
});
const minutes = Number(values.minutes);
const userCount = Number(values.users);
if (!(minutes > 0) || !Number.isInteger(userCount) || userCount < 1) {
  console.error("usage: pnpm soak [--minutes <n>] [--users <n>]");
  process.exit(2);
}

const ACCESS_TOKEN_TTL_SECONDS = 30;
const BURST_EVERY_MS = ACCESS_TOKEN_TTL_SECONDS * 1000;
const BURST_SIZE = 10;

// ---------------------------------------------------------------------------
// What we count
// ---------------------------------------------------------------------------

const stats = {
  /** API calls that got an HTTP answer (logins not included). */
  requests: 0,
  /** Answers other than 2xx, by "status code" (e.g. "503 idp_unavailable"). */
  errors: new Map<string, number>(),
  /** 401 answers: the BFF no longer had a usable session for that person. */
  unexpectedLogouts: 0,
  /** Requests that found no BFF listening while it restarted; retried, not errors. */
  duringRestart: 0,
  /** Requests that failed to connect outside the restart. */
  connectionFailures: 0,
  logins: 0,
  bursts: 0,
  latenciesMs: [] as number[],
  restartMs: 0,
};
const errorCount = () => [...stats.errors.values()].reduce((a, b) => a + b, 0) + stats.connectionFailures;
const countError = (key: string) => stats.errors.set(key, (stats.errors.get(key) ?? 0) + 1);

/** True while the BFF is being restarted, and for a moment after (the last refused connections). */
let bffRestarting = false;
let restartEndedAt = 0;
const inRestartWindow = () => bffRestarting || Date.now() - restartEndedAt < 2000;

// ---------------------------------------------------------------------------
// One simulated person
// ---------------------------------------------------------------------------

interface Person {
  name: string;
  user: { username: string; password: string };
  browser: SoakBrowser;
  /** Ids of the contacts this person added and has not deleted yet. */
  added: string[];
}

/**
 * One API call through the BFF, counted. A call that cannot connect while the
 * BFF restarts is retried after a short wait; any HTTP answer is final.
 */
async function call(
  person: Person,
  method: string,
  apiPath: string,
  body?: unknown,
): Promise<{ status: number; text: string } | undefined> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.headers = { "content-type": "application/json" };
    init.body = JSON.stringify(body);
  }
  let retried = false;
  for (let attempt = 0; attempt < 400; attempt++) {
    const started = performance.now();
    let response: Response;
    try {
      response = await person.browser.api(apiPath, init);
    } catch {
      // fetch throws only when there is no HTTP answer at all: refused or cut connection.
      if (inRestartWindow()) {
        stats.duringRestart++;
        retried = true;
        await sleep(250);
        continue;
      }
      stats.connectionFailures++;
      return undefined;
    }
    // Read the whole body: the latency is the time to the complete answer.
    const text = await response.text();
    stats.latenciesMs.push(performance.now() - started);
    stats.requests++;
    if (response.status >= 200 && response.status < 300) {
      return { status: response.status, text };
    }
    // A DELETE cut off by the restart may have been carried out before the connection
    // closed: then its retry finds nothing to delete, which is not a fault.
    if (retried && method === "DELETE" && response.status === 404) return undefined;
    let code = "";
    try {
      code = String((JSON.parse(text) as { code?: unknown }).code ?? "");
    } catch {
      // not a problem+json body
    }
    countError(`${response.status} ${code}`.trim());
    if (response.status === 401) {
      stats.unexpectedLogouts++;
      console.error(`  ${person.name} was logged out (${method} ${apiPath}: ${code}); logging in again`);
      await person.browser.login(person.user);
      stats.logins++;
    }
    return undefined;
  }
  stats.connectionFailures++;
  return undefined;
}

/** One step of ordinary use: mostly reading, sometimes adding or deleting a contact. */
async function step(person: Person, n: number): Promise<void> {
  const roll = Math.random();
  if (roll < 0.2) {
    const response = await call(person, "POST", "/api/contacts", {
      name: `${person.name} contact ${n}`,
      email: `${person.name}.${n}@example.com`,
      group: n % 2 === 0 ? "soak" : undefined,
    });
    if (response?.status === 201) person.added.push((JSON.parse(response.text) as { id: string }).id);
  } else if (roll < 0.3 && person.added.length > 0) {
    const [id] = person.added.splice(Math.floor(Math.random() * person.added.length), 1);
    await call(person, "DELETE", `/api/contacts/${encodeURIComponent(id ?? "")}`);
  } else {
    await call(person, "GET", "/api/contacts");
  }
}

async function usePersonUntil(person: Person, until: number): Promise<void> {
  for (let n = 1; Date.now() < until; n++) {
    await step(person, n);
    await sleep(50 + Math.random() * 250);
  }
}

/** Every 30 seconds, every person fires 10 requests at once (like a page that loads many things). */
async function burstsUntil(people: Person[], until: number): Promise<void> {
  for (let next = Date.now() + BURST_EVERY_MS; next < until; next += BURST_EVERY_MS) {
    await sleep(next - Date.now());
    stats.bursts++;
    await Promise.all(
      people.flatMap((person) =>
        Array.from({ length: BURST_SIZE }, () => call(person, "GET", "/api/contacts")),
      ),
    );
  }
}

// ---------------------------------------------------------------------------
// Memory of the processes
// ---------------------------------------------------------------------------

/** Resident memory of a process in MiB, from /proc (Linux only). */
function rssMiB(pid: number | undefined): string {
  if (pid === undefined) return "n/a";
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? "n/a" : `${(Number(kb) / 1024).toFixed(1)} MiB`;
  } catch {
    return "n/a";
  }
}

// ---------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------

// The BFF serves the built SPA in "start" mode; build it once if it is not there yet.
if (!existsSync(path.join(ROOT, "web", "dist", "index.html"))) {
  console.log("web/dist is missing: running pnpm build first");
  const build = spawnSync("pnpm", ["build"], { cwd: ROOT, stdio: "inherit" });
  if (build.status !== 0) process.exit(1);
}

// mkdtemp makes a new, empty directory: the IdP and the API start with no data.
const dataDir = mkdtempSync(path.join(tmpdir(), "oidc-bff-soak-"));
// The processes' output goes to a file, so that the summary stays readable.
const logFile = path.join(dataDir, "system.log");
const log = createWriteStream(logFile);
// Test aid of the IdP: a copy of every token it issues, one per line. We only
// count them (one access token per token response); the file is deleted at the end.
const tokenLog = path.join(dataDir, "issued-tokens.log");
let bffRefreshFailures = 0;

let system: RunningSystem | undefined;
let stopped = false;
async function stopSystem(): Promise<void> {
  if (stopped) return;
  stopped = true;
  await system?.stop();
  await new Promise((resolve) => log.end(resolve));
}

// However the run goes, it ends: the soak's length plus two minutes at most.
const hardTimeout = setTimeout(
  () => {
    console.error(`soak: still running after ${minutes + 2} minutes; stopping`);
    void stopSystem().finally(() => process.exit(1));
  },
  (minutes + 2) * 60_000,
);
hardTimeout.unref();
process.once("SIGINT", () => void stopSystem().finally(() => process.exit(130)));

let passed = false;
try {
  console.log(`soak: ${minutes} min, ${userCount} users; data and logs in ${dataDir}`);
  system = await startSystem({
    mode: "start",
    dataDir,
    env: {
      IDP_ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL_SECONDS),
      BFF_REFRESH_LEEWAY_SECONDS: "5",
      IDP_INSECURE_TOKEN_LOG_FILE: tokenLog,
    },
    log: (name, line) => {
      log.write(`${new Date().toISOString()} [${name}] ${line}\n`);
      if (name === "bff" && line.includes("refresh failed")) bffRefreshFailures++;
    },
  });
  const running = system;
  const rssAtStart = rssMiB(running.pid("bff"));

  // Sign everyone in, one after the other, as alice and bob in turn.
  const people: Person[] = [];
  for (let i = 0; i < userCount; i++) {
    const user = i % 2 === 0 ? USERS.alice : USERS.bob;
    const person = {
      name: `${user.username}${Math.floor(i / 2) + 1}`,
      user,
      browser: new SoakBrowser(running.addresses),
      added: [],
    };
    await person.browser.login(user);
    stats.logins++;
    people.push(person);
  }
  console.log(`soak: ${people.length} users logged in: ${people.map((p) => p.name).join(", ")}`);

  const started = Date.now();
  const until = started + minutes * 60_000;

  // Half-way through, restart the BFF (as a deploy would).
  let rssBeforeRestart = "n/a";
  const restartHalfway = (async () => {
    await sleep(minutes * 30_000);
    rssBeforeRestart = rssMiB(running.pid("bff"));
    console.log("soak: restarting the BFF");
    bffRestarting = true;
    const restartStarted = Date.now();
    try {
      await running.restart("bff");
    } finally {
      stats.restartMs = Date.now() - restartStarted;
      bffRestarting = false;
      restartEndedAt = Date.now();
    }
    console.log(`soak: BFF back after ${stats.restartMs} ms`);
  })();

  const progress = setInterval(() => {
    const elapsed = Math.round((Date.now() - started) / 1000);
    console.log(`soak: ${elapsed}s, ${stats.requests} requests, ${errorCount()} errors`);
  }, 30_000);
  try {
    await Promise.all([
      ...people.map((p) => usePersonUntil(p, until)),
      burstsUntil(people, until),
      restartHalfway,
    ]);
  } finally {
    clearInterval(progress);
  }
  const rssAtEnd = rssMiB(running.pid("bff"));

  // Each token response carries one access token (a JWT with typ "at+jwt", RFC 9068):
  // every token response that was not a login was a refresh.
  const issued = existsSync(tokenLog) ? readFileSync(tokenLog, "utf8").split("\n") : [];
  const tokenResponses = issued.filter((line) => {
    try {
      const header = JSON.parse(Buffer.from(line.split(".")[0] ?? "", "base64url").toString("utf8"));
      return (header as { typ?: string }).typ === "at+jwt";
    } catch {
      return false;
    }
  }).length;

  const sorted = [...stats.latenciesMs].sort((a, b) => a - b);
  const percentile = (p: number) =>
    sorted.length === 0
      ? "n/a"
      : `${sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]?.toFixed(1)} ms`;
  const rows: [string, string | number][] = [
    ["duration", `${minutes} min, ${userCount} users`],
    ["requests (API calls answered)", stats.requests],
    ["requests per second", (stats.requests / (minutes * 60)).toFixed(1)],
    ["bursts (10 parallel per user)", stats.bursts],
    ["errors (non-2xx, no connection)", errorCount()],
    ...[...stats.errors].map(([key, count]): [string, number] => [`  ${key}`, count]),
    ...(stats.connectionFailures > 0
      ? [["  no connection", stats.connectionFailures] as [string, number]]
      : []),
    ["unexpected logouts (401)", stats.unexpectedLogouts],
    ["logins", stats.logins],
    ["refreshes (IdP token responses - logins)", tokenResponses - stats.logins],
    ["session cookie rotations", people.reduce((sum, p) => sum + p.browser.sessionCookieChanges, 0)],
    ["refresh failures logged by the BFF", bffRefreshFailures],
    ["BFF restart took", `${stats.restartMs} ms`],
    ["requests retried during the restart", stats.duringRestart],
    ["latency p50", percentile(50)],
    ["latency p95", percentile(95)],
    ["latency max", sorted.length === 0 ? "n/a" : `${sorted.at(-1)?.toFixed(1)} ms`],
    ["BFF RSS at start", rssAtStart],
    ["BFF RSS before restart", rssBeforeRestart],
    ["BFF RSS at end (new process)", rssAtEnd],
  ];
  passed = errorCount() === 0 && stats.unexpectedLogouts === 0;
  console.log("\nSoak summary");
  for (const [label, value] of rows) console.log(`  ${label.padEnd(42)} ${value}`);
  console.log(
    `\n  ${passed ? "PASSED" : "FAILED"}: ${errorCount()} errors, ${stats.unexpectedLogouts} unexpected logouts\n`,
  );
} catch (error) {
  console.error("soak: the run failed:", error);
} finally {
  await stopSystem();
  clearTimeout(hardTimeout);
  rmSync(tokenLog, { force: true });
  // Keep the logs of a failed run to look at; a passed run leaves nothing behind.
  if (passed) rmSync(dataDir, { recursive: true, force: true });
  else console.error(`soak: logs kept in ${logFile}`);
}
process.exit(passed ? 0 : 1);
