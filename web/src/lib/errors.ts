/**
 * What a page says and offers when a call fails. Decided from the problem's
 * `code` and status, never from its human-readable title.
 */
import { BffError } from "@oidc-bff/client";

export type ErrorView =
  /** The BFF has no usable session: the only way forward is a new login. */
  | { kind: "login"; message: string; action: "Log in again" }
  /** Logged in, but the session lacks a scope the person can allow (incremental authorization). */
  | { kind: "consent"; message: string; detail: string; action: string; scope: string }
  /** Logged in, but the grant lacks a scope: retrying cannot help. */
  | { kind: "forbidden"; message: string; detail?: string }
  /** Anything else (API down or slow, a network failure): worth another try. */
  | { kind: "retry"; message: string; detail?: string; action: "Try again" };

/** Scopes the BFF offers to add later (its `additionalScopes`), in words. */
const PERMISSIONS: Record<string, { what: string; verb: string; action: string }> = {
  "contacts:write": {
    what: "Editing your contacts",
    verb: "add or delete contacts",
    action: "Allow editing",
  },
};

export function describeError(error: unknown): ErrorView {
  if (!(error instanceof BffError)) {
    return {
      kind: "retry",
      message: "The server could not be reached.",
      detail: "Check your connection, then try again.",
      action: "Try again",
    };
  }
  if (error.status === 401) {
    const message = error.code === "session_expired" ? "Your session has ended." : "You are not logged in.";
    return { kind: "login", message, action: "Log in again" };
  }
  if (error.status === 403 && error.code === "insufficient_scope") {
    const scope = error.problem.scope;
    const permission = scope ? PERMISSIONS[scope] : undefined;
    if (scope && permission) {
      return {
        kind: "consent",
        message: `${permission.what} needs your permission.`,
        detail: `You allowed this app to read your contacts. To ${permission.verb}, allow it once at the sign-in service; you come back to this page.`,
        action: permission.action,
        scope,
      };
    }
    return {
      kind: "forbidden",
      message: "You are logged in, but this session was not granted access to your contacts.",
      detail:
        "The access token the server holds for you lacks the scope this action needs. Log out, then log in again and allow the access the app asks for.",
    };
  }
  const view: ErrorView = { kind: "retry", message: error.problem.title, action: "Try again" };
  if (error.problem.detail) view.detail = error.problem.detail;
  return view;
}

/**
 * TanStack Query retry policy: a 4xx answer will not change by asking again
 * (and retrying a 401 only delays the "log in again" prompt); network errors
 * and 5xx get two more tries.
 */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  if (error instanceof BffError && error.status >= 400 && error.status < 500) return false;
  return failureCount < 2;
}

/** Per-field messages from a refused request body (`invalid_request` with `errors`), if the server sent any. */
export function fieldErrorsFrom(error: unknown): Record<string, string> | null {
  if (!(error instanceof BffError) || error.code !== "invalid_request") return null;
  const errors = error.problem.errors;
  if (typeof errors !== "object" || errors === null) return null;
  const fields = Object.entries(errors).filter(([, message]) => typeof message === "string");
  return fields.length > 0 ? Object.fromEntries(fields) : null;
}
