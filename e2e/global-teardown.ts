/**
 * After the whole suite: no log line of any component may contain a credential.
 * Searched for: every token the IdP issued during the run (its test-only token
 * log), the development secrets (client secret, cookie secret), and sealed
 * cookie values (iron seals start with "Fe26.2"). A match fails the run, naming
 * the kind of credential and the log line's process, never the value.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

import { E2E_DATA_DIR, ISSUED_TOKENS_FILE, SYSTEM_LOG_FILE } from "./fixtures/system.ts";

export default function noCredentialsInLogs(): void {
  if (!existsSync(SYSTEM_LOG_FILE))
    throw new Error(`no system log at ${SYSTEM_LOG_FILE}: the check cannot run`);
  const lines = readFileSync(SYSTEM_LOG_FILE, "utf8").split("\n");
  const tokens = existsSync(ISSUED_TOKENS_FILE)
    ? readFileSync(ISSUED_TOKENS_FILE, "utf8")
        .split("\n")
        .filter((token) => token.length >= 20)
    : [];
  if (tokens.length === 0)
    throw new Error("the IdP recorded no issued tokens: the check would prove nothing");
  const secrets = JSON.parse(readFileSync(path.join(E2E_DATA_DIR, "dev-secrets.json"), "utf8")) as Record<
    string,
    string | string[]
  >;

  const needles: [string, string][] = [
    ...tokens.map((token): [string, string] => ["an issued token", token]),
    ...Object.entries(secrets).flatMap(([name, value]) =>
      [value].flat().map((secret): [string, string] => [`the secret ${name}`, secret]),
    ),
    ["a sealed cookie value", "Fe26.2*"],
  ];
  const leaks = new Set<string>();
  for (const line of lines) {
    for (const [kind, needle] of needles) {
      if (line.includes(needle))
        leaks.add(`${kind} in a line of ${line.slice(0, line.indexOf("]") + 1) || "the log"}`);
    }
  }
  if (leaks.size > 0) throw new Error(`Credentials in the system log:\n  - ${[...leaks].join("\n  - ")}`);
}
