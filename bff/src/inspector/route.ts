/**
 * GET /bff/inspector: the current session's protocol log (flow-log.ts), for
 * the SPA's Inspector page. DELETE clears it. Mounted only when the inspector
 * is on (development and tests); otherwise the route does not exist (404).
 *
 * Same rules as the BFF's other script-only routes: the anti-CSRF header and a
 * same-origin request (csrf.ts), and the session cookie. A person only ever
 * sees the log of the session their own cookie carries. The one exception is
 * read-only: after logging out, the browser that logged out may read the
 * ended session's log for a few minutes (ended-log-cookie.ts says why).
 */
import { FLOW_INSPECTOR_ROUTE, type FlowLogView } from "@oidc-bff/shared";
import { type Context, Hono } from "hono";

import { requireSameOriginScript } from "../csrf.ts";
import { BffError } from "../errors.ts";
import type { BffServices } from "../services.ts";
import { cookieJar } from "../session/cookies.ts";

export function inspectorRoutes({ config, sessions, flow }: BffServices): Hono {
  const routes = new Hono();
  const sameOrigin = requireSameOriginScript(config.ownOrigin);

  /** The live session's log; without one, the log of the session this browser logged out of lately. */
  async function logOf(c: Context): Promise<FlowLogView> {
    try {
      const session = await sessions.require(cookieJar(c));
      return { ...flow.view(session.sid), session: "current" };
    } catch (error) {
      if (!(error instanceof BffError && error.status === 401)) throw error;
      const ended = await flow.endedSessionOf(c);
      if (ended === undefined) throw error;
      return { ...flow.view(ended), session: "ended" };
    }
  }

  routes.get(FLOW_INSPECTOR_ROUTE, sameOrigin, async (c) => {
    c.header("cache-control", "no-store");
    return c.json(await logOf(c));
  });

  // Live sessions only: an ended session's log is read-only.
  routes.delete(FLOW_INSPECTOR_ROUTE, sameOrigin, async (c) => {
    c.header("cache-control", "no-store");
    const session = await sessions.require(cookieJar(c));
    flow.clear(session.sid);
    return c.body(null, 204);
  });

  routes.all(FLOW_INSPECTOR_ROUTE, () => {
    throw new BffError("method_not_allowed", "This route does not support this method.", {
      allow: ["GET", "DELETE"],
    });
  });

  return routes;
}
