/**
 * The benchmark's processes: the servers under test (Node, nginx, Apache,
 * Redis), each started with its own configuration, pinned to SERVER_CORE while
 * the load generator runs on LOAD_CORE, watched for an early exit, and stopped
 * by pid at the end whatever happens. Also what /proc says about them: CPU
 * time of a whole process tree, resident memory.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Cores: servers on SERVER_CORE, the load generator (this process, and wrk it starts) on LOAD_CORE. */
export const SERVER_CORE = "1";
export const LOAD_CORE = "0";

export const hasTaskset = spawnSync("taskset", ["--version"], { stdio: "ignore" }).status === 0;

/** Pins this process (the load generator) to LOAD_CORE; returns how it went, for the report. */
export function pinSelf(): string {
  if (!hasTaskset) return "not pinned: taskset is not installed";
  const result = spawnSync("taskset", ["-p", "-c", LOAD_CORE, String(process.pid)], { stdio: "ignore" });
  return result.status === 0
    ? `load generator on core ${LOAD_CORE}, servers on core ${SERVER_CORE} (taskset)`
    : "not pinned: taskset failed";
}

/** A daemon's binary: /usr/sbin is not on every user's PATH. */
export function sbin(name: string): string {
  const file = path.join("/usr/sbin", name);
  return existsSync(file) ? file : name;
}

export interface Server {
  name: string;
  child: ChildProcess;
  pid: number;
  /** The last lines it printed (for errors at start-up). */
  output: string[];
}

const running = new Set<Server>();

/**
 * Starts `command args` on SERVER_CORE. taskset execs the command, so the
 * child's pid is the server's own: the root of the tree whose CPU is counted,
 * and the pid it is stopped by.
 */
export function startProcess(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Server {
  const [file, argv] = hasTaskset ? ["taskset", ["-c", SERVER_CORE, command, ...args]] : [command, args];
  const child = spawn(file, argv, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  const server: Server = { name, child, pid: child.pid, output: [] };
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on("data", (chunk: Buffer) => {
      server.output.push(...chunk.toString().split("\n").filter(Boolean));
      if (server.output.length > 200) server.output.splice(0, server.output.length - 200);
    });
  }
  child.once("error", (error) => server.output.push(`${name}: ${error.message}`));
  running.add(server);
  child.once("exit", () => running.delete(server));
  return server;
}

/** One of the Node servers: `node [nodeArgs] <script>` with `env` added to this process's environment. */
export function startServer(
  name: string,
  script: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Server {
  return startProcess(name, process.execPath, [...nodeArgs, script], env);
}

export const exited = (server: Server) => server.child.exitCode !== null || server.child.signalCode !== null;

/** Waits until `ready()` is true, at most `ms`; fails at once if the server exits. */
export async function waitUntil(server: Server, what: string, ready: () => Promise<boolean>, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (exited(server)) throw new Error(`${server.name} exited:\n${server.output.join("\n")}`);
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${server.name}: ${what} not within ${ms / 1000} s:\n${server.output.join("\n")}`);
}

/** Waits until `url` answers (any HTTP status below 500), at most 30 s. */
export function waitFor(url: string, server: Server): Promise<void> {
  return waitUntil(server, `no answer from ${url}`, async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.status < 500;
  });
}

/**
 * SIGTERM, SIGKILL after 5 s. The Node servers exit cleanly on SIGTERM (which
 * also writes a --cpu-prof profile); nginx's and Apache's masters stop their
 * workers; Redis shuts down.
 */
export function stopServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const { child } = server;
    if (exited(server)) return resolve();
    const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map(stopServer));
}

/** A port nothing listens on right now (the run's ports never collide with another run's). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no free port")),
      );
    });
  });
}

// ---------------------------------------------------------------------------
// /proc
// ---------------------------------------------------------------------------

/** Microseconds per clock tick of /proc/<pid>/stat (CLK_TCK, 100 on Linux). */
const clockTick = (() => {
  const answer = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const ticks = Number(answer.stdout?.trim());
  return 1e6 / (Number.isInteger(ticks) && ticks > 0 ? ticks : 100);
})();

/** Fields of /proc/<pid>/stat after the command name, which may hold spaces and parentheses. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined; // gone
  }
}

/** CPU time (user + system, all threads) a process has used so far, in microseconds. */
export function cpuMicros(pid: number): number {
  const fields = statFields(pid);
  // Fields 14 (utime) and 15 (stime) of proc(5); here field 3 is index 0.
  return fields ? (Number(fields[11]) + Number(fields[12])) * clockTick : 0;
}

/**
 * `pid` and every descendant: nginx's master and workers, Apache's parent and
 * its child. Walks the ppid of every process in /proc, which works on any
 * kernel (the task/<tid>/children files need CONFIG_PROC_CHILDREN).
 */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = Number(statFields(Number(entry))?.[1]);
    if (!Number.isInteger(ppid)) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const tree: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

/** CPU time of each process of the tree under `pid`, by pid (a child that starts later counts from 0). */
export function treeCpu(pid: number): Map<number, number> {
  return new Map(processTree(pid).map((p) => [p, cpuMicros(p)]));
}

/** CPU microseconds the tree used between two `treeCpu` samples. */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, micros] of after) total += micros - (before.get(pid) ?? 0);
  return total;
}

/** Resident memory of a process, in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  try {
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? Number.NaN : Number(kb) * 1024;
  } catch {
    return Number.NaN;
  }
}
