/**
 * What the flow inspector may show of a protocol value. Redaction here is
 * structural: each function builds its description from an allowlist of what
 * may be shown, and anything not on it is described (present, length, kind),
 * never copied. There is no "copy, then scrub with a regex" step that a new
 * field could slip past.
 *
 * Never shown, whatever the caller passes: token values, the authorization
 * code, state, nonce, the PKCE verifier and challenge, the client secret,
 * cookie values and Authorization headers.
 */
import type { FlowDetails, FlowValue } from "@oidc-bff/shared";

import { BffError } from "../errors.ts";

/** Longest text shown for an allowed value (an error description, a long claim). */
const MAX_SHOWN_CHARS = 300;

/** Claims whose values a person may see: who, for whom, when, with what rights. */
const SHOWN_CLAIMS = new Set([
  "iss",
  "sub",
  "aud",
  "azp",
  "client_id",
  "scope",
  "exp",
  "iat",
  "nbf",
  "auth_time",
  "acr",
  "amr",
  "events",
  "name",
  "given_name",
  "family_name",
  "middle_name",
  "nickname",
  "preferred_username",
  "email",
  "email_verified",
  "locale",
  "zoneinfo",
  "picture",
  "profile",
  "website",
  "updated_at",
]);

/** JOSE header parameters that only say how the token is signed. */
const SHOWN_HEADER = new Set(["alg", "typ", "kid", "cty"]);

function clip(text: string): string {
  return text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}…` : text;
}

/** How a value the log must not show is described: that it is there, and how long it is. */
export function presence(value: string | null | undefined): string {
  if (value === undefined || value === null || value === "") return "absent";
  return `present, ${value.length} chars (value not shown)`;
}

/** An allowed value, as JSON the log can hold: text clipped, objects reduced to their member names. */
function shownValue(value: unknown): FlowValue {
  if (typeof value === "string") return clip(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return value;
  if (Array.isArray(value)) {
    return value.map((item) =>
      typeof item === "string" || typeof item === "number" || typeof item === "boolean"
        ? shownValue(item)
        : "(structured value not shown)",
    );
  }
  if (typeof value === "object") return { members: Object.keys(value as object).map(clip) };
  return `(${typeof value})`;
}

/** A value not on the allowlist: its kind and size only. */
function hiddenValue(value: unknown): string {
  if (typeof value === "string") return presence(value);
  if (Array.isArray(value)) return `present, a list of ${value.length} (not shown)`;
  return `present, ${value === null ? "null" : typeof value} (not shown)`;
}

/** The claims of a JWT or a userinfo answer: allowlisted ones with their values, the rest described. */
export function describeClaims(claims: Record<string, unknown>): FlowDetails {
  const described: FlowDetails = {};
  for (const [name, value] of Object.entries(claims)) {
    described[clip(name)] = SHOWN_CLAIMS.has(name) ? shownValue(value) : hiddenValue(value);
  }
  return described;
}

function decodeSegment(segment: string | undefined): Record<string, unknown> | undefined {
  if (!segment) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A token as the log shows it: its kind, its length and, for a signed JWT, its
 * decoded header and claims (through the allowlists). `decode: false` (refresh
 * tokens) gives kind and length only, whatever the token looks like.
 */
export function describeToken(token: string | undefined, options: { decode: boolean }): FlowDetails | string {
  if (token === undefined || token === "") return "absent";
  const parts = token.split(".");
  if (!options.decode) return { length: token.length, value: "not shown" };
  if (parts.length === 5) return { format: "JWE (encrypted JWT)", length: token.length, value: "not shown" };
  const header = parts.length === 3 ? decodeSegment(parts[0]) : undefined;
  const claims = parts.length === 3 ? decodeSegment(parts[1]) : undefined;
  if (!header || !claims) {
    return { format: "opaque (only the IdP can read it)", length: token.length, value: "not shown" };
  }
  const shownHeader: FlowDetails = {};
  for (const [name, value] of Object.entries(header)) {
    shownHeader[clip(name)] = SHOWN_HEADER.has(name) ? shownValue(value) : hiddenValue(value);
  }
  return {
    format: "JWT (signed; the signature is not shown)",
    length: token.length,
    value: "not shown",
    header: shownHeader,
    claims: describeClaims(claims),
  };
}

/**
 * Query or form parameters: `shown` names with their values, `secret` names
 * described by presence and length, anything else by presence only.
 */
export function describeParameters(
  parameters: URLSearchParams,
  rules: { shown: readonly string[]; secret: readonly string[] },
): FlowDetails {
  const described: FlowDetails = {};
  for (const name of new Set(parameters.keys())) {
    const value = parameters.get(name) ?? "";
    if (rules.shown.includes(name)) described[clip(name)] = clip(value);
    else if (rules.secret.includes(name)) described[clip(name)] = presence(value);
    else described[clip(name)] = "present (not shown)";
  }
  return described;
}

/** A URL without its query and fragment: an endpoint the log may name. */
export function endpointOf(url: URL | string | undefined): string {
  if (url === undefined) return "unknown";
  const parsed = typeof url === "string" ? URL.parse(url) : url;
  return parsed ? `${parsed.origin}${parsed.pathname}` : "unknown";
}

/** An error as the log shows it: the BFF's own code and message, which never carry a credential. */
export function describeFailure(error: unknown): FlowDetails {
  // BffError messages are written for the person and never include a token (errors.ts);
  // any other error is named only.
  if (error instanceof BffError) return { error: error.code, message: clip(error.message) };
  return { error: error instanceof Error ? error.name : "unknown failure" };
}
