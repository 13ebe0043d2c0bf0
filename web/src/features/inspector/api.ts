import { isUnauthenticated } from "@oidc-bff/client";
import { useBffClient } from "@oidc-bff/client/react-query";
import { FLOW_INSPECTOR_ROUTE, type FlowLogView, type SessionView } from "@oidc-bff/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { getFlowLog } from "../../lib/bff-client.ts";

/** Under the BFF's own keys, so that logging out drops it with the rest of the session's data. */
export const FLOW_LOG_QUERY_KEY = ["bff", "inspector"] as const;

/**
 * What the Inspector can show: a log (the live session's, or the one this
 * browser logged out of lately), `"off"` when the BFF runs without the
 * inspector, `"none"` when there is no session and no recent logout.
 */
export type FlowLogAnswer = FlowLogView | "off" | "none";

/**
 * The protocol log, once the session is known. Without a session it is still
 * asked for: after a logout the BFF lets this browser read the ended session's
 * log for a few minutes, and only then shows the logout's own steps.
 */
export function useFlowLog(session: SessionView | undefined, options: { refetchOnMount?: "always" } = {}) {
  const client = useBffClient();
  const authenticated = session?.authenticated;
  return useQuery({
    queryKey: [...FLOW_LOG_QUERY_KEY, authenticated ? "current" : "ended"],
    queryFn: async (): Promise<FlowLogAnswer> => {
      try {
        return (await getFlowLog(client)) ?? "off";
      } catch (error) {
        // Without a session a 401 is the expected answer, not a session that just ended.
        if (!authenticated && isUnauthenticated(error)) return "none";
        throw error;
      }
    },
    enabled: session !== undefined,
    ...options,
  });
}

/** Empties the session's log (DELETE /bff/inspector): new steps start from here. */
export function useClearFlowLog() {
  const client = useBffClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => client.fetchJson<void>(FLOW_INSPECTOR_ROUTE, { method: "DELETE" }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: FLOW_LOG_QUERY_KEY }),
  });
}
