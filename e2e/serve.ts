// Starts the system for the Playwright suite: fresh data, the built SPA served by
// the BFF, and the IdP's test-only record of issued tokens for the leak check.
// Every line the processes print also goes to a file, which the global teardown
// searches for credentials.
import { appendFileSync } from "node:fs";

import { runUntilInterrupted } from "../scripts/system.ts";
import { E2E_DATA_DIR, ISSUED_TOKENS_FILE, SYSTEM_LOG_FILE } from "./fixtures/system.ts";

await runUntilInterrupted({
  mode: "start",
  dataDir: E2E_DATA_DIR,
  fresh: true,
  // e2e/tests/inspector.spec.ts opens the Inspector page.
  flowInspector: true,
  env: {
    IDP_INSECURE_TOKEN_LOG_FILE: ISSUED_TOKENS_FILE,
    // The "access token expired" and "refresh token revoked" fixtures (e2e/fixtures/bff-api.ts).
    BFF_DANGEROUSLY_ENABLE_TEST_CONTROLS: "true",
  },
  log: (name, line) => {
    console.log(`[${name}] ${line}`);
    appendFileSync(SYSTEM_LOG_FILE, `[${name}] ${line}\n`);
  },
});
