/**
 * Starts the whole system on loopback: IdP, API and BFF (and, in dev mode, the
 * Vite dev server), each as its own Node process with its own environment, just
 * as they would run in production. Used by `pnpm start`, `pnpm dev` and the
 * Playwright suite, on the ports BFF_PORT, IDP_PORT and API_PORT name (3000,
 * 4000 and 4001 when unset): every URL that names a port, in every process's
 * environment, comes from shared/src/local-system.ts.
 *
 * Development secrets (the BFF's cookie secret, the web-bff client secret, the
 * IdP's cookie keys) are generated once per data directory and kept there,
 * outside git, so sessions survive a restart and no secret is ever committed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { type LocalSystem, localSystem } from "../shared/src/local-system.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Where `pnpm start`, `pnpm dev` and the e2e suite put each part: BFF_PORT,
 * IDP_PORT and API_PORT. Throws an error naming each bad value.
 */
export function addressesFromEnvironment(): LocalSystem {
  return localSystem(process.env);
}

export interface SystemOptions {
  /** "start" serves the built SPA from the BFF; "dev" runs Vite with hot reload in front of it. */
  mode: "start" | "dev";
  /** Where the IdP's and the API's data live. Default: <repo>/.data */
  dataDir?: string;
  /** Wipe the data directory first (tests want a known state). */
  fresh?: boolean;
  /**
   * Turns on the BFF's flow inspector (a redacted protocol log per session, shown on the SPA's
   * Inspector page). The BFF runs in development mode here; it refuses the inspector in production.
   */
  flowInspector?: boolean;
  /** Extra environment for every process (tests use it for short token lifetimes). */
  env?: Record<string, string>;
  /** Where each line the processes print goes. Default: this process's stdout, tagged [idp], [api]... */
  log?: (name: ProcessName, line: string) => void;
  /** Where each part listens. Default: from BFF_PORT, IDP_PORT and API_PORT (addressesFromEnvironment). */
  addresses?: LocalSystem;
}

export type ProcessName = "idp" | "api" | "bff" | "web";

interface DevSecrets {
  bffCookieSecret: string;
  webBffClientSecret: string;
  idpCookieKeys: string[];
}

function loadOrCreateSecrets(dataDir: string): DevSecrets {
  const file = path.join(dataDir, "dev-secrets.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as DevSecrets;
  const secret = () => randomBytes(32).toString("base64url");
  const secrets: DevSecrets = {
    bffCookieSecret: secret(),
    webBffClientSecret: secret(),
    idpCookieKeys: [secret()],
  };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

/** The environment of each process: the only place where the boxes are wired together. */
export function systemEnvironment(
  options: SystemOptions,
): Record<"idp" | "api" | "bff", Record<string, string>> {
  const dataDir = path.resolve(options.dataDir ?? path.join(ROOT, ".data"));
  const secrets = loadOrCreateSecrets(dataDir);
  const addresses = options.addresses ?? addressesFromEnvironment();
  // In dev mode the browser is on Vite's origin, which proxies /bff and /api to the BFF,
  // so the IdP must send the browser back there.
  const publicOrigin = options.mode === "dev" ? addresses.vite : addresses.bff;
  const extra = options.env ?? {};
  return {
    idp: {
      IDP_ISSUER: addresses.idp,
      IDP_PORT: String(addresses.ports.idp),
      IDP_MODE: "development",
      IDP_DATA_DIR: path.join(dataDir, "idp"),
      IDP_COOKIE_KEYS: secrets.idpCookieKeys.join(","),
      IDP_WEB_BFF_SECRET: secrets.webBffClientSecret,
      IDP_WEB_BFF_REDIRECT_URIS: `${publicOrigin}/bff/callback`,
      IDP_WEB_BFF_POST_LOGOUT_REDIRECT_URIS: `${publicOrigin}/`,
      // The BFF itself, in dev mode too: the IdP posts there directly, not through Vite.
      IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI: `${addresses.bff}/bff/backchannel-logout`,
      IDP_API_AUDIENCE: addresses.api,
      ...extra,
    },
    api: {
      API_PORT: String(addresses.ports.api),
      API_ISSUER: addresses.idp,
      API_AUDIENCE: addresses.api,
      API_DB_PATH: path.join(dataDir, "api", "contacts.sqlite"),
      ...extra,
    },
    bff: {
      BFF_PORT: String(addresses.ports.bff),
      BFF_MODE: "development",
      // The embedded IdP speaks plain http on loopback; the BFF refuses that unless told, loudly.
      BFF_DANGEROUSLY_ALLOW_INSECURE_HTTP_ISSUER: "true",
      BFF_ISSUER: addresses.idp,
      BFF_CLIENT_ID: "web-bff",
      BFF_CLIENT_SECRET: secrets.webBffClientSecret,
      BFF_REDIRECT_URI: `${publicOrigin}/bff/callback`,
      BFF_POST_LOGOUT_REDIRECT_URI: `${publicOrigin}/`,
      BFF_API_BASE_URL: addresses.api,
      // Only what the SPA calls; anything else is answered by the BFF (404 / 405) and never reaches the API.
      BFF_API_ROUTES:
        "GET /contacts, POST /contacts contacts:write, GET /contacts/*, DELETE /contacts/* contacts:write, GET /me",
      BFF_RESOURCE: addresses.api,
      // Read access at the first login; editing is asked for when the person first needs it.
      BFF_SCOPES: "openid profile email offline_access contacts:read",
      BFF_ADDITIONAL_SCOPES: "contacts:write",
      BFF_COOKIE_SECRETS: secrets.bffCookieSecret,
      // Ended sessions survive a restart: a captured cookie stays refused after logout.
      BFF_SESSION_DB_PATH: path.join(dataDir, "bff", "sessions.sqlite"),
      ...(options.mode === "start" ? { BFF_SPA_DIR: path.join(ROOT, "web", "dist") } : {}),
      ...(options.flowInspector ? { BFF_FLOW_INSPECTOR: "on" } : {}),
      ...extra,
    },
  };
}

const COLORS = { idp: 35, api: 36, bff: 33, web: 32 } as const;

function prefixOutput(name: ProcessName, child: ChildProcess, log?: SystemOptions["log"]): void {
  const tag = process.stdout.isTTY ? `\x1b[${COLORS[name]}m[${name}]\x1b[0m` : `[${name}]`;
  for (const stream of [child.stdout, child.stderr]) {
    let pending = "";
    stream?.on("data", (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (log) log(name, line);
        else process.stdout.write(`${tag} ${line}\n`);
      }
    });
  }
}

async function waitFor(url: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer within the start-up time`);
}

/** The URL that answers once each process is ready. */
function readyUrls(addresses: LocalSystem) {
  return {
    idp: `${addresses.idp}/.well-known/openid-configuration`,
    api: `${addresses.api}/health`,
    bff: `${addresses.bff}/bff/session`,
  } as const;
}

export interface RunningSystem {
  url: string;
  /** Where each part listens. */
  addresses: LocalSystem;
  stop(): Promise<void>;
  /**
   * Stops one process (SIGTERM), starts it again with the same environment and
   * waits until it answers: a deploy or a crash-and-restart, for the soak test.
   */
  restart(name: keyof ReturnType<typeof readyUrls>): Promise<void>;
  /** The operating-system process id of one process (to watch its memory), if it runs. */
  pid(name: ProcessName): number | undefined;
}

export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const dataDir = path.resolve(options.dataDir ?? path.join(ROOT, ".data"));
  if (options.fresh) rmSync(dataDir, { recursive: true, force: true });
  const addresses = options.addresses ?? addressesFromEnvironment();
  const env = systemEnvironment({ ...options, dataDir, addresses });
  const READY_URLS = readyUrls(addresses);
  const children = new Map<ProcessName, ChildProcess>();
  /** How each process was started, so that `restart` can start it the same way. */
  const launches = new Map<ProcessName, () => void>();
  /** Processes being stopped on purpose by `restart`: their exit must not stop the system. */
  const restarting = new Set<ChildProcess>();
  let stopping = false;

  const launch = (name: ProcessName, command: string, args: string[], childEnv: Record<string, string>) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, ...childEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    prefixOutput(name, child, options.log);
    child.on("exit", (code, signal) => {
      if (stopping || restarting.has(child)) return;
      console.error(`[${name}] exited (${signal ?? code}); stopping the system`);
      void stop().then(() => process.exit(1));
    });
    children.set(name, child);
    launches.set(name, () => launch(name, command, args, childEnv));
  };

  const stopChild = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5000).unref();
    });

  const stop = async () => {
    stopping = true;
    await Promise.all([...children.values()].map(stopChild));
  };

  const restart = async (name: keyof typeof READY_URLS) => {
    const child = children.get(name);
    const relaunch = launches.get(name);
    if (!child || !relaunch) throw new Error(`${name} is not running`);
    restarting.add(child);
    await stopChild(child);
    restarting.delete(child);
    if (stopping) return;
    relaunch();
    await waitFor(READY_URLS[name], Date.now() + 60_000);
  };

  const deadline = Date.now() + 60_000;
  launch("idp", process.execPath, ["idp/src/server.ts"], env.idp);
  launch("api", process.execPath, ["api/src/server.ts"], env.api);
  await waitFor(READY_URLS.idp, deadline);
  launch("bff", process.execPath, ["bff/src/server.ts"], env.bff);
  await Promise.all([waitFor(READY_URLS.api, deadline), waitFor(READY_URLS.bff, deadline)]);

  let url: string = addresses.bff;
  if (options.mode === "dev") {
    const vite = path.join(ROOT, "web", "node_modules", ".bin", "vite");
    // web/vite.config.ts proxies to the BFF on BFF_PORT.
    launch("web", vite, ["--config", path.join(ROOT, "web", "vite.config.ts")], {
      BFF_PORT: String(addresses.ports.bff),
    });
    await waitFor(addresses.vite, deadline);
    url = addresses.vite;
  }
  return { url, addresses, stop, restart, pid: (name) => children.get(name)?.pid };
}

/** Runs the system until Ctrl-C, for `pnpm start` and `pnpm dev`. */
export async function runUntilInterrupted(options: SystemOptions): Promise<void> {
  let addresses: LocalSystem;
  try {
    addresses = options.addresses ?? addressesFromEnvironment();
  } catch (error) {
    // A mistyped port: say which, without a stack trace.
    console.error((error as Error).message);
    process.exit(2);
  }
  // `pnpm start` and `pnpm dev` are for people trying the system out: the Inspector is on.
  const system = await startSystem({ flowInspector: true, ...options, addresses });
  console.log(
    `\n  Ready. Open ${system.url} and log in as alice / alice-dev-password.\n  Ctrl-C stops everything.\n`,
  );
  const shutdown = () => {
    void system.stop().then(() => process.exit(0));
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}
