/**
 * Keeps docs/reuse.md honest: writes every snippet it marks with
 * `<!-- file: path -->` to that path, then runs the Playwright test the
 * walkthrough ends with, after typechecking them. The test starts the IdP, the walkthrough's API, its
 * server with the BFF mounted and Vite, then logs in through real Chromium.
 *
 *   node scripts/walkthrough.ts     (pnpm test:walkthrough)
 *
 * package.json is the one snippet kept in git (pnpm must see it to link the
 * workspace packages): the script checks that the committed file says what
 * the page says.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";

import { ROOT } from "./system.ts";

const DOC = path.join(ROOT, "docs", "reuse.md");
const APP = path.join(ROOT, "examples", "my-app");
const SNIPPET = /<!-- file: (\S+) -->\n```[a-z]*\n([\s\S]*?)\n```/g;

function fail(message: string): never {
  console.error(`walkthrough: ${message}`);
  process.exit(1);
}

const snippets = [...readFileSync(DOC, "utf8").matchAll(SNIPPET)].map(([, file = "", text = ""]) => ({
  file,
  text: `${text}\n`,
}));
if (snippets.length < 6) fail(`docs/reuse.md marks only ${snippets.length} files; expected the whole app`);

for (const { file, text } of snippets) {
  const target = path.resolve(ROOT, file);
  if (!target.startsWith(`${APP}${path.sep}`)) fail(`${file} is outside examples/my-app`);
  if (file.endsWith("package.json")) {
    const committed: unknown = JSON.parse(readFileSync(target, "utf8"));
    if (!isDeepStrictEqual(committed, JSON.parse(text))) {
      fail(`${file} differs from the one in docs/reuse.md: update it, then run pnpm install`);
    }
    continue;
  }
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, text);
}
console.log(`walkthrough: wrote ${snippets.length - 1} files from docs/reuse.md to examples/my-app`);

// A fresh IdP store each run, so the first login meets the consent page as a new user would.
rmSync(path.join(ROOT, ".data", "my-app"), { recursive: true, force: true });

// The snippets must typecheck as they are printed.
const tsc = spawnSync(path.join(ROOT, "node_modules", ".bin", "tsc"), ["-p", APP], { stdio: "inherit" });
if (tsc.status !== 0) fail("the snippets in docs/reuse.md do not typecheck (tsc -p examples/my-app)");

const bin = path.join(APP, "node_modules", ".bin");
const run = spawnSync(path.join(bin, "playwright"), ["test"], {
  cwd: APP,
  stdio: "inherit",
  env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}` },
});
process.exit(run.status ?? 1);
