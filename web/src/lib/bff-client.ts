/**
 * The SPA's one BFF client (from @oidc-bff/client, the same package any other
 * front end uses). A 401 is thrown rather than turned into an immediate new
 * login: the pages explain that the session ended and keep what the person
 * typed on screen until they choose "Log in again".
 */
import { type BffClient, BffError, createBffClient } from "@oidc-bff/client";
import { FLOW_INSPECTOR_ROUTE, type FlowLogView } from "@oidc-bff/shared";

export const bff = createBffClient({ onSessionEnded: "throw" });

/**
 * The protocol log from the BFF's flow inspector (development only): the
 * current session's, or the one this browser just logged out of. `null` when
 * the BFF runs without the inspector: a 404 is an answer here, not an error.
 */
export async function getFlowLog(client: BffClient = bff): Promise<FlowLogView | null> {
  try {
    return await client.fetchJson<FlowLogView>(FLOW_INSPECTOR_ROUTE);
  } catch (error) {
    if (error instanceof BffError && error.status === 404) return null;
    throw error;
  }
}
