/**
 * The SPA's one BFF client (from @oidc-bff/client, the same package any other
 * front end uses). A 401 is thrown rather than turned into an immediate new
 * login: the pages explain that the session ended and keep what the person
 * typed on screen until they choose "Log in again".
 */
import { type BffClient, BffError, createBffClient } from "@oidc-bff/client";

export const bff = createBffClient({ onSessionEnded: "throw" });

/** The BFF's flow inspector (development only; the BFF answers 404 when it is off). */
export const INSPECTOR_PATH = "/bff/inspector";

/**
 * The current session's protocol log from the BFF's flow inspector, typed by
 * the caller (features/inspector/types.ts), or `null` when the BFF runs
 * without the inspector: a 404 is an answer here, not an error.
 */
export async function getFlowLog<T>(client: BffClient = bff): Promise<T | null> {
  try {
    return await client.fetchJson<T>(INSPECTOR_PATH);
  } catch (error) {
    if (error instanceof BffError && error.status === 404) return null;
    throw error;
  }
}
