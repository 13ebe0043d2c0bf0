/**
 * The SPA's only door to the server: `/bff/*` and the BFF's proxy `/api/*`,
 * same origin, cookies only. No React here, so it can be tested against a
 * real HTTP server and reused by any other front end.
 *
 * @example
 * const session = await getSession();
 * if (session.authenticated) console.log(await listContacts());
 * else window.location.assign(loginUrl("/contacts"));
 */
import {
  API_PREFIX,
  BFF_ROUTES,
  type Contact,
  CSRF_HEADER,
  CSRF_HEADER_VALUE,
  isProblem,
  type NewContact,
  type Problem,
  type ProblemCode,
  type SessionView,
} from "@oidc-bff/shared";

/** Any answer that is not 2xx, with the problem details the server sent (or a generic one). */
export class BffError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(status: number, problem: Problem, options?: { cause?: unknown }) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title, options);
    this.name = "BffError";
    this.status = status;
    this.problem = problem;
  }

  get code(): ProblemCode {
    return this.problem.code;
  }
}

export interface BffClientOptions {
  /** Prefix for every path. Empty in the browser (same origin); an absolute origin in tests. */
  baseUrl?: string;
  fetch?: typeof fetch;
}

export interface BffClient {
  getSession(): Promise<SessionView>;
  /** Calls a same-origin path (e.g. `/api/contacts`) and returns its JSON, or `undefined` for an empty answer. */
  apiFetch<T>(path: string, init?: RequestInit): Promise<T>;
  listContacts(): Promise<Contact[]>;
  addContact(contact: NewContact): Promise<Contact>;
  deleteContact(id: string): Promise<void>;
  logout(): Promise<{ redirectTo: string }>;
}

export function createBffClient(options: BffClientOptions = {}): BffClient {
  const baseUrl = options.baseUrl ?? "";
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  async function apiFetch<T>(path: string, init: RequestInit = {}): Promise<T> {
    const headers = new Headers(init.headers);
    // The BFF refuses /api/* and state-changing /bff/* calls without it: a
    // cross-site form or image cannot set a custom header, so this proves the
    // request came from script on our own origin.
    headers.set(CSRF_HEADER, CSRF_HEADER_VALUE);
    headers.set("accept", "application/json");
    if (init.body !== undefined && !headers.has("content-type"))
      headers.set("content-type", "application/json");

    const response = await doFetch(`${baseUrl}${path}`, { ...init, headers, credentials: "same-origin" });
    if (!response.ok) throw await errorFrom(response);
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

  return {
    apiFetch,
    getSession: () => apiFetch<SessionView>(BFF_ROUTES.session),
    listContacts: () => apiFetch<Contact[]>(`${API_PREFIX}/contacts`),
    addContact: (contact) =>
      apiFetch<Contact>(`${API_PREFIX}/contacts`, { method: "POST", body: JSON.stringify(contact) }),
    deleteContact: async (id) => {
      await apiFetch<void>(`${API_PREFIX}/contacts/${encodeURIComponent(id)}`, { method: "DELETE" });
    },
    logout: async () => {
      const answer = await apiFetch<unknown>(BFF_ROUTES.logout, { method: "POST" });
      if (
        typeof answer !== "object" ||
        answer === null ||
        typeof (answer as { redirectTo?: unknown }).redirectTo !== "string"
      ) {
        throw new BffError(500, genericProblem(500, "The logout answer has no redirectTo."));
      }
      return { redirectTo: (answer as { redirectTo: string }).redirectTo };
    },
  };
}

async function errorFrom(response: Response): Promise<BffError> {
  const text = await response.text().catch(() => "");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // An HTML error page from a proxy, or nothing at all: fall through to a generic problem.
  }
  if (isProblem(body)) return new BffError(response.status, body);
  const fallback = genericProblem(response.status, response.statusText || undefined);
  // Keep what a person can read from a JSON answer that is not quite a problem (unknown code).
  if (typeof body === "object" && body !== null) {
    const { title, detail } = body as { title?: unknown; detail?: unknown };
    if (typeof title === "string") fallback.title = title;
    if (typeof detail === "string") fallback.detail = detail;
  }
  return new BffError(response.status, fallback);
}

const CODE_BY_STATUS: Record<number, ProblemCode> = {
  400: "invalid_request",
  401: "not_authenticated",
  404: "not_found",
  405: "method_not_allowed",
  502: "upstream_unreachable",
  503: "upstream_unreachable",
  504: "upstream_timeout",
};

/** A problem for answers that carried none, so callers always have one shape to look at. */
export function genericProblem(status: number, detail?: string): Problem {
  const problem: Problem = {
    type: "about:blank",
    title: status >= 500 ? "The server could not complete the request" : "The request failed",
    status,
    code: CODE_BY_STATUS[status] ?? (status >= 500 ? "internal_error" : "invalid_request"),
  };
  if (detail) problem.detail = detail;
  return problem;
}

/**
 * Where "Log in" goes. `returnTo` is the page to come back to after the IdP;
 * anything but a same-origin path is replaced by `/` (the BFF checks too).
 */
export function loginUrl(returnTo: string): string {
  return `${BFF_ROUTES.login}?returnTo=${encodeURIComponent(safeReturnTo(returnTo))}`;
}

/** A same-origin relative path, or `/`. Refuses `//host` and `/\host`, which browsers treat as other origins. */
export function safeReturnTo(path: string): string {
  if (!path.startsWith("/") || path.startsWith("//") || path.startsWith("/\\")) return "/";
  // Control characters have no business in a path and may confuse a URL parser.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is exactly what this looks for.
  if (/[\u0000-\u001f\u007f]/.test(path)) return "/";
  return path;
}

// The browser's client: relative URLs, the page's own fetch.
const defaultClient = createBffClient();
export const { getSession, apiFetch, listContacts, addContact, deleteContact, logout } = defaultClient;
