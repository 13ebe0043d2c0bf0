/**
 * Thin TanStack Query hooks over the BFF client. Put one client in context
 * with `<BffClientProvider client={...}>` (optional: without it the hooks use
 * a same-origin client that turns a 401 into a new login).
 *
 * @example
 * function Contacts() {
 *   const session = useSession();
 *   const client = useBffClient();
 *   const contacts = useQuery({
 *     ...apiQuery<Contact[]>(client, "/api/contacts"),
 *     enabled: session.data?.authenticated === true,
 *   });
 * }
 */
import type { SessionView } from "@oidc-bff/shared";
import {
  type MutationFunction,
  type QueryClient,
  queryOptions,
  useMutation,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";
import { createContext, createElement, type ReactNode, useContext, useEffect, useRef } from "react";

import { type BffClient, createBffClient, RELOGIN_PAUSE_MS } from "./bff-client.ts";
import { isUnauthenticated } from "./bff-error.ts";
import type { LoginOptions } from "./login-url.ts";

let defaultClient: BffClient | undefined;
const BffClientContext = createContext<BffClient | undefined>(undefined);

export function BffClientProvider(props: { client: BffClient; children?: ReactNode }) {
  return createElement(BffClientContext.Provider, { value: props.client }, props.children);
}

/** The client in context, else a same-origin one (created on first use, so importing this file has no effects). */
export function useBffClient(): BffClient {
  const client = useContext(BffClientContext);
  if (client) return client;
  defaultClient ??= createBffClient();
  return defaultClient;
}

/** Every query key of the BFF's own data starts with this, so a logout can drop them all at once. */
export const SESSION_QUERY_KEY = ["bff", "session"] as const;

export function sessionQuery(client: BffClient) {
  return queryOptions<SessionView>({
    queryKey: SESSION_QUERY_KEY,
    queryFn: () => client.getSession(),
    staleTime: 30_000,
  });
}

/** The BFF's view of the login, from one cached query shared by every component. */
export function useSession() {
  return useQuery(sessionQuery(useBffClient()));
}

/**
 * Starts a login: `login()` comes back to the page the person is on, `login("/contacts",
 * { scopes: ["contacts:write"] })` elsewhere or with more access. A full page navigation,
 * not a fetch: the BFF answers with a redirect to the provider.
 */
export function useLogin(): (returnTo?: string, options?: LoginOptions) => void {
  const client = useBffClient();
  return (returnTo, options) => client.login(returnTo, options);
}

/** What RequireLogin last sent the browser to log in for, and when, in this tab. */
const REQUIRED_LOGIN_KEY = "oidc-bff:required-login";

/** sessionStorage, when the browser allows it (it may not: private modes, blocked storage). */
const tabMemory = {
  read(): { at: number; need: string } | undefined {
    try {
      const value: unknown = JSON.parse(globalThis.sessionStorage?.getItem(REQUIRED_LOGIN_KEY) ?? "null");
      const entry = value as { at?: unknown; need?: unknown } | null;
      return typeof entry?.at === "number" && typeof entry.need === "string"
        ? { at: entry.at, need: entry.need }
        : undefined;
    } catch {
      return undefined;
    }
  },
  write(need: string) {
    try {
      globalThis.sessionStorage?.setItem(REQUIRED_LOGIN_KEY, JSON.stringify({ at: Date.now(), need }));
    } catch {
      // Without storage the guard holds for this page only (the ref below).
    }
  },
  forget() {
    try {
      globalThis.sessionStorage?.removeItem(REQUIRED_LOGIN_KEY);
    } catch {
      // Nothing to forget.
    }
  },
};

/**
 * A page that needs a login, for any router: its children are rendered only for a logged-in
 * person whose session holds `scopes` (if given); anyone else is sent to log in, or to allow
 * the missing scopes (incremental authorization), and comes back to this page. `fallback` is
 * shown meanwhile. With React Router:
 * `<Route path="/account" element={<RequireLogin><Account /></RequireLogin>} />`.
 *
 * Not twice for the same need within RELOGIN_PAUSE_MS: a login that came back without the
 * session (the browser dropped the cookie) or without the scope (the provider did not grant
 * it) would only loop; that is thrown instead, for the app's error boundary. A need that is
 * met is forgotten, so a later logout or another scope starts afresh.
 */
export function RequireLogin(props: {
  children?: ReactNode;
  fallback?: ReactNode;
  scopes?: readonly string[];
}): ReactNode {
  const session = useSession();
  const login = useLogin();
  const view = session.data;
  const missing = view?.authenticated
    ? (props.scopes ?? []).filter((scope) => !view.scopes.includes(scope))
    : [];
  const needsLogin = view !== undefined && (!view.authenticated || missing.length > 0);
  // What this page needs: a session, and which scopes it lacks.
  const need = view?.authenticated ? missing.join(" ") : "session";
  // This page already sent the browser off: it is leaving, not looping.
  const leaving = useRef(false);
  const last = tabMemory.read();
  const looping =
    needsLogin && !leaving.current && last?.need === need && Date.now() - last.at < RELOGIN_PAUSE_MS;

  useEffect(() => {
    if (view !== undefined && !needsLogin) tabMemory.forget();
    if (!needsLogin || looping || leaving.current) return;
    leaving.current = true;
    tabMemory.write(need);
    login(undefined, missing.length > 0 ? { scopes: need.split(" ") } : {});
  }, [view, needsLogin, looping, need, login, missing.length]);

  if (session.isError) throw session.error;
  if (looping) {
    throw new Error(
      missing.length > 0
        ? `The login did not grant ${missing.join(", ")}.`
        : "The login did not hold: the browser came back without a session.",
    );
  }
  if (!view || needsLogin) return props.fallback ?? null;
  return props.children ?? null;
}

/**
 * Ends the session at the BFF and at the provider. The cache is cleared first:
 * nothing of this session (data, claims) may outlive it in memory.
 */
export function useLogout() {
  const client = useBffClient();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => client.endSession(),
    onSuccess: ({ redirectTo }) => {
      queryClient.clear();
      window.location.assign(redirectTo);
    },
    onError: (error) => {
      // The session had already ended at the BFF: there is nothing left to log out of.
      if (isUnauthenticated(error)) {
        queryClient.clear();
        window.location.assign("/");
      }
    },
  });
}

/**
 * Query options for a GET on the BFF's proxy, keyed by its path:
 * `useQuery({ ...apiQuery<Contact[]>(client, "/api/contacts"), enabled })`.
 */
export function apiQuery<T>(client: BffClient, path: string) {
  return queryOptions<T>({ queryKey: apiQueryKey(path), queryFn: () => client.fetchJson<T>(path) });
}

/** The query key `apiQuery(path)` uses, to invalidate it after a change. */
export function apiQueryKey(path: string): readonly ["api", string] {
  return ["api", path];
}

/**
 * A mutation function for a change through the proxy. `request` turns the
 * mutation's variables into the call: `apiMutation(client, (c: NewContact) =>
 * ({ method: "POST", path: "/api/contacts", body: c }))`.
 */
export function apiMutation<TVariables, TResult = unknown>(
  client: BffClient,
  request: (variables: TVariables) => { method: string; path: string; body?: unknown },
): MutationFunction<TResult, TVariables> {
  return (variables) => {
    const { method, path, body } = request(variables);
    return client.fetchJson<TResult>(path, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  };
}

/**
 * For QueryCache/MutationCache `onError`: a 401 from any call means the BFF
 * session is gone, so the cached session view is refetched and the page stops
 * offering "Log out" for a session that no longer exists.
 */
export function refetchSessionOn401(queryClient: QueryClient): (error: unknown) => void {
  return (error) => {
    if (isUnauthenticated(error)) void queryClient.invalidateQueries({ queryKey: SESSION_QUERY_KEY });
  };
}
