/**
 * Runs the BFF as a server: `node bff/src/server.ts`. The only place that
 * reads the environment (see env.ts for the variables).
 */
import { createServer } from "node:http";

import { createBff } from "./app.ts";
import { bffSettingsFromEnvironment } from "./env.ts";
import { BffError } from "./errors.ts";
import { createNodeListener } from "./proxy/node-listener.ts";
import { checkRedisSafety, RedisSessionStore } from "./session/redis-store.ts";
import { SqliteSessionStore } from "./session/sqlite-store.ts";
import type { SessionStore } from "./session/store.ts";

function fail(error: unknown): never {
  // Configuration problems are expected: say what is wrong, without a stack trace.
  console.error(error instanceof BffError ? error.message : error);
  process.exit(1);
}

let app: ReturnType<typeof createBff>;
let settings: ReturnType<typeof bffSettingsFromEnvironment>;
let store: (SessionStore & { close(): unknown }) | undefined;
try {
  settings = bffSettingsFromEnvironment(process.env);
  if (settings.redisUrl) {
    const redis = await RedisSessionStore.connect({
      url: settings.redisUrl,
      onDataLoss: () =>
        console.error(
          "bff: ALERT: Redis at BFF_REDIS_URL came back without its data (restarted without persistence, or flushed). Logouts recorded before now are forgotten: a copy of a logged-out cookie works again until its access token expires. Run Redis with appendonly yes (docs/operations.md).",
        ),
    }).catch((cause: unknown) => {
      throw new BffError("invalid_config", `The BFF cannot reach Redis at BFF_REDIS_URL (${String(cause)}).`);
    });
    store = redis;
    // Ended sessions live in Redis only: a Redis that can lose them revives logged-out cookies.
    const safety = await checkRedisSafety(redis, {
      production: settings.config.mode === "production",
      allowWithoutPersistence: settings.allowRedisWithoutPersistence,
    });
    for (const warning of safety.warnings) console.error(`bff: WARNING: ${warning}`);
    if (safety.refusal) throw new BffError("invalid_config", safety.refusal);
  } else if (settings.sessionDbPath) {
    store = new SqliteSessionStore(settings.sessionDbPath);
  }
  app = createBff(settings.config, store ? { store } : {});
  // The BFF holds the key as a non-extractable CryptoKey now: the PEM text need not stay in memory.
  delete settings.config.clientPrivateKey;
} catch (error) {
  fail(error);
}

// One line per request, unless BFF_ACCESS_LOG=off.
const accessLog = settings.accessLog;

// /api/* is served straight from node:http (proxy/node-listener.ts); the rest by the Hono app.
const listener = createNodeListener(app);
const server = createServer((req, res) => {
  if (accessLog) {
    // One line per request: method, path (never the query, which may hold a code or a ticket), status.
    const started = performance.now();
    res.once("finish", () => {
      const ms = Math.round(performance.now() - started);
      console.log(`bff ${req.method} ${(req.url ?? "/").split("?")[0]} ${res.statusCode} ${ms}ms`);
    });
  }
  listener(req, res);
});
server.listen(settings.port, settings.host, () => {
  const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
  console.log(`bff listening on http://${host}:${settings.port}`);
});
server.on("error", (error) => fail(error));

/**
 * A wrong issuer (a missing or extra trailing slash, another tenant) should
 * stop the server now, not show up at the first person's login. Discovery
 * must name exactly the configured issuer (OpenID Connect Discovery §4.3).
 * An unreachable provider is only a warning: it may simply start later.
 */
async function checkIssuer(issuer: string): Promise<void> {
  const discovery = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  let named: unknown;
  try {
    const response = await fetch(discovery, { signal: AbortSignal.timeout(5000) });
    named = ((await response.json()) as { issuer?: unknown }).issuer;
  } catch (error) {
    console.warn(`bff: could not read ${discovery} yet (${String(error)}); logins will retry it`);
    return;
  }
  if (named !== issuer) {
    fail(
      `The provider's discovery document names the issuer ${JSON.stringify(named)}, but BFF_ISSUER is ${JSON.stringify(issuer)}. They must match exactly.`,
    );
  }
}
void checkIssuer(settings.config.issuer);

let stopping = false;
function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`bff: ${signal} received, stopping`);
  server.close(() => {
    void Promise.resolve(store?.close()).finally(() => process.exit(0));
  });
  // Keep-alive connections would otherwise hold the server open.
  server.closeAllConnections();
}
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
