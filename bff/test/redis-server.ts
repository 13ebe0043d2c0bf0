/**
 * A real, throwaway Redis for tests: Debian's `redis-server` on a free
 * loopback port, stopped when the test is done. By default nothing is saved to
 * disk; with `appendOnlyDir` it runs as docs/operations.md asks of production
 * (an append-only file, fsync on every write), so a restart keeps its data.
 * `./run test` (and so CI) installs redis-server when it is missing.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

export interface TestRedis {
  url: string;
  /** The server's process id, for tests that send it signals themselves. */
  pid(): number | undefined;
  /** Kills the server (SIGKILL: an outage, a crash); `start` brings it back on the same port. */
  stop(): Promise<void>;
  /** Starts it again: empty, or with what its append-only file kept. */
  start(): Promise<void>;
}

export interface TestRedisOptions {
  /** Persist to an append-only file in this directory (appendfsync always). Default: no persistence. */
  appendOnlyDir?: string;
}

const REDIS_SERVER = process.env.REDIS_SERVER_PATH ?? "redis-server";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export async function startRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = () =>
    new Promise<void>((resolve, reject) => {
      const persistence = options.appendOnlyDir
        ? ["--dir", options.appendOnlyDir, "--appendonly", "yes", "--appendfsync", "always"]
        : ["--appendonly", "no"];
      const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...persistence];
      const started = spawn(REDIS_SERVER, args, { stdio: ["ignore", "pipe", "pipe"] });
      child = started;
      let output = "";
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
      started.once("error", (error) => {
        clearTimeout(timer);
        reject(new Error(`cannot run ${REDIS_SERVER} (install Debian's redis-server): ${error.message}`));
      });
      started.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });

  const stop = () =>
    new Promise<void>((resolve) => {
      if (!child || child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });

  await start();
  return { url: `redis://127.0.0.1:${port}`, pid: () => child?.pid, stop, start };
}
