import { MutationCache, QueryCache, QueryClient } from "@tanstack/react-query";
import { SESSION_QUERY_KEY } from "../hooks/use-session.ts";
import { isUnauthenticated, shouldRetry } from "../lib/errors.ts";

/**
 * One cache for the app. A 401 from any call means the BFF session is gone,
 * so the cached session view is refreshed and the header stops offering
 * "Log out" for a session that no longer exists.
 */
export function createQueryClient(): QueryClient {
  const refreshSessionOn401 = (error: unknown) => {
    if (isUnauthenticated(error)) void client.invalidateQueries({ queryKey: SESSION_QUERY_KEY });
  };
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({
      onError: (error, query) => {
        // The session query itself never answers 401 (anonymous is a 200).
        if (query.queryKey[0] !== SESSION_QUERY_KEY[0]) refreshSessionOn401(error);
      },
    }),
    mutationCache: new MutationCache({ onError: refreshSessionOn401 }),
    defaultOptions: {
      queries: { retry: shouldRetry, staleTime: 10_000 },
      mutations: { retry: false },
    },
  });
  return client;
}
