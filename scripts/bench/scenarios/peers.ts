/**
 * The peer table: the same `GET /contacts` of the API through each proxy,
 * one after the other, each started just before it is measured and stopped
 * right after, so that only it and the API are busy on the servers' core.
 * A peer that cannot run (a package missing, a start-up failure) is a row
 * with the reason instead of numbers; the run goes on.
 */
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";

import { HttpBrowser } from "../../http-browser.ts";
import { type Measurement, type MeasureOptions, measureHttp } from "../load.ts";
import { loginThroughApache, type SessionMode, startApache } from "../peers/mod-auth-openidc.ts";
import { startNginx } from "../peers/nginx.ts";
import { startRedis } from "../peers/redis.ts";
import { exited, type Server, startServer, stopServer, waitFor } from "../processes.ts";
import { APACHE_CLIENT, type System } from "../system.ts";
import { measureWrk, type WrkTarget } from "../wrk.ts";

export interface PeerRow {
  id: string;
  name: string;
  /** The median of the rounds. */
  m?: Measurement;
  /** Each round's measurement, in order (one when there was one round). */
  each?: Measurement[];
  /** Why there are no numbers. */
  na?: string;
  /** The key of cpuPerRequest that is the proxy's process tree (none for the API direct). */
  proxy?: string;
  /** A further process shown in its own column (redis-server). */
  extra?: string;
}

export interface PeersContext {
  system: System;
  /** Where the peers' configuration and state go. */
  dir: string;
  api: Server;
  bff: Server;
  /** The API access token of the BFF's session: the fixed token of the hops and nginx. */
  token: string;
  /** The API's own answer to GET /contacts with that token: what every proxy must answer. */
  expectedBody: string;
  timing: { seconds: number; warmup: number };
  connections: number;
  useWrk: boolean;
  /** Debian packages that are not there, with the reason. */
  missing: Map<string, string>;
  /** Only these peers (the profile run). */
  only?: string[];
  /**
   * How many times the whole table is measured, one peer after the other each time; every
   * figure of a row is then the median of its rounds. The machine's speed drifts over minutes
   * (other tenants of the host, frequency): alternating spreads the drift over every peer
   * instead of charging it to whichever peer ran during it.
   */
  rounds?: number;
}

interface Target {
  url: string;
  headers: Record<string, string>;
}

/** wrk when it is there, else autocannon; either way every answer checked against `expectedBody`. */
export function measureChecked(
  useWrk: boolean,
  target: WrkTarget,
  options: MeasureOptions,
): Promise<Measurement> {
  return useWrk ? measureWrk(target, options) : measureHttp(target, options);
}

export async function runPeers(ctx: PeersContext): Promise<PeerRow[]> {
  const rounds = ctx.rounds ?? 1;
  const results: PeerRow[][] = [];
  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1) console.log(`bench: peers, round ${round} of ${rounds}`);
    results.push(await peerRound(ctx));
  }
  const [first = []] = results;
  return first.map((row, i) => {
    const same = results.map((rows) => rows[i] as PeerRow);
    const failed = same.find((one) => one.m === undefined);
    if (failed) return { ...row, m: undefined, na: failed.na } as PeerRow;
    const each = same.map((one) => one.m as Measurement);
    return { ...row, m: medianOf(each), each };
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** One measurement of several rounds: each rate, latency and CPU figure is the median of the rounds; counts are summed. */
export function medianOf(each: Measurement[]): Measurement {
  const [first] = each;
  if (first === undefined) throw new Error("medianOf: no measurement");
  if (each.length === 1) return first;
  const sample = each.find((m) => m.failureSample)?.failureSample;
  return {
    requests: each.reduce((sum, m) => sum + m.requests, 0),
    seconds: each.reduce((sum, m) => sum + m.seconds, 0),
    perSecond: median(each.map((m) => m.perSecond)),
    p50Ms: median(each.map((m) => m.p50Ms)),
    p99Ms: median(each.map((m) => m.p99Ms)),
    failures: each.reduce((sum, m) => sum + m.failures, 0),
    ...(sample ? { failureSample: sample } : {}),
    cpuPerRequest: Object.fromEntries(
      Object.keys(first.cpuPerRequest).map((name) => [
        name,
        median(each.map((m) => m.cpuPerRequest[name] ?? Number.NaN)),
      ]),
    ),
    tool: first.tool,
  };
}

/** Every peer once, one after the other. */
async function peerRound(ctx: PeersContext): Promise<PeerRow[]> {
  const { system, api, expectedBody, connections } = ctx;
  const rows: PeerRow[] = [];

  /** One request first: a peer that answers wrongly fails here, with its answer, not after 13 s of load. */
  async function check(name: string, target: Target) {
    const answer = await fetch(target.url, { headers: target.headers });
    const body = await answer.text();
    if (answer.status !== 200 || body !== expectedBody) {
      throw new Error(`${name} answered ${answer.status} ${body.slice(0, 200)}, not the API's own answer`);
    }
  }

  const measure = (target: Target, pids: Record<string, number>) =>
    measureChecked(ctx.useWrk, { ...target, connections, expectedBody }, { ...ctx.timing, pids });

  async function peer(
    row: Omit<PeerRow, "m" | "na">,
    packages: string[],
    body: () => Promise<Measurement>,
  ): Promise<void> {
    if (ctx.only && !ctx.only.includes(row.id)) return;
    const absent = packages.filter((p) => ctx.missing.has(p));
    if (absent.length > 0) {
      const why = absent.map((p) => `${p} not installed (${ctx.missing.get(p)})`).join("; ");
      rows.push({ ...row, na: why });
      console.log(`bench: ${row.name}: n/a: ${why}`);
      return;
    }
    try {
      const m = await body();
      rows.push({ ...row, m });
      const cpu = Object.entries(m.cpuPerRequest)
        .map(([name, us]) => `${name} ${Math.round(us)} µs`)
        .join(", ");
      console.log(
        `bench: ${row.name}: ${Math.round(m.perSecond)} req/s, p50 ${m.p50Ms.toFixed(2)} ms, p99 ${m.p99Ms.toFixed(2)} ms, CPU/req ${cpu}, failures ${m.failures}${m.failureSample ? ` (first: ${m.failureSample})` : ""}`,
      );
    } catch (error) {
      const why = error instanceof Error ? error.message.split("\n").slice(0, 3).join(" ") : String(error);
      rows.push({ ...row, na: why });
      console.log(`bench: ${row.name}: n/a: ${why}`);
    }
  }

  /** Starts a peer, measures it, stops it whatever happens. */
  async function withServers<T>(start: () => Promise<Server[]>, use: (servers: Server[]) => Promise<T>) {
    const servers: Server[] = [];
    try {
      servers.push(...(await start()));
      const result = await use(servers);
      // A peer that died under load would otherwise show up as a row of failures and negative CPU.
      const dead = servers.find(exited);
      if (dead) throw new Error(`${dead.name} exited under load: ${dead.output.slice(-5).join(" | ")}`);
      return result;
    } finally {
      for (const server of servers.reverse()) await stopServer(server);
    }
  }

  const auth = { authorization: `Bearer ${ctx.token}` };

  await peer({ id: "api", name: "API direct (Bearer)" }, [], async () => {
    const target = { url: `${system.api}/contacts`, headers: auth };
    await check("the API", target);
    return measure(target, { api: api.pid });
  });

  await peer({ id: "nginx", name: "nginx proxy_pass, fixed Bearer", proxy: "nginx" }, ["nginx"], () =>
    withServers(
      async () => [
        await startNginx({
          dir: path.join(ctx.dir, "nginx"),
          port: system.ports.nginx,
          apiPort: system.ports.api,
          apiHost: new URL(system.api).host,
          token: ctx.token,
        }),
      ],
      async ([nginx]) => {
        const target = { url: `http://127.0.0.1:${system.ports.nginx}/contacts`, headers: {} };
        await check("nginx", target);
        return measure(target, { nginx: (nginx as Server).pid, api: api.pid });
      },
    ),
  );

  const hop = (id: string, name: string, start: () => Promise<Server>, port: number) =>
    peer({ id, name, proxy: id }, [], () =>
      withServers(
        async () => [await start()],
        async ([server]) => {
          const target = { url: `http://localhost:${port}/contacts`, headers: {} };
          await check(name, target);
          return measure(target, { [id]: (server as Server).pid, api: api.pid });
        },
      ),
    );
  const { ports } = system;
  await hop(
    "undici",
    "undici.request hop (baseline)",
    () => system.startHop("undici", "scripts/bench/peers/undici-hop.ts", ports.undiciHop, ctx.token),
    ports.undiciHop,
  );
  await hop(
    "fetch",
    "fetch hop (bare-hop.ts)",
    async () => {
      const server = startServer(
        "fetch",
        "scripts/bench/bare-hop.ts",
        { BARE_HOP_PORT: String(ports.fetchHop), BARE_HOP_UPSTREAM: system.api, BARE_HOP_TOKEN: ctx.token },
        system.nodeArgs("fetch"),
      );
      await waitFor(`http://localhost:${ports.fetchHop}/health`, server);
      return server;
    },
    ports.fetchHop,
  );
  await hop(
    "http",
    "node:http Agent hop",
    () => system.startHop("http", "scripts/bench/peers/http-hop.ts", ports.httpHop, ctx.token),
    ports.httpHop,
  );

  await peer({ id: "bff", name: "BFF (session cookie)", proxy: "bff" }, [], async () => {
    // A session of its own each round, as peer 7: wrk never takes a new cookie, and a cookie
    // older than the BFF's touch interval (5 minutes) would get a re-sealed one with every answer.
    const browser = new HttpBrowser({ bff: system.bff(ports.bff), idp: system.idp });
    await browser.login();
    const target = {
      url: `${system.bff(ports.bff)}/api/contacts`,
      headers: { cookie: browser.sessionCookie(), "x-csrf": "1" },
    };
    await check("the BFF", target);
    return measure(target, { bff: ctx.bff.pid, api: api.pid });
  });

  await peer(
    { id: "bff-redis", name: "BFF, Redis session store", proxy: "bff", extra: "redis" },
    ["redis-server"],
    () =>
      withServers(
        async () => {
          const dir = path.join(ctx.dir, "redis");
          rmSync(dir, { recursive: true, force: true });
          mkdirSync(dir, { recursive: true });
          const redis = await startRedis(dir, ports.redis);
          const bff = await system.startBff("bff-redis", ports.bffRedis, {
            refreshLeeway: 30,
            env: { BFF_REDIS_URL: `redis://127.0.0.1:${ports.redis}` },
          });
          return [redis, bff];
        },
        async ([redis, bff]) => {
          const origin = system.bff(ports.bffRedis);
          const browser = new HttpBrowser({ bff: origin, idp: system.idp });
          await browser.login();
          const target = {
            url: `${origin}/api/contacts`,
            headers: { cookie: browser.sessionCookie(), "x-csrf": "1" },
          };
          await check("the BFF with Redis", target);
          return measure(target, {
            bff: (bff as Server).pid,
            api: api.pid,
            redis: (redis as Server).pid,
          });
        },
      ),
  );

  const modAuthOpenidc = (id: string, mode: SessionMode) =>
    peer(
      {
        id,
        name: `Apache mod_auth_openidc, ${mode === "server-cache" ? "server-cache (shm)" : mode}`,
        proxy: "apache",
      },
      ["apache2", "libapache2-mod-auth-openidc"],
      () =>
        withServers(
          async () => [
            await startApache({
              dir: path.join(ctx.dir, `apache-${mode}`),
              port: ports.apache,
              mode,
              issuer: system.idp,
              clientId: APACHE_CLIENT.id,
              clientSecret: system.apacheSecret,
              apiPort: ports.api,
              resource: system.api,
            }),
          ],
          async ([apache]) => {
            const cookie = await loginThroughApache(ports.apache, system.idp);
            const target = { url: `http://127.0.0.1:${ports.apache}/contacts`, headers: { cookie } };
            await check(`mod_auth_openidc (${mode})`, target);
            return measure(target, { apache: (apache as Server).pid, api: api.pid });
          },
        ),
    );
  await modAuthOpenidc("moidc-shm", "server-cache");
  await modAuthOpenidc("moidc-cookie", "client-cookie");

  return rows;
}
