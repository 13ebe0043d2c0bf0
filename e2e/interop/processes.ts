/**
 * The processes of an interop run: a provider from Debian started by its script under
 * scripts/interop/peers/ (on 127.0.0.1, never as a system service), and this project's BFF,
 * API or IdP as real Node processes started from their server entry points with nothing but
 * documented environment variables. Everything is stopped by its own pid.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const PEERS = path.join(ROOT, "scripts", "interop", "peers");
/** Where the run's own processes write their logs (outside git). */
export const INTEROP_DATA_DIR = path.join(ROOT, ".data", "interop");

const run = promisify(execFile);
/** The peers' state (config, database, logs), rebuilt by every start. */
export const PEER_STATE_ROOT = path.join("/tmp", "oidc-peers", "interop");

export interface Peer {
  /** What its start script printed: the issuer, or the relying party's protected URL. */
  url: string;
  /** The peer's state directory (its log files are there). */
  stateDir: string;
  stop(): Promise<void>;
}

/**
 * Runs `scripts/interop/peers/<name>/start.sh`: it installs the Debian packages when missing
 * (a first run on a fresh machine takes longer), builds fresh state and starts the peer.
 */
export async function startPeer(
  name: string,
  env: Record<string, string>,
  stateVariable: string,
): Promise<Peer> {
  const stateDir = path.join(PEER_STATE_ROOT, name);
  const allEnv = { ...process.env, ...env, [stateVariable]: stateDir };
  const script = path.join(PEERS, name, "start.sh");
  try {
    const { stdout } = await run("bash", [script], { env: allEnv, timeout: 240_000, maxBuffer: 16 << 20 });
    return {
      url: stdout.trim().split("\n").at(-1) ?? "",
      stateDir,
      stop: async () => {
        await run("bash", [path.join(PEERS, name, "stop.sh")], { env: allEnv, timeout: 30_000 });
      },
    };
  } catch (error) {
    const { stderr = "" } = error as { stderr?: string };
    throw new Error(`${name}: start.sh failed: ${stderr.trim().split("\n").slice(-8).join(" | ")}`);
  }
}

export interface NodeProcess {
  /** Every line it printed so far. */
  output(): string[];
  stop(): Promise<void>;
}

/** Starts `node <entry>` with `env` and waits until `readyUrl` answers with anything below 500. */
export async function startNode(
  name: string,
  entry: string,
  env: Record<string, string>,
  readyUrl: string,
): Promise<NodeProcess> {
  mkdirSync(INTEROP_DATA_DIR, { recursive: true });
  const logFile = path.join(INTEROP_DATA_DIR, `${name}.log`);
  writeFileSync(logFile, "");
  const lines: string[] = [];
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, entry)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NODE_ENV: "test", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n").filter(Boolean)) {
        lines.push(line);
        appendFileSync(logFile, `${line}\n`);
      }
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const stop = async () => {
    if (child.exitCode !== null || child.pid === undefined) return;
    process.kill(child.pid, "SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    if (child.exitCode === null) process.kill(child.pid, "SIGKILL");
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(readyUrl)).status < 500) return { output: () => lines, stop };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stop();
  throw new Error(`${name} did not start: ${lines.slice(-8).join(" | ")}`);
}

/** A fresh directory for one process's data. */
export function freshDir(name: string): string {
  const dir = path.join(INTEROP_DATA_DIR, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Reads a peer's log file, empty when it is not there yet. */
export function readLog(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
