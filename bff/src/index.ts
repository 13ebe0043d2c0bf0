/**
 * The BFF as a library: mount `createBff(config)` in any Hono app, or call its
 * `fetch` from any server that speaks the Fetch API.
 */
export { type Bff, type BffDeps, createBff } from "./app.ts";
export {
  type ApiRoute,
  type BffConfig,
  type BffMode,
  DEFAULT_SCOPES,
  type MapUserClaims,
  validateConfig,
} from "./config.ts";
export { BffError, type BffErrorCode } from "./errors.ts";
export { type BffLogger, consoleLogger, silentLogger } from "./logger.ts";
export type { OwnRouteHelpers } from "./own-routes.ts";
export { createNodeListener } from "./proxy/node-listener.ts";
export { LOGIN_COOKIE, SESSION_COOKIE } from "./session/cookies.ts";
export {
  checkRedisSafety,
  type RedisPersistence,
  RedisSessionStore,
  type RedisSessionStoreOptions,
} from "./session/redis-store.ts";
export { SqliteSessionStore } from "./session/sqlite-store.ts";
export { MemorySessionStore, type SessionIdentity, type SessionStore } from "./session/store.ts";
