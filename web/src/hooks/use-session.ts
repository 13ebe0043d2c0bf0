import { useQuery } from "@tanstack/react-query";
import { getSession } from "../lib/bff-client.ts";

export const SESSION_QUERY_KEY = ["session"] as const;

/** The BFF's view of the login. Every page and the header read it from the one cached query. */
export function useSession() {
  return useQuery({ queryKey: SESSION_QUERY_KEY, queryFn: getSession, staleTime: 30_000 });
}
