/**
 * GET /bff/inspector: the current session's protocol log (flow-log.ts), for
 * the SPA's Inspector page. DELETE clears it. Mounted only when the inspector
 * is on (development and tests); otherwise the route does not exist (404).
 *
 * Same rules as the BFF's other script-only routes: the anti-CSRF header and a
 * same-origin request (csrf.ts), and the session cookie. A person only ever
 * sees the log of the session their own cookie carries.
 */
import { Hono } from "hono";

import { requireSameOriginScript } from "../csrf.ts";
import { BffError } from "../errors.ts";
import type { BffServices } from "../services.ts";

export const INSPECTOR_ROUTE = "/bff/inspector";

export function inspectorRoutes({ config, sessions, flow }: BffServices): Hono {
  const routes = new Hono();
  const sameOrigin = requireSameOriginScript(config.ownOrigin);

  routes.get(INSPECTOR_ROUTE, sameOrigin, async (c) => {
    c.header("cache-control", "no-store");
    const session = await sessions.require(c);
    return c.json(flow.view(session.sid));
  });

  routes.delete(INSPECTOR_ROUTE, sameOrigin, async (c) => {
    c.header("cache-control", "no-store");
    const session = await sessions.require(c);
    flow.clear(session.sid);
    return c.body(null, 204);
  });

  routes.all(INSPECTOR_ROUTE, () => {
    throw new BffError("method_not_allowed", "This route does not support this method.", {
      allow: ["GET", "DELETE"],
    });
  });

  return routes;
}
