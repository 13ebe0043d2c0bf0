/**
 * The system under test, as the benchmark starts it: the embedded IdP, the
 * API and BFF instances, each from its server entry point with nothing but
 * documented environment variables, on ports free at the start of the run (two
 * runs on one machine do not collide). Apache's client is registered at the
 * IdP the documented way, in IDP_CLIENTS_FILE.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";

import { apacheClient } from "./peers/mod-auth-openidc.ts";
import { freePort, type Server, startServer, waitFor } from "./processes.ts";

const PORT_NAMES = [
  "idp",
  "api",
  "bff",
  "bffRedis",
  "bffStream",
  "undiciHop",
  "fetchHop",
  "httpHop",
  "nginx",
  "apache",
  "redis",
  "stream",
] as const;
export type Ports = Record<(typeof PORT_NAMES)[number], number>;

export async function allocatePorts(): Promise<Ports> {
  const ports: Partial<Ports> = {};
  const taken = new Set<number>();
  for (const name of PORT_NAMES) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    ports[name] = port;
  }
  return ports as Ports;
}

export const APACHE_CLIENT = { id: "bench-apache", secretVariable: "BENCH_APACHE_CLIENT_SECRET" } as const;

export class System {
  readonly ports: Ports;
  readonly dataDir: string;
  readonly tokenLog: string;
  readonly idp: string;
  /** The API's origin, which is also its audience (resource indicator). */
  readonly api: string;
  readonly clientSecret = randomBytes(32).toString("base64url");
  readonly apacheSecret = randomBytes(32).toString("base64url");
  private readonly cookieSecret = randomBytes(32).toString("base64url");
  private readonly idpCookieKeys = randomBytes(32).toString("base64url");
  /** Node flags per server name (--cpu-prof in profile mode). */
  nodeArgs: (name: string) => string[] = () => [];

  constructor(ports: Ports, dataDir: string) {
    this.ports = ports;
    this.dataDir = dataDir;
    this.tokenLog = path.join(dataDir, "issued-tokens.log");
    this.idp = `http://127.0.0.1:${ports.idp}`;
    this.api = `http://localhost:${ports.api}`;
  }

  /** A BFF instance's origin. */
  bff(port: number): string {
    return `http://localhost:${port}`;
  }

  private bffPorts(): number[] {
    return [this.ports.bff, this.ports.bffRedis, this.ports.bffStream];
  }

  async startIdp(accessTokenTtl: number): Promise<Server> {
    const clientsFile = path.join(this.dataDir, "clients.json");
    writeFileSync(
      clientsFile,
      JSON.stringify({
        clients: [apacheClient(this.ports.apache, APACHE_CLIENT.id, APACHE_CLIENT.secretVariable)],
      }),
    );
    const idp = startServer("idp", "idp/src/server.ts", {
      IDP_PORT: String(this.ports.idp),
      IDP_ISSUER: this.idp,
      IDP_MODE: "development",
      // Kept across the two IdP starts: same signing keys, so the API's cached JWKS stays good.
      IDP_DATA_DIR: path.join(this.dataDir, "idp"),
      IDP_COOKIE_KEYS: this.idpCookieKeys,
      IDP_CLIENTS_FILE: clientsFile,
      [APACHE_CLIENT.secretVariable]: this.apacheSecret,
      IDP_WEB_BFF_SECRET: this.clientSecret,
      // Every BFF instance of the run is the same client, web-bff, on its own port.
      IDP_WEB_BFF_REDIRECT_URIS: this.bffPorts()
        .map((port) => `${this.bff(port)}/bff/callback`)
        .join(","),
      IDP_WEB_BFF_POST_LOGOUT_REDIRECT_URIS: this.bffPorts()
        .map((port) => `${this.bff(port)}/`)
        .join(","),
      IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI: `${this.bff(this.ports.bff)}/bff/backchannel-logout`,
      IDP_API_AUDIENCE: this.api,
      IDP_ACCESS_TOKEN_TTL: String(accessTokenTtl),
      IDP_INSECURE_TOKEN_LOG_FILE: this.tokenLog,
    });
    await waitFor(`${this.idp}/.well-known/openid-configuration`, idp);
    return idp;
  }

  async startApi(): Promise<Server> {
    const api = startServer("api", "api/src/server.ts", {
      API_PORT: String(this.ports.api),
      API_HOST: "localhost",
      API_ISSUER: this.idp,
      API_AUDIENCE: this.api,
      API_DB_PATH: path.join(this.dataDir, "contacts.sqlite"),
      API_ACCESS_LOG: "off",
    });
    await waitFor(`${this.api}/health`, api);
    return api;
  }

  /**
   * A BFF instance on `port`: `name` for its processes and profile, `env` added to
   * (or replacing) the common variables: a Redis store, another API base URL.
   */
  async startBff(
    name: string,
    port: number,
    options: { refreshLeeway: number; env?: Record<string, string> },
  ): Promise<Server> {
    const origin = this.bff(port);
    const bff = startServer(
      name,
      "bff/src/server.ts",
      {
        BFF_PORT: String(port),
        BFF_HOST: "localhost",
        BFF_MODE: "development",
        BFF_DANGEROUSLY_ALLOW_INSECURE_HTTP_ISSUER: "true",
        BFF_ISSUER: this.idp,
        BFF_CLIENT_ID: "web-bff",
        BFF_CLIENT_SECRET: this.clientSecret,
        BFF_REDIRECT_URI: `${origin}/bff/callback`,
        BFF_POST_LOGOUT_REDIRECT_URI: `${origin}/`,
        BFF_API_BASE_URL: this.api,
        BFF_RESOURCE: this.api,
        BFF_SCOPES: "openid profile email offline_access contacts:read contacts:write",
        BFF_COOKIE_SECRETS: this.cookieSecret,
        BFF_REFRESH_LEEWAY_SECONDS: String(options.refreshLeeway),
        // One log line per request costs more than much of what is measured.
        BFF_ACCESS_LOG: "off",
        ...options.env,
      },
      this.nodeArgs(name),
    );
    await waitFor(`${origin}/bff/session`, bff);
    return bff;
  }

  /** One of the hops (peers/undici-hop.ts, peers/http-hop.ts) in front of the API with `token`. */
  async startHop(name: string, script: string, port: number, token: string): Promise<Server> {
    const hop = startServer(
      name,
      script,
      { HOP_PORT: String(port), HOP_UPSTREAM: this.api, HOP_TOKEN: token },
      this.nodeArgs(name),
    );
    await waitFor(`http://localhost:${port}/health`, hop);
    return hop;
  }
}
