/**
 * Turns the ID token claims the BFF decoded into rows for the Session page.
 * The claims are whatever the IdP put in the token, so every value is treated
 * as untrusted data and rendered as text.
 */
import { fromNumericDate } from "./format.ts";

export interface ClaimRow {
  name: string;
  /** The value as text: strings as they are, anything else as JSON. */
  text: string;
  /** For NumericDate claims (exp, iat, ...): the same instant as a date. */
  date: Date | null;
}

// The claims people look for first, in the order OpenID Connect Core lists them.
const FIRST = ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid"];

/** Claims defined as seconds since the epoch (RFC 7519, OpenID Connect Core). */
const NUMERIC_DATES = new Set(["exp", "iat", "nbf", "auth_time", "updated_at"]);

export function claimRows(claims: Record<string, unknown>): ClaimRow[] {
  const names = Object.keys(claims).sort((a, b) => {
    const ia = FIRST.indexOf(a);
    const ib = FIRST.indexOf(b);
    if (ia !== -1 || ib !== -1) return (ia === -1 ? FIRST.length : ia) - (ib === -1 ? FIRST.length : ib);
    return a < b ? -1 : a > b ? 1 : 0;
  });
  return names.map((name) => {
    const value = claims[name];
    const date = NUMERIC_DATES.has(name) && typeof value === "number" && Number.isFinite(value);
    return { name, text: claimText(value), date: date ? fromNumericDate(value as number) : null };
  });
}

export function claimText(value: unknown): string {
  if (typeof value === "string") return value;
  // JSON.stringify answers undefined for undefined and functions; neither comes out of JSON, but be total.
  return JSON.stringify(value) ?? String(value);
}
