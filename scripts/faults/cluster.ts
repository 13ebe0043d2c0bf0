/**
 * What an operator runs in production, on loopback: N BFF replicas behind a
 * round-robin balancer (no stickiness), one Redis with persistence, the embedded
 * IdP (strict rotation, 10-second access tokens, its refresh-token grace period
 * at its default) behind the suite's tap, and the API. Ten people, each with
 * their own account, log in through the IdP's pages.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { hashPassword } from "../../idp/src/password.ts";
import { type Balancer, startBalancer } from "./balancer.ts";
import { type IdpTap, startIdpTap } from "./idp-tap.ts";
import { freePort, type Managed, nodeServer, redisServer } from "./processes.ts";

export const ACCESS_TOKEN_TTL_SECONDS = 10;
/** The BFF refreshes this long before expiry (BFF_REFRESH_LEEWAY_SECONDS). */
export const REFRESH_LEEWAY_SECONDS = 3;

export interface Cluster {
  /** Where the people's browsers go: the balancer, on `localhost` (another site than the IdP). */
  appOrigin: string;
  issuer: string;
  redis: Managed;
  idp: Managed;
  api: Managed;
  replicas: Managed[];
  replicaPorts: number[];
  balancer: Balancer;
  tap: IdpTap;
  users: { username: string; password: string; sub: string }[];
  stop(): Promise<void>;
}

async function writeUsersFile(file: string, count: number) {
  const users = [];
  for (let index = 0; index < count; index++) {
    const password = `person-${index}-password-${randomBytes(6).toString("hex")}`;
    users.push({
      username: `person${index}`,
      sub: `user-person${index}`,
      password,
      passwordHash: await hashPassword(password),
      claims: { name: `Person ${index}`, email: `person${index}@example.com`, email_verified: true },
    });
  }
  const fileUsers = users.map(({ password: _password, ...user }) => user);
  writeFileSync(file, JSON.stringify({ users: fileUsers }, null, 2));
  return users.map(({ username, password, sub }) => ({ username, password, sub }));
}

export async function startCluster(options: { replicas: number; people: number }): Promise<Cluster> {
  const dir = mkdtempSync(path.join(tmpdir(), "bff-faults-"));
  for (const sub of ["redis", "idp", "api"]) mkdirSync(path.join(dir, sub));
  const [redisPort, idpPort, tapPort, apiPort, lbPort] = await Promise.all(
    Array.from({ length: 5 }, () => freePort()),
  );
  const replicaPorts = await Promise.all(Array.from({ length: options.replicas }, () => freePort()));
  const appOrigin = `http://localhost:${lbPort}`;
  const issuer = `http://127.0.0.1:${tapPort}`;
  const api = `http://localhost:${apiPort}`;
  const secret = () => randomBytes(32).toString("base64url");
  const clientSecret = secret();
  const usersFile = path.join(dir, "users.json");
  const users = await writeUsersFile(usersFile, options.people);

  const redis = redisServer(redisPort as number, path.join(dir, "redis"));
  const tap = await startIdpTap(tapPort as number, idpPort as number);
  const idp = nodeServer(
    "idp",
    "idp",
    {
      IDP_ISSUER: issuer,
      IDP_PORT: String(idpPort),
      IDP_MODE: "development",
      IDP_DATA_DIR: path.join(dir, "idp"),
      IDP_USERS_FILE: usersFile,
      IDP_COOKIE_KEYS: secret(),
      IDP_WEB_BFF_SECRET: clientSecret,
      IDP_WEB_BFF_REDIRECT_URIS: `${appOrigin}/bff/callback`,
      IDP_WEB_BFF_POST_LOGOUT_REDIRECT_URIS: `${appOrigin}/`,
      // The balancer's address, not a replica's: any replica may receive the logout token.
      IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI: `${appOrigin}/bff/backchannel-logout`,
      IDP_API_AUDIENCE: api,
      IDP_ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL_SECONDS),
    },
    `${issuer}/.well-known/openid-configuration`,
  );
  const apiServer = nodeServer(
    "api",
    "api",
    {
      API_PORT: String(apiPort),
      API_ISSUER: issuer,
      API_AUDIENCE: api,
      API_DB_PATH: path.join(dir, "api", "contacts.sqlite"),
      API_ACCESS_LOG: "off",
    },
    `${api}/health`,
  );
  const cookieSecret = secret();
  const replicas = replicaPorts.map((port, index) =>
    nodeServer(
      `bff-${index + 1}`,
      "bff",
      {
        // Every replica the same: same secrets, same client, same Redis (docs/operations.md).
        BFF_PORT: String(port),
        BFF_HOST: "127.0.0.1",
        BFF_MODE: "development",
        BFF_DANGEROUSLY_ALLOW_INSECURE_HTTP_ISSUER: "true",
        BFF_ISSUER: issuer,
        BFF_CLIENT_ID: "web-bff",
        BFF_CLIENT_SECRET: clientSecret,
        BFF_REDIRECT_URI: `${appOrigin}/bff/callback`,
        BFF_POST_LOGOUT_REDIRECT_URI: `${appOrigin}/`,
        BFF_API_BASE_URL: api,
        BFF_RESOURCE: api,
        BFF_SCOPES: "openid profile email offline_access contacts:read",
        BFF_ADDITIONAL_SCOPES: "contacts:write",
        BFF_COOKIE_SECRETS: cookieSecret,
        BFF_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        BFF_REFRESH_LEEWAY_SECONDS: String(REFRESH_LEEWAY_SECONDS),
        BFF_ACCESS_LOG: "off",
      },
      `http://127.0.0.1:${port}/bff/session`,
    ),
  );

  const balancer = await startBalancer(lbPort as number, replicaPorts);
  const all = [redis, idp, apiServer, ...replicas];
  try {
    await redis.start();
    await idp.start();
    await apiServer.start();
    await Promise.all(replicas.map((replica) => replica.start()));
  } catch (error) {
    await Promise.all(all.map((process) => process.stop()));
    await balancer.close();
    await tap.close();
    throw error;
  }

  return {
    appOrigin,
    issuer,
    redis,
    idp,
    api: apiServer,
    replicas,
    replicaPorts,
    balancer,
    tap,
    users,
    async stop() {
      await Promise.all(all.map((process) => process.stop()));
      await balancer.close();
      await tap.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
