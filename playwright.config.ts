import { defineConfig } from "@playwright/test";
import { CHROMIUM_LAUNCH_OPTIONS } from "./e2e/fixtures/browser.ts";
import { E2E_BASE_URL } from "./e2e/fixtures/system.ts";

// The whole system (IdP, API, BFF serving the built SPA) is started once for the
// suite by e2e/serve.ts on a fresh data directory, and driven through real Chromium.
export default defineConfig({
  projects: [
    // Logs each user in once and saves the browser state (.auth/<user>.json).
    { name: "setup", testDir: "./e2e/setup", testMatch: /\.setup\.ts$/ },
    { name: "chromium", testDir: "./e2e/tests", dependencies: ["setup"] },
  ],
  // Fails the run if any component logged a token, a secret or a cookie value.
  globalTeardown: "./e2e/global-teardown.ts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: Boolean(process.env.CI),
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? [["list"]] : [["list"], ["html", { open: "never" }]],
  use: {
    baseURL: E2E_BASE_URL,
    trace: "retain-on-failure",
    launchOptions: CHROMIUM_LAUNCH_OPTIONS,
  },
  webServer: {
    command: "node e2e/serve.ts",
    url: `${E2E_BASE_URL}/bff/session`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
  },
});
