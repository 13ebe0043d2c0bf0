/**
 * One BFF and one API in front of a provider, as an operator would run them: the project's
 * server entry points (bff/src/server.ts, api/src/server.ts), configured only with the
 * variables docs/providers.md documents. The browser reaches the BFF at http://localhost:<port>
 * (Chromium treats localhost as a secure context, so the BFF's __Host- cookies work over http).
 */
import { randomBytes } from "node:crypto";
import path from "node:path";

import { freshDir, type NodeProcess, startNode } from "./processes.ts";

export interface BffAndApiOptions {
  /** For file names: "glewlwyd". */
  name: string;
  bffPort: number;
  apiPort: number;
  /** The provider's recipe: BFF_ISSUER, BFF_CLIENT_ID, ..., and the API's API_ISSUER, API_AUDIENCE, ... */
  bff: Record<string, string>;
  api: Record<string, string>;
}

export interface BffAndApi {
  /** The app's origin, where the browser goes. */
  origin: string;
  bff: NodeProcess;
  api: NodeProcess;
  stop(): Promise<void>;
}

export async function startBffAndApi(options: BffAndApiOptions): Promise<BffAndApi> {
  const origin = `http://localhost:${options.bffPort}`;
  const apiOrigin = `http://127.0.0.1:${options.apiPort}`;
  const dataDir = freshDir(options.name);
  const api = await startNode(
    `${options.name}-api`,
    "api/src/server.ts",
    {
      API_PORT: String(options.apiPort),
      API_HOST: "127.0.0.1",
      API_DB_PATH: path.join(dataDir, "contacts.sqlite"),
      ...options.api,
    },
    `${apiOrigin}/health`,
  );
  try {
    const bff = await startNode(
      `${options.name}-bff`,
      "bff/src/server.ts",
      {
        BFF_PORT: String(options.bffPort),
        BFF_HOST: "127.0.0.1",
        BFF_MODE: "development",
        // The providers here speak plain http on loopback; the BFF refuses that unless told, loudly.
        BFF_DANGEROUSLY_ALLOW_INSECURE_HTTP_ISSUER: "true",
        BFF_REDIRECT_URI: `${origin}/bff/callback`,
        BFF_POST_LOGOUT_REDIRECT_URI: `${origin}/`,
        BFF_API_BASE_URL: apiOrigin,
        // Scope-gated, so a provider whose token response leaves out `scope` (RFC 6749 §5.1:
        // then the requested one was granted) is seen to get its session's scopes right.
        BFF_API_ROUTES: "GET /me openid",
        BFF_COOKIE_SECRETS: randomBytes(32).toString("base64url"),
        BFF_SESSION_DB_PATH: path.join(dataDir, "sessions.sqlite"),
        // The suite counts refreshes in the session's protocol log (GET /bff/inspector).
        BFF_FLOW_INSPECTOR: "on",
        ...options.bff,
      },
      `http://127.0.0.1:${options.bffPort}/bff/session`,
    );
    return {
      origin,
      bff,
      api,
      stop: async () => {
        await bff.stop();
        await api.stop();
      },
    };
  } catch (error) {
    await api.stop();
    throw error;
  }
}
