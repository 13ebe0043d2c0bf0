// `pnpm dev`: IdP, API, BFF and the Vite dev server (hot reload) in front of the BFF.
import { runUntilInterrupted } from "./system.ts";

await runUntilInterrupted({ mode: "dev", flowInspector: true });
