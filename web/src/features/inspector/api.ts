import { useBffClient } from "@oidc-bff/client/react-query";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { getFlowLog, INSPECTOR_PATH } from "../../lib/bff-client.ts";
import type { FlowLogView } from "./types.ts";

/** Under the BFF's own keys, so that logging out drops it with the rest of the session's data. */
export const FLOW_LOG_QUERY_KEY = ["bff", "inspector"] as const;

/**
 * The session's protocol log, or `null` when the BFF has no inspector. Only
 * asked for once the person is logged in (without a session it is a 401).
 */
export function useFlowLog(enabled: boolean, options: { refetchOnMount?: "always" } = {}) {
  const client = useBffClient();
  return useQuery({
    queryKey: FLOW_LOG_QUERY_KEY,
    queryFn: () => getFlowLog<FlowLogView>(client),
    enabled,
    ...options,
  });
}

/** Empties the session's log (DELETE /bff/inspector): new steps start from here. */
export function useClearFlowLog() {
  const client = useBffClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => client.fetchJson<void>(INSPECTOR_PATH, { method: "DELETE" }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: FLOW_LOG_QUERY_KEY }),
  });
}
