import { useSession } from "@oidc-bff/client/react-query";
import { NavLink } from "react-router";

import { useFlowLog } from "./api.ts";

/** The navigation entry, shown only while the BFF runs its flow inspector and a session exists. */
export function InspectorNavLink() {
  const session = useSession();
  const log = useFlowLog(session.data?.authenticated === true);
  if (!log.data) return null;
  return (
    <li>
      <NavLink to="/inspector">Inspector</NavLink>
    </li>
  );
}
