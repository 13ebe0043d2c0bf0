// `pnpm start`: IdP, API and the BFF serving the built SPA, on the embedded defaults.
// Flags: --data-dir <dir> (default .data), --fresh (wipe it first).
import { parseArgs } from "node:util";
import { runUntilInterrupted } from "./system.ts";

const { values } = parseArgs({
  options: { "data-dir": { type: "string" }, fresh: { type: "boolean", default: false } },
});
await runUntilInterrupted({ mode: "start", dataDir: values["data-dir"], fresh: values.fresh });
