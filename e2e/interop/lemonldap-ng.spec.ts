/**
 * The BFF and the API with LemonLDAP::NG 2.16 (Debian's packages, its portal under Starman)
 * as provider, configured exactly as docs/providers.md's tested recipe says.
 */

import { lemonldapNg } from "../fixtures/index.ts";
import { startBffAndApi } from "./bff-and-api.ts";
import { describeBffChecks } from "./bff-checks.ts";
import { INTEROP_PORTS } from "./ports.ts";
import { startPeer } from "./processes.ts";

const { bff: BFF_PORT, api: API_PORT } = INTEROP_PORTS.lemonldapNg;
const APP = `http://localhost:${BFF_PORT}`;
const CLIENT = { id: "bff-client", secret: "bff-client-secret-0123456789" };
const ACCESS_TOKEN_TTL = 15;
const LEEWAY = 3;

describeBffChecks(
  {
    steps: lemonldapNg,
    user: { username: "alice", password: "alice-password-1" },
    revocation: false,
    backchannel: {
      unsupported:
        "LemonLDAP::NG 2.16 has no back-channel logout (discovery: backchannel_logout_supported false)",
    },
    async start() {
      const peer = await startPeer(
        "lemonldap-ng",
        {
          LLNG_PORT: String(INTEROP_PORTS.lemonldapNg.provider),
          OIDC_CLIENT_ID: CLIENT.id,
          OIDC_CLIENT_SECRET: CLIENT.secret,
          OIDC_REDIRECT_URI: `${APP}/bff/callback`,
          OIDC_POST_LOGOUT_REDIRECT_URI: `${APP}/`,
          LLNG_ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL),
        },
        "LLNG_STATE",
      );
      try {
        const issuer = peer.url;
        const system = await startBffAndApi({
          name: "lemonldap-ng",
          bffPort: BFF_PORT,
          apiPort: API_PORT,
          bff: {
            BFF_ISSUER: issuer,
            BFF_CLIENT_ID: CLIENT.id,
            BFF_CLIENT_SECRET: CLIENT.secret,
            // LemonLDAP::NG does not decode the form-encoding of client_secret_basic either.
            BFF_CLIENT_AUTHENTICATION: "client_secret_post",
            // No revocation endpoint: without offline_access the refresh token ends with its session.
            BFF_SCOPES: "openid profile email",
            BFF_REFRESH_LEEWAY_SECONDS: String(LEEWAY),
          },
          // Its access tokens are typed JWT and name the client as audience; the API tells them
          // from its ID tokens (which look the same) by their claims.
          api: { API_ISSUER: issuer, API_AUDIENCE: CLIENT.id, API_TOKEN_TYPES: "JWT" },
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
  },
  LEEWAY,
);
