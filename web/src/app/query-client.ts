import { refetchSessionOn401, SESSION_QUERY_KEY } from "@oidc-bff/client/react-query";
import { MutationCache, QueryCache, QueryClient } from "@tanstack/react-query";
import { shouldRetry } from "../lib/errors.ts";

/**
 * One cache for the app. A 401 from any call means the BFF session is gone,
 * so the cached session view is refetched and the header stops offering
 * "Log out" for a session that no longer exists.
 */
export function createQueryClient(): QueryClient {
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({
      onError: (error, query) => {
        // The session query itself never answers 401 (anonymous is a 200).
        if (query.queryKey[0] !== SESSION_QUERY_KEY[0]) onUnauthenticated(error);
      },
    }),
    mutationCache: new MutationCache({ onError: (error) => onUnauthenticated(error) }),
    defaultOptions: {
      queries: { retry: shouldRetry, staleTime: 10_000 },
      mutations: { retry: false },
    },
  });
  const onUnauthenticated = refetchSessionOn401(client);
  return client;
}
