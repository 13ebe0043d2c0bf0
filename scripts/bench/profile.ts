/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and sums the self time of each
 * function, and of each place the code comes from (the BFF, Hono, undici...).
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Sampled time that was not idle, in ms. */
  busyMs: number;
  functions: { name: string; where: string; ms: number; share: number }[];
  sources: { source: string; ms: number; share: number }[];
}

/** Where a function comes from, from its script URL. */
export function sourceOf(url: string, name: string): string {
  if (url === "") return name.startsWith("(") ? name : "(native / V8 builtins)";
  if (url.startsWith("node:"))
    return url.includes("internal/deps/undici") ? "undici (Node's fetch)" : "node: core";
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  const local = /\/(bff|api|idp|shared|scripts)\/(src\/|bench\/)?/.exec(url);
  return local ? `${local[1]}/${local[2] ?? ""}` : url;
}

export function summarizeProfile(file: string, top = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const functions = new Map<string, { name: string; where: string; us: number }>();
  const sources = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === "(idle)") continue;
    busy += us;
    const file = frame.url.replace(/^file:\/\/.*?\/(node_modules\/|(?=bff\/|api\/|idp\/|shared\/))/, "$1");
    const where = frame.url === "" ? "" : `${file}:${frame.lineNumber + 1}`;
    const key = `${frame.functionName}@${where}`;
    const entry = functions.get(key) ?? { name: frame.functionName || "(anonymous)", where, us: 0 };
    entry.us += us;
    functions.set(key, entry);
    const source = sourceOf(frame.url, frame.functionName);
    sources.set(source, (sources.get(source) ?? 0) + us);
  }
  const share = (us: number) => (busy === 0 ? 0 : us / busy);
  return {
    busyMs: busy / 1000,
    functions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, share: share(f.us) })),
    sources: [...sources]
      .sort((a, b) => b[1] - a[1])
      .map(([source, us]) => ({ source, ms: us / 1000, share: share(us) })),
  };
}
