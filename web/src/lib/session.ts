import type { SessionUser } from "@oidc-bff/shared";

/** How to greet someone: their name, else the stable subject identifier. */
export function displayName(user: SessionUser): string {
  const name = typeof user.name === "string" ? user.name.trim() : "";
  return name !== "" ? name : user.sub;
}

/** `document.title` for a page. */
export function pageTitle(page: string): string {
  return `${page} · OIDC BFF`;
}
