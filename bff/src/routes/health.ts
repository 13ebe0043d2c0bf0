/**
 * GET /bff/health: whether this replica can serve every request, for a balancer's
 * readiness check and for operators. 200 when the session store answers; 503 with
 * Retry-After when it does not (the replica still serves what it can without it:
 * docs/decisions/016). Also 503 while ended-session records still wait here for the store (the
 * store may answer again, but until they are written the other replicas do not know of those
 * logouts: not yet healthy). It says nothing about any session and needs no cookie.
 */
import { Hono } from "hono";

import { BffError } from "../errors.ts";
import type { BffServices } from "../services.ts";

export const HEALTH_ROUTE = "/bff/health";

/** A lookup no session can match: one real round trip to the store. */
const PROBE = { sid: "health-probe", sub: "health-probe", createdAt: 0 };

export function healthRoutes({ store, ended }: BffServices): Hono {
  const routes = new Hono();
  routes.get(HEALTH_ROUTE, async (c) => {
    c.header("cache-control", "no-store");
    try {
      await store.isEnded(PROBE);
    } catch (error) {
      throw new BffError("session_store_unavailable", "The session store cannot be reached.", {
        cause: error,
      });
    }
    if (ended.pending() > 0) {
      throw new BffError(
        "session_store_unavailable",
        "Ended sessions are waiting to be written to the session store.",
      );
    }
    return c.json({ status: "ok" });
  });
  return routes;
}
