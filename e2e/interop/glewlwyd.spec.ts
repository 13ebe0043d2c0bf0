/**
 * The BFF and the API with Glewlwyd 2.7 (Debian's package) as provider, configured exactly
 * as docs/providers.md's tested recipe says.
 */
import path from "node:path";
import { glewlwyd } from "../fixtures/index.ts";
import { startBffAndApi } from "./bff-and-api.ts";
import { describeBffChecks } from "./bff-checks.ts";
import { INTEROP_PORTS } from "./ports.ts";
import { PEER_STATE_ROOT, readLog, startPeer } from "./processes.ts";

const { bff: BFF_PORT, api: API_PORT } = INTEROP_PORTS.glewlwyd;
const APP = `http://localhost:${BFF_PORT}`;
/** The API's audience, and the resource the BFF asks Glewlwyd for (RFC 8707). */
const API = `http://127.0.0.1:${API_PORT}`;
const CLIENT = { id: "bff-client", secret: "bff-client-secret-0123456789" };
/** Short access tokens, so the suite sees them expire; the BFF refreshes this long before. */
const ACCESS_TOKEN_TTL = 15;
const LEEWAY = 3;
const peerState = path.join(PEER_STATE_ROOT, "glewlwyd");

describeBffChecks(
  {
    steps: glewlwyd,
    user: { username: "alice", password: "alice-password-1" },
    revocation: true,
    // One "Access token generated" line per code exchange or refresh (its INFO log).
    providerTokenAnswers: () =>
      readLog(path.join(peerState, "glewlwyd.log"))
        .split("\n")
        .filter((line) => line.includes(`Access token generated for client '${CLIENT.id}'`)).length,
    async start() {
      const peer = await startPeer(
        "glewlwyd",
        {
          GLEWLWYD_PORT: String(INTEROP_PORTS.glewlwyd.provider),
          OIDC_CLIENT_ID: CLIENT.id,
          OIDC_CLIENT_SECRET: CLIENT.secret,
          OIDC_REDIRECT_URI: `${APP}/bff/callback`,
          OIDC_POST_LOGOUT_REDIRECT_URI: `${APP}/`,
          // Glewlwyd posts logout tokens from its own process: the BFF's loopback address.
          OIDC_BACKCHANNEL_LOGOUT_URI: `http://127.0.0.1:${BFF_PORT}/bff/backchannel-logout`,
          GLEWLWYD_ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL),
          GLEWLWYD_RESOURCE: API,
        },
        "GLEWLWYD_STATE",
      );
      try {
        const issuer = peer.url;
        const system = await startBffAndApi({
          name: "glewlwyd",
          bffPort: BFF_PORT,
          apiPort: API_PORT,
          bff: {
            BFF_ISSUER: issuer,
            BFF_CLIENT_ID: CLIENT.id,
            BFF_CLIENT_SECRET: CLIENT.secret,
            // Glewlwyd does not decode the form-encoding of client_secret_basic (a "-" in the id).
            BFF_CLIENT_AUTHENTICATION: "client_secret_post",
            BFF_SCOPES: "openid profile email offline_access",
            // Without its resource support, Glewlwyd's access tokens name the scope string as aud.
            BFF_RESOURCE: API,
            BFF_REFRESH_LEEWAY_SECONDS: String(LEEWAY),
          },
          api: { API_ISSUER: issuer, API_AUDIENCE: API, API_TOKEN_TYPES: "at+jwt" },
        });
        return {
          system,
          stop: async () => {
            await system.stop();
            await peer.stop();
          },
        };
      } catch (error) {
        await peer.stop();
        throw error;
      }
    },
    backchannel: {
      // Glewlwyd's own "End session" page, opened directly (not through the BFF, which ends its
      // sessions itself): the page's Logout ends the provider's session named by its session
      // cookie, and Glewlwyd posts a logout token to every client of that session.
      async endProviderSession(page) {
        const provider = `http://127.0.0.1:${INTEROP_PORTS.glewlwyd.provider}`;
        const cookies = await page.context().cookies(provider);
        const sid = cookies.find((cookie) => cookie.name === "GLEWLWYD_OIDC_SID")?.value;
        if (!sid)
          throw new Error(`no GLEWLWYD_OIDC_SID cookie at ${provider}: ${cookies.map((c) => c.name)}`);
        const query = new URLSearchParams({
          callback_url: `${APP}/`,
          sid,
          plugin: "oidc",
          client_id: CLIENT.id,
          prompt: "end_session",
        });
        await page.goto(`${provider}/login.html?${query}`);
        await glewlwyd.signOut(page, { origin: APP, leftProvider: () => new URL(page.url()).origin === APP });
      },
    },
  },
  LEEWAY,
);
