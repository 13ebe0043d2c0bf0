/**
 * Builds the packages an app installs (@oidc-bff/shared, resource-server, client, bff, e2e) to
 * JavaScript with type declarations and packs each with `npm pack`, as they
 * would be published:
 *
 *   node scripts/pack.ts [--out <dir>]     (pnpm pack:packages; default .data/packages)
 *
 * In this workspace each package.json points at its TypeScript sources, which
 * Node 24 runs directly (docs/decisions/001); Node does not strip types under
 * node_modules, so an installed package must be JavaScript. The published
 * manifest is the workspace one with its `publishConfig` applied (the `exports`
 * of the built files), `workspace:*` replaced by the version, and the
 * development-only fields left out (docs/decisions/020).
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import { ROOT } from "./system.ts";

/** In dependency order: each one's workspace dependencies come before it. */
export const PACKAGES = ["shared", "resource-server", "client", "bff", "e2e"] as const;

type Manifest = Record<string, unknown> & {
  name: string;
  version: string;
  publishConfig?: Record<string, unknown>;
};

/** Fields that describe the workspace, not the published package. */
const WORKSPACE_ONLY = ["scripts", "devDependencies", "publishConfig"];
/** publishConfig fields that replace the manifest's own (as pnpm applies them). */
const PUBLISHED_FIELDS = ["exports", "main", "types", "bin"];

export function publishedManifest(manifest: Manifest, versions: Map<string, string>): Manifest {
  const published: Manifest = { ...manifest };
  for (const field of PUBLISHED_FIELDS) {
    if (manifest.publishConfig?.[field] !== undefined) published[field] = manifest.publishConfig[field];
  }
  if (manifest.publishConfig?.access !== undefined)
    published.publishConfig = { access: manifest.publishConfig.access };
  for (const field of WORKSPACE_ONLY) if (field !== "publishConfig") delete published[field];
  if (!published.publishConfig) delete published.publishConfig;
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    const deps = published[field] as Record<string, string> | undefined;
    if (!deps) continue;
    published[field] = Object.fromEntries(
      Object.entries(deps).map(([name, range]) => {
        if (!range.startsWith("workspace:")) return [name, range];
        const version = versions.get(name);
        if (!version) throw new Error(`${manifest.name} depends on ${name}, which is not packed`);
        return [name, `^${version}`];
      }),
    );
  }
  return published;
}

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} (in ${cwd}) failed:\n${result.stdout}${result.stderr}`);
  }
  return result.stdout;
}

export interface Packed {
  name: string;
  version: string;
  /** Absolute path of the tarball. */
  tarball: string;
  bytes: number;
}

/** Builds and packs every package into `out`; returns the tarballs. */
export function packAll(out: string): Packed[] {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const tsc = path.join(ROOT, "node_modules", ".bin", "tsc");
  const manifests = PACKAGES.map(
    (dir) =>
      [dir, JSON.parse(readFileSync(path.join(ROOT, dir, "package.json"), "utf8")) as Manifest] as const,
  );
  const versions = new Map(manifests.map(([, manifest]) => [manifest.name, manifest.version]));
  const packed: Packed[] = [];
  for (const [dir, manifest] of manifests) {
    const source = path.join(ROOT, dir);
    rmSync(path.join(source, "dist"), { recursive: true, force: true });
    run(tsc, ["-p", "tsconfig.build.json"], source);

    const stage = path.join(out, "stage", dir);
    mkdirSync(stage, { recursive: true });
    cpSync(path.join(source, "dist"), path.join(stage, "dist"), { recursive: true });
    cpSync(path.join(source, "README.md"), path.join(stage, "README.md"));
    cpSync(path.join(ROOT, "LICENSE"), path.join(stage, "LICENSE"));
    writeFileSync(
      path.join(stage, "package.json"),
      `${JSON.stringify(publishedManifest(manifest, versions), null, 2)}\n`,
    );
    const name =
      run("npm", ["pack", "--silent", "--pack-destination", out], stage).trim().split("\n").at(-1) ?? "";
    const tarball = path.join(out, name);
    packed.push({ name: manifest.name, version: manifest.version, tarball, bytes: statSync(tarball).size });
  }
  rmSync(path.join(out, "stage"), { recursive: true, force: true });
  return packed;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { out: { type: "string" } } });
  const out = path.resolve(values.out ?? path.join(ROOT, ".data", "packages"));
  for (const { name, tarball, bytes } of packAll(out)) {
    console.log(`${name.padEnd(26)} ${(bytes / 1024).toFixed(1).padStart(7)} KiB  ${tarball}`);
  }
}
