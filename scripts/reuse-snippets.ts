/**
 * The app of docs/reuse.md, as the page prints it: every snippet marked
 * `<!-- file: examples/my-app/<path> -->` is one file of it. Used by the
 * walkthrough (in this workspace) and by the packages test (outside it), so
 * both run exactly what a reader copies.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import { ROOT } from "./system.ts";

const DOC = path.join(ROOT, "docs", "reuse.md");
const SNIPPET = /<!-- file: examples\/my-app\/(\S+) -->\n```[a-z]*\n([\s\S]*?)\n```/g;

export interface Snippet {
  /** Path inside the app, e.g. `src/main.ts`. */
  file: string;
  text: string;
}

export function reuseSnippets(): Snippet[] {
  const text = readFileSync(DOC, "utf8");
  const snippets = [...text.matchAll(SNIPPET)].map(([, file = "", body = ""]) => ({
    file,
    text: `${body}\n`,
  }));
  const marked = text.match(/<!-- file: /g)?.length ?? 0;
  if (marked !== snippets.length) {
    throw new Error(
      `docs/reuse.md marks ${marked} files but only ${snippets.length} are under examples/my-app/`,
    );
  }
  if (snippets.length < 6)
    throw new Error(`docs/reuse.md marks only ${snippets.length} files; expected the whole app`);
  return snippets;
}

/** The page's package.json, whose `@oidc-bff/*` ranges are those the packages are published with. */
export function reusePackageJson(): {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
} & Record<string, unknown> {
  const snippet = reuseSnippets().find((s) => s.file === "package.json");
  if (!snippet) throw new Error("docs/reuse.md has no package.json snippet");
  return JSON.parse(snippet.text);
}
