/**
 * A real, throwaway Redis for tests: Debian's `redis-server` on a free
 * loopback port, nothing saved to disk, stopped when the test is done.
 * `./run test` (and so CI) installs redis-server when it is missing.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

export interface TestRedis {
  url: string;
  /** Stops the server (an outage); `start` brings it back on the same port, empty. */
  stop(): Promise<void>;
  start(): Promise<void>;
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

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = () =>
    new Promise<void>((resolve, reject) => {
      const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
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
  return { url: `redis://127.0.0.1:${port}`, stop, start };
}
