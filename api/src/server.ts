/**
 * Runs the API as a server: `node api/src/server.ts`.
 * The only place that reads the environment (see env.ts for the variables).
 */
import { fileURLToPath } from "node:url";

import { serve } from "@hono/node-server";

import { createApi } from "./app.ts";
import { apiSettingsFromEnvironment } from "./env.ts";
import { ApiError } from "./errors.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

function fail(error: unknown): never {
  // Configuration problems are expected: say what is wrong, without a stack trace.
  console.error(error instanceof ApiError ? error.message : error);
  process.exit(1);
}

let api: ReturnType<typeof createApi>;
let settings: ReturnType<typeof apiSettingsFromEnvironment>;
try {
  settings = apiSettingsFromEnvironment(process.env, repoRoot);
  api = createApi(settings.config);
} catch (error) {
  fail(error);
}

const { app } = api;
// One line per request, unless API_ACCESS_LOG=off.
const { accessLog } = settings;

const server = serve(
  {
    hostname: settings.host,
    port: settings.port,
    // One line per request. The path only: no query string, no headers, so never a token.
    fetch: async (request) => {
      const started = performance.now();
      const response = await app.fetch(request);
      const ms = Math.round(performance.now() - started);
      if (accessLog)
        console.log(`api ${request.method} ${new URL(request.url).pathname} ${response.status} ${ms}ms`);
      return response;
    },
  },
  (info) => {
    const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
    console.log(`api listening on http://${host}:${info.port}`);
  },
);
server.on("error", (error) => fail(error));

let stopping = false;
function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`api: ${signal} received, stopping`);
  server.close(() => {
    api.close();
    process.exit(0);
  });
  // Keep-alive connections would otherwise hold the server open.
  if ("closeAllConnections" in server) server.closeAllConnections();
}
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
