/**
 * Where "Log in" goes. The BFF answers `/bff/login` with a redirect to the
 * provider, so logging in is a full page navigation, never a fetch.
 */
import { BFF_ROUTES } from "@oidc-bff/shared";

export interface LoginOptions {
  /**
   * Scopes to add to the ones the session has (incremental authorization):
   * `["contacts:write"]` asks the person to allow editing. The BFF accepts only
   * scopes it is configured to offer.
   */
  scopes?: string[];
  /** OpenID Connect `prompt`: "login" forces the password page, "none" checks silently. */
  prompt?: "login" | "consent" | "none";
}

/** `returnTo` is the page to come back to; anything but a same-origin path becomes `/` (the BFF checks too). */
export function loginUrl(returnTo: string, options: LoginOptions = {}): string {
  const query = new URLSearchParams({ returnTo: safeReturnTo(returnTo) });
  if (options.scopes && options.scopes.length > 0) query.set("scope", options.scopes.join(" "));
  if (options.prompt) query.set("prompt", options.prompt);
  return `${BFF_ROUTES.login}?${query}`;
}

/** A same-origin relative path, or `/`. Refuses `//host` and `/\host`, which browsers treat as other origins. */
export function safeReturnTo(path: string): string {
  if (!path.startsWith("/") || path.startsWith("//") || path.startsWith("/\\")) return "/";
  // Control characters have no business in a path and may confuse a URL parser.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is exactly what this looks for.
  if (/[\u0000-\u001f\u007f]/.test(path)) return "/";
  return path;
}
