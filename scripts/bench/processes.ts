/**
 * The benchmark's servers: each one its own Node process, pinned to one core
 * (the load generator runs on another), started with its environment, watched
 * for an early exit, and stopped at the end whatever happens.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Cores: servers on SERVER_CORE, the load generator (this process) on LOAD_CORE. */
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

export interface Server {
  name: string;
  child: ChildProcess;
  pid: number;
  /** The last lines it printed (for errors at start-up). */
  output: string[];
}

const running = new Set<Server>();

export function startServer(
  name: string,
  script: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Server {
  const args = [...nodeArgs, script];
  // taskset execs node: the child's pid is node's own, the one whose CPU time /proc reports.
  const child = hasTaskset
    ? spawn("taskset", ["-c", SERVER_CORE, process.execPath, ...args], {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      })
    : spawn(process.execPath, args, {
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
  running.add(server);
  child.once("exit", () => running.delete(server));
  return server;
}

/** Waits until `url` answers (any HTTP status below 500), at most 30 s. */
export async function waitFor(url: string, server: Server): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`${server.name} exited:\n${server.output.join("\n")}`);
    }
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${server.name} did not answer ${url} within 30 s:\n${server.output.join("\n")}`);
}

/** SIGTERM (the servers exit cleanly, which also writes a --cpu-prof profile), SIGKILL after 5 s. */
export function stopServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const { child } = server;
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
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

/** Microseconds per clock tick of /proc/<pid>/stat (CLK_TCK, 100 on Linux). */
const clockTick = (() => {
  const answer = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const ticks = Number(answer.stdout?.trim());
  return 1e6 / (Number.isInteger(ticks) && ticks > 0 ? ticks : 100);
})();

/** CPU time (user + system) a process has used so far, in microseconds. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces: count from the closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 (utime) and 15 (stime) of proc(5); here field 3 is index 0.
  return (Number(fields[11]) + Number(fields[12])) * clockTick;
}
