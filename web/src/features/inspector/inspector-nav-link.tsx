import { useSession } from "@oidc-bff/client/react-query";
import { NavLink } from "react-router";

import { useFlowLog } from "./api.ts";

/**
 * The navigation entry, shown only while the BFF runs its flow inspector and
 * has a log for this browser: its session's, or the one it just logged out of.
 */
export function InspectorNavLink() {
  const session = useSession();
  const log = useFlowLog(session.data);
  if (log.data === undefined || typeof log.data === "string") return null;
  return (
    <li>
      <NavLink to="/inspector">Inspector</NavLink>
    </li>
  );
}
