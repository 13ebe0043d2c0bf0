import { defineConfig } from "@playwright/test";

import { CHROMIUM_LAUNCH_OPTIONS } from "../fixtures/browser.ts";

// `pnpm test:interop`: this project against independently written OpenID software from
// Debian (Glewlwyd, LemonLDAP::NG, mod_auth_openidc), each started on loopback by its script
// in scripts/interop/peers/ and driven through real Chromium. One provider at a time (they
// share nothing, but the machine is small); the table reporter prints provider × check.
export default defineConfig({
  testDir: ".",
  testMatch: /\.spec\.ts$/,
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: Boolean(process.env.CI),
  timeout: 60_000,
  // The whole suite, apt installs on a fresh machine included, stays within about 10 minutes.
  globalTimeout: 12 * 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"], ["./table-reporter.ts"]],
  use: { trace: "retain-on-failure", launchOptions: CHROMIUM_LAUNCH_OPTIONS },
  outputDir: "../../.data/interop/test-results",
});
