/**
 * The SPA's initial download: the scripts, module preloads and style sheets
 * that web/dist/index.html references, each gzipped with node:zlib at its
 * default level (6, what most servers use on the fly).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

import { ROOT } from "./processes.ts";

export interface InitialAssets {
  js: { files: string[]; raw: number; gzip: number };
  css: { files: string[]; raw: number; gzip: number };
}

export function initialAssets(): InitialAssets {
  const dist = path.join(ROOT, "web", "dist");
  if (!existsSync(path.join(dist, "index.html"))) {
    console.log("bench: web/dist is missing: running pnpm build first");
    const build = spawnSync("pnpm", ["build"], { cwd: ROOT, stdio: "inherit" });
    if (build.status !== 0) throw new Error("pnpm build failed");
  }
  const html = readFileSync(path.join(dist, "index.html"), "utf8");
  const js = [
    ...html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g),
    ...html.matchAll(/<link\b[^>]*\brel="modulepreload"[^>]*\bhref="([^"]+)"/g),
  ];
  const css = [...html.matchAll(/<link\b[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)"/g)];
  const measure = (matches: RegExpMatchArray[]) => {
    const files = [...new Set(matches.map((m) => m[1] ?? ""))].filter((f) => f.startsWith("/"));
    let raw = 0;
    let gzip = 0;
    for (const file of files) {
      const bytes = readFileSync(path.join(dist, file));
      raw += bytes.length;
      gzip += gzipSync(bytes).length;
    }
    return { files, raw, gzip };
  };
  return { js: measure(js), css: measure(css) };
}
