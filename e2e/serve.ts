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
  env: { IDP_INSECURE_TOKEN_LOG_FILE: ISSUED_TOKENS_FILE },
  log: (name, line) => {
    console.log(`[${name}] ${line}`);
    appendFileSync(SYSTEM_LOG_FILE, `[${name}] ${line}\n`);
  },
});
