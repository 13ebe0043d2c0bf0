import type { SessionUser } from "@oidc-bff/shared";

/** How to greet someone: their name, else the stable subject identifier. */
export function displayName(user: SessionUser): string {
  const name = typeof user.name === "string" ? user.name.trim() : "";
  return name !== "" ? name : user.sub;
}

/** The part of a location "Log in" comes back to: path and query, never the origin. */
export function pathWithSearch(location: { pathname: string; search: string }): string {
  return `${location.pathname}${location.search}`;
}

/** `document.title` for a page. */
export function pageTitle(page: string): string {
  return `${page} · OIDC BFF`;
}
