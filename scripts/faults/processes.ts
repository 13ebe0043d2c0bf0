/**
 * The real processes of the fault suite, each started from its own environment
 * and stopped by its pid: Debian's redis-server, the embedded IdP, the API and
 * the BFF replicas. Faults are signals sent to these pids (SIGKILL, SIGSTOP,
 * SIGCONT); nothing in the code under test is told about them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

import { ROOT } from "../system.ts";

export interface Managed {
  readonly name: string;
  pid(): number | undefined;
  /** Starts the process (again) and waits until it answers. */
  start(): Promise<void>;
  /** Sends a signal to the running process (SIGKILL, SIGSTOP, SIGCONT, SIGTERM). */
  signal(signal: NodeJS.Signals): void;
  /** Kills it (SIGKILL) and waits until it is gone. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
  /** Everything it printed, for the report when something goes wrong. */
  output(): string;
}

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

/** Waits until `ready()` is true, or fails after `ms`. */
export async function waitUntil(what: string, ready: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} was not ready within ${ms / 1000} s`);
}

const answers = (url: string) => async () =>
  (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status < 500;

function managed(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  ready: () => Promise<boolean>,
): Managed {
  let child: ChildProcess | undefined;
  let output = "";
  const gone = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
  const exited = (c: ChildProcess) =>
    new Promise<void>((resolve) => (gone(c) ? resolve() : c.once("exit", () => resolve())));

  return {
    name,
    pid: () => (child && !gone(child) ? child.pid : undefined),
    async start() {
      if (child && !gone(child)) throw new Error(`${name} is already running`);
      child = spawn(command, args, {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      for (const stream of [child.stdout, child.stderr]) {
        stream?.on("data", (chunk: Buffer) => {
          // The last 200 KB is plenty to explain a failure.
          output = (output + chunk.toString()).slice(-200_000);
        });
      }
      await waitUntil(name, ready);
    },
    signal(signal) {
      if (child && !gone(child)) child.kill(signal);
    },
    async kill() {
      if (!child || gone(child)) return;
      const done = exited(child);
      child.kill("SIGKILL");
      await done;
    },
    async stop() {
      if (!child || gone(child)) return;
      const running = child;
      const done = exited(running);
      running.kill("SIGCONT"); // a stopped process cannot act on SIGTERM
      running.kill("SIGTERM");
      const timer = setTimeout(() => running.kill("SIGKILL"), 5_000);
      await done;
      clearTimeout(timer);
    },
    output: () => output,
  };
}

/** Debian's redis-server on `port`, persisting as docs/operations.md asks: appendonly, fsync always. */
export function redisServer(port: number, dir: string): Managed {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""];
  args.push("--appendonly", "yes", "--appendfsync", "always");
  const ready = async () => {
    const { createConnection } = await import("node:net");
    return new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: "127.0.0.1", port }, () => socket.write("PING\r\n"));
      socket.once("data", (data) => {
        socket.destroy();
        resolve(data.toString().startsWith("+PONG"));
      });
      socket.once("error", () => resolve(false));
    });
  };
  return managed("redis", process.env.REDIS_SERVER_PATH ?? "redis-server", args, {}, ready);
}

/** One of the system's Node servers (idp, api, bff): `node <folder>/src/server.ts`. */
export function nodeServer(
  name: string,
  folder: "idp" | "api" | "bff",
  env: Record<string, string>,
  readyUrl: string,
): Managed {
  return managed(name, process.execPath, [`${folder}/src/server.ts`], env, answers(readyUrl));
}
