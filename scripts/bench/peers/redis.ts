/**
 * redis-server for the BFF's shared session store (BFF_REDIS_URL): its own
 * redis.conf in a directory of the run, on 127.0.0.1, in the foreground, with
 * what a production BFF asks of it: an append-only file (appendonly yes, the
 * default fsync every second) and no RDB snapshots, so the BFF's safety check
 * passes without BFF_DANGEROUSLY_ALLOW_REDIS_WITHOUT_PERSISTENCE.
 */
import { writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import path from "node:path";

import { type Server, startProcess, waitUntil } from "../processes.ts";

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => socket.write("PING\r\n"));
    socket.once("data", (data) => {
      socket.destroy();
      resolve(data.toString().startsWith("+PONG"));
    });
    socket.once("error", () => resolve(false));
  });
}

export async function startRedis(dir: string, port: number): Promise<Server> {
  const conf = path.join(dir, "redis.conf");
  writeFileSync(
    conf,
    [
      "# The benchmark's Redis: written by scripts/bench/peers/redis.ts.",
      "bind 127.0.0.1",
      `port ${port}`,
      "protected-mode yes",
      "daemonize no",
      `dir ${dir}`,
      `logfile ${path.join(dir, "redis.log")}`,
      'save ""',
      "appendonly yes",
      "",
    ].join("\n"),
  );
  const redis = startProcess("redis", process.env.REDIS_SERVER_PATH ?? "redis-server", [conf]);
  await waitUntil(redis, "no PONG", () => ping(port));
  return redis;
}
