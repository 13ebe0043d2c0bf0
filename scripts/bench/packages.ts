/**
 * The Debian packages of the benchmark's peers (the load generator, the other
 * proxies, Redis): installed when missing by the interop suite's own
 * peer_apt_install (scripts/interop/peers/lib/common.sh: sudo when not root,
 * `apt-get update` only when needed, package services kept from starting by
 * policy-rc.d), and their versions for the report.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";

import { ROOT } from "./processes.ts";

export const PEER_PACKAGES = ["wrk", "nginx", "apache2", "libapache2-mod-auth-openidc", "redis-server"];

export function installed(name: string): boolean {
  const answer = spawnSync("dpkg-query", ["-W", `-f=\${Status}`, name], { encoding: "utf8" });
  return answer.status === 0 && answer.stdout.includes("install ok installed");
}

/** dpkg's version of a package, or undefined when it is not installed. */
export function packageVersion(name: string): string | undefined {
  if (!installed(name)) return undefined;
  const answer = spawnSync("dpkg-query", ["-W", `-f=\${Version}`, name], { encoding: "utf8" });
  return answer.status === 0 ? answer.stdout.trim() : undefined;
}

/**
 * Installs whichever of `names` is missing (at most 5 minutes); returns what is
 * still missing afterwards, with the reason, so that the run can go on without it.
 */
export function ensurePackages(names: readonly string[]): { missing: string[]; reason?: string } {
  if (spawnSync("dpkg-query", ["--version"], { stdio: "ignore" }).status !== 0) {
    return { missing: [...names], reason: "not a Debian system (no dpkg-query)" };
  }
  const wanted = names.filter((name) => !installed(name));
  if (wanted.length === 0) return { missing: [] };
  console.log(`bench: installing ${wanted.join(", ")} from Debian's packages`);
  const common = path.join(ROOT, "scripts", "interop", "peers", "lib", "common.sh");
  const answer = spawnSync("bash", ["-c", `. "${common}" && peer_apt_install "$@"`, "bash", ...wanted], {
    stdio: ["ignore", "inherit", "pipe"],
    encoding: "utf8",
    timeout: 300_000,
  });
  const missing = wanted.filter((name) => !installed(name));
  if (missing.length === 0) return { missing };
  const said = (answer.stderr ?? "").trim().split("\n").slice(-3).join(" | ");
  return { missing, reason: answer.error ? answer.error.message : said || `exit code ${answer.status}` };
}
