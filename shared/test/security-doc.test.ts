/**
 * Keeps docs/security.md honest: every row has a status; a case marked
 * covered names a test, and a test whose name carries the case id exists in
 * the repository (so `grep "(A4)"` finds it); the counts at the top add up.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const doc = readFileSync(join(ROOT, "docs", "security.md"), "utf8");

interface Row {
  id: string;
  status: string;
  text: string;
}

const rows: Row[] = doc
  .split("\n")
  .map((line) => /^\| ([A-HX]\d+[a-z]?) \| .*? \| (\w[\w/]*) \| (.*) \|$/.exec(line))
  .filter((match): match is RegExpExecArray => match !== null)
  .map((match) => ({ id: match[1] ?? "", status: match[2] ?? "", text: match[3] ?? "" }));

/** Every test and spec file's text, read once. */
function testSources(): string {
  const sources: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name.startsWith(".") || entry.name === "dist") continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(test|spec)\.ts$/.test(entry.name)) sources.push(readFileSync(path, "utf8"));
    }
  };
  for (const top of ["shared", "idp", "api", "bff", "cli", "client", "web", "e2e"]) walk(join(ROOT, top));
  return sources.join("\n");
}

describe("docs/security.md", () => {
  it("has a row for every checklist case, each with a known status", () => {
    expect(rows.length).toBeGreaterThanOrEqual(144);
    expect(new Set(rows.map((row) => row.id)).size).toBe(rows.length);
    for (const row of rows) expect(["covered", "partly", "open", "n/a"], row.id).toContain(row.status);
    expect(rows.filter((row) => row.status === "open").map((row) => row.id)).toEqual([]);
  });

  it("names, for each covered case, a test whose name carries the case id, and that test exists", () => {
    const sources = testSources();
    const missing = rows
      .filter((row) => row.status === "covered")
      .filter((row) => !row.text.includes(`(${row.id})`) || !sources.includes(`(${row.id})`))
      .map((row) => row.id);
    expect(missing).toEqual([]);
  });

  it("says why for each case that is only partly covered or does not apply", () => {
    for (const row of rows.filter((candidate) => candidate.status !== "covered")) {
      expect(row.text.length, row.id).toBeGreaterThan(40);
    }
  });

  it("has counts at the top that match the table", () => {
    const count = (status: string, among: Row[]) => among.filter((row) => row.status === status).length;
    const checklist = rows.filter((row) => !row.id.startsWith("X"));
    const summary = `${count("covered", checklist)} covered, ${count("partly", checklist)} partly, ${count("open", checklist)} open, ${count("n/a", checklist)} n/a`;
    expect(doc).toContain(summary);
  });
});
