/**
 * The packages install like any library: packs them (scripts/pack.ts), writes
 * the app of docs/reuse.md into a temporary folder outside this repository,
 * installs the tarballs there with plain `npm install`, typechecks the app and
 * runs its Playwright test (real Chromium, this repository's IdP as the
 * provider). Then installs the same tarballs with pnpm into a second folder
 * and imports every entry point.
 *
 *   node scripts/packages-outside.ts     (pnpm test:packages)
 *
 * Needs the npm registry for the app's other dependencies (hono, vite,
 * Playwright's library; no browser download: Debian's Chromium is used).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { type Packed, packAll } from "./pack.ts";
import { reusePackageJson, reuseSnippets } from "./reuse-snippets.ts";
import { ROOT } from "./system.ts";

function fail(message: string): never {
  console.error(`packages: ${message}`);
  process.exit(1);
}

function step(what: string, command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const started = performance.now();
  const result = spawnSync(command, args, { cwd, stdio: "inherit", env: { ...process.env, ...env } });
  if (result.status !== 0) fail(`${what} failed (${command} ${args.join(" ")} in ${cwd})`);
  const seconds = (performance.now() - started) / 1000;
  console.log(`packages: ${what}: ${seconds.toFixed(1)} s`);
  return seconds;
}

/** The page's package.json with each `@oidc-bff/*` package taken from its tarball. */
function fromTarballs(packed: Packed[]) {
  const manifest = reusePackageJson();
  const tarball = (name: string) => {
    const found = packed.find((p) => p.name === name);
    if (!found) fail(`${name} is in docs/reuse.md's package.json but was not packed`);
    return `file:${found.tarball}`;
  };
  const swap = (deps: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(deps).map(([n, r]) => [n, n.startsWith("@oidc-bff/") ? tarball(n) : r]),
    );
  return {
    ...manifest,
    // Not in a registry yet: npm must find the packages' own dependency on it among the tarballs.
    dependencies: { ...swap(manifest.dependencies), "@oidc-bff/shared": tarball("@oidc-bff/shared") },
    devDependencies: swap(manifest.devDependencies),
  };
}

const work = mkdtempSync(path.join(tmpdir(), "oidc-bff-outside-"));
if (work.startsWith(ROOT)) fail(`${work} is inside the repository`);
const keep = process.argv.includes("--keep");
try {
  const packStarted = performance.now();
  const packed = packAll(path.join(work, "packages"));
  const packSeconds = (performance.now() - packStarted) / 1000;

  // 1. npm, the whole walkthrough.
  const app = path.join(work, "my-app");
  for (const { file, text } of reuseSnippets()) {
    const target = path.join(app, file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(
      target,
      file === "package.json" ? `${JSON.stringify(fromTarballs(packed), null, 2)}\n` : text,
    );
  }
  const started = performance.now();
  const install = step("npm install", "npm", ["install", "--no-audit", "--no-fund"], app);
  const typecheck = step("tsc -p .", path.join(app, "node_modules", ".bin", "tsc"), ["-p", "."], app);
  const bin = path.join(app, "node_modules", ".bin");
  const test = step("playwright test", path.join(bin, "playwright"), ["test"], app, {
    OIDC_BFF_REPO: ROOT,
    PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
  });
  const total = (performance.now() - started) / 1000;

  // 2. pnpm: installs, and every entry point loads from the installed JavaScript.
  const other = path.join(work, "with-pnpm");
  mkdirSync(other);
  const shared = packed.find((p) => p.name === "@oidc-bff/shared") as Packed;
  writeFileSync(
    path.join(other, "package.json"),
    `${JSON.stringify({ name: "with-pnpm", private: true, type: "module", pnpm: { overrides: { "@oidc-bff/shared": `file:${shared.tarball}` } } }, null, 2)}\n`,
  );
  const tarballs = packed.filter((p) => p !== shared).map((p) => p.tarball);
  step(
    "pnpm add",
    "pnpm",
    ["add", ...tarballs, "hono@^4.13", "@playwright/test@~1.65.1", "react@^19", "@tanstack/react-query@^5"],
    other,
  );
  const entries = [
    "@oidc-bff/bff",
    "@oidc-bff/client",
    "@oidc-bff/client/react-query",
    "@oidc-bff/e2e/fixtures",
  ];
  writeFileSync(
    path.join(other, "load.js"),
    `${entries.map((entry, i) => `import * as m${i} from "${entry}";\nif (Object.keys(m${i}).length === 0) throw new Error("${entry} exports nothing");`).join("\n")}\nconsole.log("loaded ${entries.length} entry points");\n`,
  );
  step("import every entry point (pnpm)", process.execPath, ["load.js"], other);

  console.log("\n| package | tarball |\n|---|--:|");
  for (const p of packed) console.log(`| ${p.name} | ${(p.bytes / 1024).toFixed(1)} KiB |`);
  console.log(
    `\npacked in ${packSeconds.toFixed(0)} s; install to passing test ${total.toFixed(0)} s (npm install ${install.toFixed(0)} s, tsc ${typecheck.toFixed(0)} s, Playwright ${test.toFixed(0)} s)`,
  );
} finally {
  if (keep) console.log(`packages: kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
