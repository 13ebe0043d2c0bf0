/**
 * Apache 2.4 with mod_auth_openidc (Debian's packages) in front of the same
 * API: a relying party of the embedded IdP, as in the interop suite
 * (scripts/interop/peers/mod-auth-openidc/), configured as a proxy. It asks
 * for the API's token with `resource=` at the authorization and the token
 * endpoint, and passes it as `Authorization: Bearer`; the browser's cookies
 * stop at Apache. Two modes: sessions in Apache's shared memory
 * (`server-cache` + `shm`) and sessions in the browser's cookie
 * (`client-cookie`). One process × 25 threads of mpm_event, keep-alive without
 * a request limit, no access log. Its own apache2.conf in a directory of the
 * run, on 127.0.0.1, in the foreground (-DFOREGROUND: the pid we started is
 * the parent's, which stops its child on SIGTERM); never the system's service.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

import { request } from "undici";

import { HttpBrowser } from "../../http-browser.ts";
import { type Server, sbin, startProcess, waitFor } from "../processes.ts";

export type SessionMode = "server-cache" | "client-cookie";

export interface ApacheOptions {
  dir: string;
  port: number;
  mode: SessionMode;
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The API on 127.0.0.1, and its resource indicator (the audience of its tokens). */
  apiPort: number;
  resource: string;
}

const MODULES = "/usr/lib/apache2/modules";

/** The client to register at the IdP (IDP_CLIENTS_FILE) for Apache on `port`. */
export function apacheClient(port: number, clientId: string, secretVariable: string) {
  return {
    client_id: clientId,
    client_name: "Apache mod_auth_openidc (benchmark)",
    redirect_uris: [`http://127.0.0.1:${port}/redirect_uri`],
    token_endpoint_auth_method: "client_secret_basic",
    client_secret_env: secretVariable,
    scope: "openid contacts:read",
  };
}

export function apacheConf(o: ApacheOptions): string {
  const run = path.join(o.dir, "run");
  const base = `http://127.0.0.1:${o.port}`;
  const resource = `resource=${encodeURIComponent(o.resource)}`;
  const modules = ["mpm_event", "authz_core", "authn_core", "authz_user", "headers", "proxy", "proxy_http"];
  return `# The benchmark's Apache: written by scripts/bench/peers/mod-auth-openidc.ts, started with -f.
ServerRoot "${o.dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:${o.port}
PidFile "${run}/httpd.pid"
DefaultRuntimeDir "${run}"
Mutex file:${run} default
${modules.map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`).join("\n")}
LoadModule auth_openidc_module ${MODULES}/mod_auth_openidc.so
User www-data
Group www-data
ErrorLog "${o.dir}/error.log"
LogLevel warn

# One process of 25 threads, like one Node process.
ServerLimit 1
StartServers 1
ThreadLimit 25
ThreadsPerChild 25
MaxRequestWorkers 25
MinSpareThreads 1
MaxSpareThreads 50
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 30

OIDCProviderMetadataURL ${o.issuer}/.well-known/openid-configuration
OIDCClientID ${o.clientId}
OIDCClientSecret ${o.clientSecret}
OIDCProviderTokenEndpointAuth client_secret_basic
OIDCRedirectURI ${base}/redirect_uri
OIDCCryptoPassphrase ${randomBytes(24).toString("hex")}
OIDCScope "openid contacts:read"
OIDCAuthRequestParams ${resource}
OIDCProviderTokenEndpointParams ${resource}
OIDCPKCEMethod S256
OIDCResponseType code
OIDCRemoteUserClaim sub
OIDCPassClaimsAs environment
# At the login mod_auth_openidc also tries the userinfo endpoint with the API's token, which
# the IdP refuses (it is for the API, not for userinfo): an error line in error.log, once.
OIDCSessionType ${o.mode}
OIDCCacheType shm
<Location />
  AuthType openid-connect
  Require valid-user
</Location>

ProxyPass /contacts http://127.0.0.1:${o.apiPort}/contacts
ProxyAddHeaders Off
RequestHeader set Authorization "Bearer %{OIDC_access_token}e" env=OIDC_access_token
RequestHeader unset Cookie
`;
}

export async function startApache(o: ApacheOptions): Promise<Server> {
  mkdirSync(path.join(o.dir, "run"), { recursive: true });
  const conf = path.join(o.dir, "apache2.conf");
  writeFileSync(conf, apacheConf(o));
  const apache = startProcess(`apache (${o.mode})`, sbin("apache2"), ["-f", conf, "-DFOREGROUND"]);
  // Any answer will do: unauthenticated requests are redirected to the IdP.
  await waitFor(`http://127.0.0.1:${o.port}/contacts`, apache);
  return apache;
}

/** Statuses whose Response must have no body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * Sends a request as written, for the simulated browser: Node's fetch replaces any
 * `sec-fetch-mode` with `cors`, and then mod_auth_openidc takes a navigation for a script's
 * call. No redirect is followed (the browser follows them itself).
 */
async function sendAsWritten(url: string, init: RequestInit): Promise<Response> {
  const answer = await request(url, {
    method: (init.method ?? "GET") as "GET",
    headers: Object.fromEntries(new Headers(init.headers)),
    ...(typeof init.body === "string" ? { body: init.body } : {}),
  });
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      headers.append(name, one);
    }
  }
  const body = await answer.body.arrayBuffer();
  return new Response(NULL_BODY.has(answer.statusCode) ? null : body, { status: answer.statusCode, headers });
}

/**
 * Logs in through Apache and the IdP's pages as a browser navigation (mod_auth_openidc
 * answers a script's request, `sec-fetch-mode: cors`, with 401 instead of a redirect),
 * checks that `/contacts` answers 200, and returns the Cookie header of mod_auth_openidc's
 * session: only its own cookies, not the IdP's that a browser would also send to this host.
 */
export async function loginThroughApache(port: number, idp: string): Promise<string> {
  const base = `http://127.0.0.1:${port}`;
  const browser = new HttpBrowser({ bff: base, idp }, sendAsWritten);
  const start = await browser.navigate(`${base}/contacts`, {
    headers: {
      accept: "text/html,application/xhtml+xml",
      "sec-fetch-mode": "navigate",
      "sec-fetch-dest": "document",
    },
  });
  const { response } = await browser.signInAtIdp(
    start,
    (here) => here.origin === base && here.pathname === "/contacts",
  );
  const body = await response.text();
  if (response.status !== 200) {
    throw new Error(`Apache's /contacts after the login answered ${response.status}: ${body.slice(0, 300)}`);
  }
  const cookies = browser.jar
    .cookiesFor({ url: `${base}/contacts`, kind: "navigation", initiator: null })
    .filter((cookie) => cookie.name.startsWith("mod_auth_openidc_session"));
  if (cookies.length === 0)
    throw new Error("the login through Apache set no mod_auth_openidc session cookie");
  return cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join("; ");
}
