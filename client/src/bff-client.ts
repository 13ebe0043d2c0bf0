/**
 * The browser's only door to the server: `/bff/*` and the BFF's proxy
 * `/api/*`, same origin, cookies only. No framework here: any front end can
 * use it, and tests run it against a real BFF.
 *
 * @example
 * const bff = createBffClient();
 * const session = await bff.getSession();
 * if (!session.authenticated) bff.login(); // leaves the page for the provider
 * const contacts = await bff.fetchJson<Contact[]>("/api/contacts");
 */
import { BFF_ROUTES, CSRF_HEADER, CSRF_HEADER_VALUE, type SessionView } from "@oidc-bff/shared";

import { BffError, errorFrom, genericProblem } from "./bff-error.ts";
import { type LoginOptions, loginUrl } from "./login-url.ts";

export interface BffClientOptions {
  /** Prefix for every path. Empty in the browser (same origin); an absolute origin in tests. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /**
   * What a 401 from `/api/*` does. "login" (default): leave for a new login
   * that comes back to the current page; the call's promise never settles.
   * "throw": reject with the BffError and let the page explain (e.g. keep a
   * half-filled form on screen and offer "Log in again").
   */
  onSessionEnded?: "login" | "throw";
  /** How the client leaves the page. Default: `window.location.assign`. */
  navigate?: (url: string) => void;
  /** The page to come back to after a login. Default: the current path and query. */
  currentPage?: () => string;
  /**
   * Where the time of the last automatic re-login is kept, so that a 401 that
   * a new login cannot cure does not send the browser round in a loop.
   * Default: `sessionStorage` (it survives the navigation; it holds a number only).
   */
  reloginMemory?: Pick<Storage, "getItem" | "setItem">;
  now?: () => number;
}

/** A 401 the BFF answers because its session is gone: only these are cured by logging in again. */
const SESSION_ENDED = new Set(["not_authenticated", "session_expired"]);
/** No second automatic re-login within this time: the first one did not help. */
export const RELOGIN_PAUSE_MS = 30_000;
const RELOGIN_KEY = "oidc-bff:relogin-at";

export interface BffClient {
  /** The BFF's view of the login. Anonymous is an answer (`authenticated: false`), not an error. */
  getSession(): Promise<SessionView>;
  /**
   * Calls a same-origin path (`/api/...`) with the anti-CSRF header and returns
   * its JSON, or `undefined` for an empty answer. Rejects with BffError.
   */
  fetchJson<T>(path: string, init?: RequestInit): Promise<T>;
  /** Leaves for the provider's login page; comes back to `returnTo` (default: this page). */
  login(returnTo?: string, options?: LoginOptions): void;
  /** Ends the BFF session, then leaves for the provider's end-session page. */
  logout(): Promise<void>;
  /** Only ends the BFF session and says where to go next (the provider's end-session URL). */
  endSession(): Promise<{ redirectTo: string }>;
}

function browserNavigate(url: string): void {
  window.location.assign(url);
}

function browserPage(): string {
  return `${window.location.pathname}${window.location.search}`;
}

export function createBffClient(options: BffClientOptions = {}): BffClient {
  const baseUrl = options.baseUrl ?? "";
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const navigate = options.navigate ?? browserNavigate;
  const currentPage = options.currentPage ?? browserPage;
  const onSessionEnded = options.onSessionEnded ?? "login";
  const now = options.now ?? Date.now;
  const memory =
    options.reloginMemory ?? (typeof sessionStorage === "undefined" ? undefined : sessionStorage);
  let lastRelogin = 0;

  /**
   * Whether to leave for a new login now. Not twice within RELOGIN_PAUSE_MS: if
   * the session is refused again right after a fresh login (the API refuses the
   * BFF's token, the browser drops the cookie), another round would only loop.
   */
  function mayRelogin(): boolean {
    const stored = Number(memory?.getItem(RELOGIN_KEY) ?? lastRelogin);
    if (Number.isFinite(stored) && now() - stored < RELOGIN_PAUSE_MS) return false;
    lastRelogin = now();
    memory?.setItem(RELOGIN_KEY, String(lastRelogin));
    return true;
  }

  function login(returnTo = currentPage(), loginOptions: LoginOptions = {}): void {
    navigate(`${baseUrl}${loginUrl(returnTo, loginOptions)}`);
  }

  async function fetchJson<T>(path: string, init: RequestInit = {}): Promise<T> {
    const headers = new Headers(init.headers);
    // The BFF refuses /api/* and state-changing /bff/* calls without it: a
    // cross-site form or image cannot set a custom header, so this proves the
    // request came from script on our own origin.
    headers.set(CSRF_HEADER, CSRF_HEADER_VALUE);
    headers.set("accept", "application/json");
    if (init.body !== undefined && !headers.has("content-type"))
      headers.set("content-type", "application/json");

    const response = await doFetch(`${baseUrl}${path}`, { ...init, headers, credentials: "same-origin" });
    if (!response.ok) {
      const error = await errorFrom(response);
      // Only the BFF's own "no session" answers: an API's 401 (invalid_token) passed through
      // the proxy is not cured by a new login, and would loop.
      if (
        error.status === 401 &&
        SESSION_ENDED.has(error.code) &&
        onSessionEnded === "login" &&
        path !== BFF_ROUTES.logout &&
        mayRelogin()
      ) {
        login();
        // The page is being replaced; settling would only flash an error first.
        return new Promise<T>(() => {});
      }
      throw error;
    }
    if (response.status === 204 || response.headers.get("content-length") === "0") return undefined as T;

    const text = await response.text();
    if (text === "") return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      // Typically the SPA's index.html answered instead of the BFF: a routing mistake, not data.
      throw new BffError(500, genericProblem(500, "The server answered with something that is not JSON."), {
        cause,
      });
    }
  }

  async function endSession(): Promise<{ redirectTo: string }> {
    const answer = await fetchJson<unknown>(BFF_ROUTES.logout, { method: "POST" });
    const redirectTo = (answer as { redirectTo?: unknown } | null)?.redirectTo;
    if (typeof redirectTo !== "string") {
      throw new BffError(500, genericProblem(500, "The logout answer has no redirectTo."));
    }
    return { redirectTo };
  }

  return {
    getSession: () => fetchJson<SessionView>(BFF_ROUTES.session),
    fetchJson,
    login,
    endSession,
    logout: async () => {
      const { redirectTo } = await endSession();
      navigate(redirectTo.startsWith("/") ? `${baseUrl}${redirectTo}` : redirectTo);
    },
  };
}
