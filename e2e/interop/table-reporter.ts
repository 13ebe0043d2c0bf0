/**
 * Prints, at the end of `pnpm test:interop`, one line per provider × check with its
 * result and a one-line reason: the test's `result` annotation when it passed or was
 * skipped, the first line of its error when it failed.
 */
import type { FullResult, Reporter, TestCase, TestResult } from "@playwright/test/reporter";

interface Row {
  provider: string;
  check: string;
  result: string;
  reason: string;
}

const oneLine = (text: string) =>
  text
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the terminal colours of Playwright's messages
    .replace(/\u001b\[[0-9;]*m/g, "")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 160);

export default class TableReporter implements Reporter {
  private readonly rows: Row[] = [];

  onTestEnd(test: TestCase, result: TestResult): void {
    const provider = test.titlePath()[2] ?? test.parent.title;
    const note = test.annotations.find((annotation) => annotation.type === "result")?.description;
    const skip = test.annotations.find((annotation) => annotation.type === "skip")?.description;
    const error = result.errors[0]?.message ?? result.error?.message;
    const outcome =
      result.status === "passed"
        ? "pass"
        : result.status === "skipped"
          ? note || skip
            ? "n/a"
            : "skipped"
          : "FAIL";
    const reason =
      outcome === "FAIL"
        ? oneLine(error?.split("\n").find((line) => line.trim()) ?? result.status)
        : outcome === "skipped"
          ? "not run: an earlier check of this provider failed"
          : oneLine(note ?? skip ?? "");
    this.rows.push({
      provider: provider.replace(/\.spec\.ts$/, ""),
      check: test.title,
      result: outcome,
      reason,
    });
  }

  onEnd(result: FullResult): void {
    const width = (pick: (row: Row) => string, title: string) =>
      Math.max(title.length, ...this.rows.map((row) => pick(row).length));
    const w = [
      width((r) => r.provider, "provider"),
      width((r) => r.check, "check"),
      width((r) => r.result, "result"),
    ];
    const line = (cells: string[]) =>
      `| ${cells.map((cell, i) => (i < 3 ? cell.padEnd(w[i] ?? 0) : cell)).join(" | ")} |`;
    const out = [
      "",
      `Interop results (${result.status}):`,
      line(["provider", "check", "result", "reason"]),
      line(["-".repeat(w[0] ?? 3), "-".repeat(w[1] ?? 3), "-".repeat(w[2] ?? 3), "---"]),
      ...this.rows.map((row) => line([row.provider, row.check, row.result, row.reason])),
      "",
    ];
    process.stdout.write(`${out.join("\n")}\n`);
  }
}
