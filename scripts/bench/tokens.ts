/**
 * The IdP's insecure token log (IDP_INSECURE_TOKEN_LOG_FILE, a test aid): every
 * token the token endpoint issues, one per line. The API's access tokens are
 * JWTs with typ "at+jwt" and the API as audience; each token response carries
 * exactly one access token, so counting them counts token requests.
 */
import { existsSync, readFileSync } from "node:fs";

export interface ApiToken {
  token: string;
  /** Expiry, in ms since the epoch. */
  expiresAt: number;
}

function decode(part: string | undefined): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Every access token for `audience` issued so far, oldest first. */
export function apiTokens(file: string, audience: string): ApiToken[] {
  if (!existsSync(file)) return [];
  const tokens: ApiToken[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const [header, payload] = line.split(".");
    if (decode(header)?.typ !== "at+jwt") continue;
    const claims = decode(payload);
    const aud = claims?.aud;
    if (aud !== audience && !(Array.isArray(aud) && aud.includes(audience))) continue;
    tokens.push({ token: line, expiresAt: Number(claims?.exp) * 1000 });
  }
  return tokens;
}
