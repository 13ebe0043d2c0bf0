#!/usr/bin/env node
/** Entry point: `node cli/src/main.ts <command>` (see cli.ts). */
import { runCli } from "./cli.ts";

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  fetch: (input, init) => globalThis.fetch(input, init),
  out: (line) => console.log(line),
  err: (line) => console.error(line),
});
