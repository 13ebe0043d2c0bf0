/**
 * Relying parties from IDP_CLIENTS_FILE, through the real provider: the IdP
 * started from its environment (as `node idp/src/server.ts` is) serves a client
 * the file names, code flow and refresh, and knows no client the file does
 * not name. A file with mistakes stops the server with all of them.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { inject } from "light-my-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createIdp, type Idp } from "../src/app.ts";
import { idpSettingsFromEnvironment } from "../src/env.ts";
import {
  API,
  authorizationRequest,
  Browser,
  backChannel,
  basicAuth,
  decodeJwt,
  ISSUER,
  location,
  signIn,
} from "./helpers.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "idp-clients-file-"));
const SECRET = "intranet-secret-of-more-than-thirty-two-characters";

/** A web server (mod_auth_openidc, say) and a command-line tool on a loopback port (oidc-agent, say). */
const CLIENTS = {
  clients: [
    {
      client_id: "intranet",
      client_name: "Intranet",
      redirect_uris: ["http://localhost:8080/redirect_uri"],
      post_logout_redirect_uris: ["http://localhost:8080/"],
      token_endpoint_auth_method: "client_secret_basic",
      client_secret_env: "INTRANET_CLIENT_SECRET",
      scope: "openid profile email offline_access contacts:read",
    },
    {
      client_id: "agent",
      redirect_uris: ["http://127.0.0.1:4242/"],
      token_endpoint_auth_method: "none",
      scope: "openid offline_access",
    },
  ],
};

function environment(clients: unknown): NodeJS.ProcessEnv {
  const file = join(dir, `clients-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(clients));
  return {
    IDP_CLIENTS_FILE: file,
    IDP_DATA_DIR: dir,
    INTRANET_CLIENT_SECRET: SECRET,
    // No BFF listens here: no logout tokens to localhost:3000.
    IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI: "none",
  };
}

let idp: Idp;
beforeAll(async () => {
  const { config } = idpSettingsFromEnvironment(environment(CLIENTS), ROOT);
  idp = await createIdp({ ...config, storePath: ":memory:", keysPath: null });
});
afterAll(async () => {
  await idp.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A token request from a public client: it names itself in the body and has no secret. */
async function publicToken(form: Record<string, string>) {
  const response = await inject(idp.listener, {
    method: "POST",
    url: "/token",
    headers: { host: new URL(ISSUER).host, "content-type": "application/x-www-form-urlencoded" },
    payload: new URLSearchParams(form).toString(),
  });
  return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
}

describe("a client from the clients file", () => {
  it("logs a person in by the code flow, gets the API's token, and refreshes", async () => {
    const redirectUri = "http://localhost:8080/redirect_uri";
    const request = authorizationRequest({
      client_id: "intranet",
      redirect_uri: redirectUri,
      scope: "openid profile email contacts:read",
    });
    const callback = await signIn(new Browser(idp), request);
    expect(`${callback.origin}${callback.pathname}`).toBe(redirectUri);
    const code = String(callback.searchParams.get("code"));

    const asIntranet = { authorization: basicAuth("intranet", SECRET) };
    const exchanged = await backChannel(
      idp,
      "/token",
      { grant_type: "authorization_code", code, code_verifier: request.verifier, redirect_uri: redirectUri },
      asIntranet,
    );
    expect(exchanged.status, JSON.stringify(exchanged.body)).toBe(200);
    expect(decodeJwt(String(exchanged.body.id_token)).payload).toMatchObject({
      aud: "intranet",
      sub: "user-alice",
    });

    const refreshed = await backChannel(
      idp,
      "/token",
      { grant_type: "refresh_token", refresh_token: String(exchanged.body.refresh_token), resource: API },
      asIntranet,
    );
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    expect(decodeJwt(String(refreshed.body.access_token)).payload).toMatchObject({
      aud: API,
      client_id: "intranet",
      scope: "contacts:read",
    });
    expect(refreshed.body.refresh_token).not.toBe(exchanged.body.refresh_token);

    // The secret is the one from the environment, nothing else.
    const wrong = await backChannel(
      idp,
      "/token",
      { grant_type: "refresh_token", refresh_token: String(refreshed.body.refresh_token) },
      { authorization: basicAuth("intranet", "dev-web-bff-secret-change-me") },
    );
    expect(wrong.status).toBe(401);
  });

  it("as a public client (none), logs in with PKCE and refreshes without a secret", async () => {
    const redirectUri = "http://127.0.0.1:4242/";
    const request = authorizationRequest({
      client_id: "agent",
      redirect_uri: redirectUri,
      scope: "openid",
      resource: undefined,
    });
    const code = String((await signIn(new Browser(idp), request)).searchParams.get("code"));
    const exchanged = await publicToken({
      grant_type: "authorization_code",
      client_id: "agent",
      code,
      code_verifier: request.verifier,
      redirect_uri: redirectUri,
    });
    expect(exchanged.status, JSON.stringify(exchanged.body)).toBe(200);
    const refreshed = await publicToken({
      grant_type: "refresh_token",
      client_id: "agent",
      refresh_token: String(exchanged.body.refresh_token),
    });
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(exchanged.body.refresh_token);
  });

  it("gets no redirect to a URI the file does not list for it (X28)", async () => {
    const request = authorizationRequest({
      client_id: "intranet",
      redirect_uri: "http://localhost:8080/other",
    });
    const page = await new Browser(idp).get(request.url);
    expect(page.statusCode).toBe(400);
    expect(page.body).toContain("redirect_uri");
  });
});

describe("a client not in the file", () => {
  it("is unknown at the authorization and the token endpoint (X28)", async () => {
    const request = authorizationRequest({
      client_id: "not-registered",
      redirect_uri: "http://localhost:8080/redirect_uri",
    });
    const page = await new Browser(idp).get(request.url);
    expect(page.statusCode).toBe(400);
    expect(page.body).toContain("invalid_client");

    const token = await backChannel(
      idp,
      "/token",
      { grant_type: "client_credentials", scope: "contacts:read" },
      { authorization: basicAuth("not-registered", SECRET) },
    );
    expect(token.status).toBe(401);
    expect(token.body.error).toBe("invalid_client");
  });

  it("the built-in ones stay: web-bff still logs people in", async () => {
    const request = authorizationRequest();
    expect(location(await new Browser(idp).get(request.url))).toMatch(/^\/interaction\//);
  });
});

describe("a clients file with mistakes", () => {
  it("stops the IdP server before it listens, naming every mistake, without a stack trace (X28)", async () => {
    const env = environment({
      clients: [
        { ...CLIENTS.clients[0], client_secret_env: "UNSET_CLIENT_SECRET", grant_types: ["implicit"] },
        {
          client_id: "agent",
          redirect_uris: ["https://agent.example/cb#fragment"],
          token_endpoint_auth_method: "none",
        },
      ],
    });
    const child = spawn(process.execPath, [join(ROOT, "idp/src/server.ts")], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", ...env, IDP_PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    // A server that started after all would listen until stopped.
    const stopIfListening = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    clearTimeout(stopIfListening);

    expect(code).toBe(1);
    expect(output).not.toContain("listening");
    expect(output).not.toMatch(/^\s+at /m);
    expect(output.trim().split("\n")).toEqual([
      "Invalid IdP environment:",
      '  - IDP_CLIENTS_FILE: client "intranet": grant_types "implicit": the implicit flow is never available (RFC 9700 §2.1.2): use authorization_code',
      '  - IDP_CLIENTS_FILE: client "intranet": redirect_uris are only used by the authorization_code grant, which grant_types does not list',
      '  - IDP_CLIENTS_FILE: client "intranet": client_secret_env names UNSET_CLIENT_SECRET, which is not set',
      '  - IDP_CLIENTS_FILE: client "agent": redirect_uris[0] "https://agent.example/cb#fragment" must not have a fragment (OAuth 2.0 §3.1.2)',
      '  - IDP_CLIENTS_FILE: client "agent": redirect_uris must list at least one URI for the authorization_code grant',
    ]);
  });
});
