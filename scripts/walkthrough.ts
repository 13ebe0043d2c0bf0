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

import { reuseSnippets } from "./reuse-snippets.ts";
import { ROOT } from "./system.ts";

const APP = path.join(ROOT, "examples", "my-app");

function fail(message: string): never {
  console.error(`walkthrough: ${message}`);
  process.exit(1);
}

/** Inside this workspace the app links the packages themselves: `workspace:*` where the page names a version. */
function asInWorkspace(manifest: Record<string, unknown>): Record<string, unknown> {
  const linked = (deps: unknown) =>
    Object.fromEntries(
      Object.entries((deps ?? {}) as Record<string, string>).map(([name, range]) => [
        name,
        name.startsWith("@oidc-bff/") ? "workspace:*" : range,
      ]),
    );
  return {
    ...manifest,
    dependencies: linked(manifest.dependencies),
    devDependencies: linked(manifest.devDependencies),
  };
}

let snippets: ReturnType<typeof reuseSnippets>;
try {
  snippets = reuseSnippets();
} catch (error) {
  fail((error as Error).message);
}

for (const { file, text } of snippets) {
  const target = path.join(APP, file);
  if (file === "package.json") {
    const committed: unknown = JSON.parse(readFileSync(target, "utf8"));
    if (!isDeepStrictEqual(committed, asInWorkspace(JSON.parse(text)))) {
      fail(
        `examples/my-app/package.json differs from the one in docs/reuse.md (with workspace:* for @oidc-bff/*): update it, then run pnpm install`,
      );
    }
    continue;
  }
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, text);
}
console.log(`walkthrough: wrote ${snippets.length - 1} files from docs/reuse.md to examples/my-app`);

// A fresh IdP store each run, so the first login meets the consent page as a new user would.
rmSync(path.join(APP, ".data"), { recursive: true, force: true });

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
