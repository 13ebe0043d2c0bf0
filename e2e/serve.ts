// Starts the system for the Playwright suite: fresh data, the built SPA served by
// the BFF, and the IdP's test-only record of issued tokens for the leak check.
import { runUntilInterrupted } from "../scripts/system.ts";
import { E2E_DATA_DIR, ISSUED_TOKENS_FILE } from "./fixtures/system.ts";

await runUntilInterrupted({
  mode: "start",
  dataDir: E2E_DATA_DIR,
  fresh: true,
  env: { IDP_INSECURE_TOKEN_LOG_FILE: ISSUED_TOKENS_FILE },
});
