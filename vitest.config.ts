import { defineConfig } from "vitest/config";

// One Vitest run for every package: unit tests beside the code and the
// in-process integration tests (real IdP + BFF + API, no ports) in bff/test;
// scripts/*.test.ts start the whole system as processes (on ports 5400-5499).
export default defineConfig({
  test: {
    include: [
      "{shared,idp,api,bff,cli,client,web,resource-server}/{src,test}/**/*.test.ts",
      "scripts/*.test.ts",
    ],
    environment: "node",
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
