import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import {
  type ClientsFileContext,
  loadClientsFile,
  MAX_CLIENTS_FILE_BYTES,
  parseClientsFile,
  withFileClients,
} from "./clients-file.ts";
import { API_SCOPES, DEVICE_CODE_GRANT_TYPE, developmentIdpConfig } from "./config.ts";

const dir = mkdtempSync(join(tmpdir(), "idp-clients-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = "a-secret-of-at-least-thirty-two-characters";
const development: ClientsFileContext = {
  mode: "development",
  env: { INTRANET_SECRET: SECRET },
  baseDir: dir,
  apiScopes: API_SCOPES,
};
const production: ClientsFileContext = { ...development, mode: "production" };

/** A web server's client (mod_auth_openidc): code flow, Basic, secret from the environment. */
const intranet = {
  client_id: "intranet",
  client_name: "Intranet",
  redirect_uris: ["https://intranet.example.com/redirect_uri"],
  post_logout_redirect_uris: ["https://intranet.example.com/"],
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  token_endpoint_auth_method: "client_secret_basic",
  client_secret_env: "INTRANET_SECRET",
  scope: "openid profile email",
  backchannel_logout_uri: "https://intranet.example.com/redirect_uri?logout=backchannel",
};

function problemsOf(clients: unknown[], context = development): string[] {
  return parseClientsFile({ clients }, context).problems;
}

describe("a clients file", () => {
  it("turns client metadata into clients, secrets from the environment or a file", () => {
    writeFileSync(join(dir, "tool.secret"), `${SECRET}-tool\n`);
    const result = parseClientsFile(
      {
        clients: [
          intranet,
          {
            client_id: "tool",
            redirect_uris: ["http://127.0.0.1:8400/callback"],
            token_endpoint_auth_method: "client_secret_post",
            client_secret_file: "tool.secret",
          },
          { client_id: "agent", token_endpoint_auth_method: "none", grant_types: [DEVICE_CODE_GRANT_TYPE] },
          {
            client_id: "nightly-export",
            grant_types: ["client_credentials"],
            client_secret_env: "INTRANET_SECRET",
            scope: "contacts:stats",
          },
        ],
      },
      production,
    );
    expect(result.problems).toEqual([]);
    expect(result.clientIds).toEqual(["intranet", "tool", "agent", "nightly-export"]);
    expect(result.clients).toEqual([
      {
        clientId: "intranet",
        clientName: "Intranet",
        clientSecret: SECRET,
        redirectUris: ["https://intranet.example.com/redirect_uri"],
        postLogoutRedirectUris: ["https://intranet.example.com/"],
        scopes: ["openid", "profile", "email"],
        grantTypes: ["authorization_code", "refresh_token"],
        backchannelLogoutUri: "https://intranet.example.com/redirect_uri?logout=backchannel",
      },
      {
        clientId: "tool",
        clientName: "tool",
        clientSecret: `${SECRET}-tool`,
        tokenEndpointAuth: { method: "client_secret_post" },
        redirectUris: ["http://127.0.0.1:8400/callback"],
        postLogoutRedirectUris: [],
        scopes: ["openid"],
        grantTypes: ["authorization_code", "refresh_token"],
      },
      {
        clientId: "agent",
        clientName: "agent",
        public: true,
        redirectUris: [],
        postLogoutRedirectUris: [],
        scopes: ["openid"],
        grantTypes: [DEVICE_CODE_GRANT_TYPE],
      },
      {
        clientId: "nightly-export",
        clientName: "nightly-export",
        clientSecret: SECRET,
        redirectUris: [],
        postLogoutRedirectUris: [],
        scopes: ["contacts:stats"],
        grantTypes: ["client_credentials"],
      },
    ]);
  });

  it("adds to the built-in clients, and one with a built-in's client_id replaces it whole", () => {
    const builtIn = developmentIdpConfig({ storePath: ":memory:", keysPath: null }).clients;
    const { clients } = parseClientsFile(
      { clients: [intranet, { ...intranet, client_id: "web-bff", client_name: "Another BFF" }] },
      development,
    );
    const merged = withFileClients(builtIn, clients);
    expect(merged.map((client) => client.clientId)).toEqual([
      "reporting-service",
      "contacts-cli",
      "contacts-api",
      "intranet",
      "web-bff",
    ]);
    expect(merged.find((client) => client.clientId === "web-bff")).toMatchObject({
      clientName: "Another BFF",
      redirectUris: intranet.redirect_uris,
    });
  });

  it("names every mistake with its client and field, all at once (X28)", () => {
    const problems = problemsOf([
      { ...intranet, redirect_uri: "https://intranet.example.com/cb" },
      { ...intranet, client_id: "implicit-app", grant_types: ["implicit", "password", "authorization_code"] },
      {
        client_id: "bad uris",
        redirect_uris: ["/callback", "https://a.example/cb#x", "https://*.example/cb"],
      },
      { redirect_uris: ["https://nameless.example/cb"], client_secret: "s" },
    ]);
    expect(problems).toEqual([
      'client "intranet": redirect_uri is not a field of a client (known: client_id, client_name, redirect_uris, post_logout_redirect_uris, grant_types, response_types, token_endpoint_auth_method, client_secret, client_secret_env, client_secret_file, jwks, scope, backchannel_logout_uri)',
      'client "implicit-app": grant_types "implicit": the implicit flow is never available (RFC 9700 §2.1.2): use authorization_code',
      'client "implicit-app": grant_types "password": the password grant is never available (RFC 9700 §2.4)',
      'client "bad uris": client_id must be 1-100 letters, digits, ".", "_", "~" or "-"',
      'client "bad uris": redirect_uris[0] "/callback" is not an absolute URI',
      'client "bad uris": redirect_uris[1] "https://a.example/cb#x" must not have a fragment (OAuth 2.0 §3.1.2)',
      'client "bad uris": redirect_uris[2] "https://*.example/cb" is compared exactly: a * is no wildcard',
      'client "bad uris": redirect_uris must list at least one URI for the authorization_code grant',
      'client "bad uris": client_secret_env is missing: client_secret_basic needs a secret, from client_secret_env or client_secret_file',
      "clients[3]: client_id is missing",
    ]);
  });

  it("in production, refuses a secret written in the file, a short secret and http off loopback (X28)", () => {
    writeFileSync(join(dir, "short.secret"), "short\n");
    const problems = problemsOf(
      [
        { ...intranet, client_secret_env: undefined, client_secret: SECRET },
        { ...intranet, client_id: "short", client_secret_env: undefined, client_secret_file: "short.secret" },
        {
          ...intranet,
          client_id: "plain",
          redirect_uris: ["http://intranet.example.com/cb", "http://localhost:8400/cb"],
          backchannel_logout_uri: "http://intranet.example.com/logout",
        },
      ],
      production,
    );
    expect(problems).toEqual([
      'client "intranet": client_secret is written in the file in clear: production mode refuses it; name an environment variable (client_secret_env) or a file (client_secret_file) instead',
      'client "short": client_secret_file gives a secret shorter than 32 characters',
      'client "plain": redirect_uris[0] "http://intranet.example.com/cb" must use https in production (http only on loopback)',
      'client "plain": backchannel_logout_uri "http://intranet.example.com/logout" must use https in production (http only on loopback)',
    ]);
    // Development takes the same three (a literal secret, a short one, http anywhere).
    expect(
      problemsOf(
        [
          { ...intranet, client_secret_env: undefined, client_secret: "dev" },
          { ...intranet, client_id: "plain", redirect_uris: ["http://intranet.example.com/cb"] },
        ],
        development,
      ),
    ).toEqual([]);
  });

  it("names a secret that cannot be found, and one given twice", () => {
    const problems = problemsOf([
      { ...intranet, client_secret_env: "UNSET_SECRET" },
      {
        ...intranet,
        client_id: "nofile",
        client_secret_env: undefined,
        client_secret_file: "missing.secret",
      },
      { ...intranet, client_id: "twice", client_secret: "x" },
      { ...intranet, client_id: "badname", client_secret_env: "not a name" },
    ]);
    expect(problems).toEqual([
      'client "intranet": client_secret_env names UNSET_SECRET, which is not set',
      `client "nofile": client_secret_file ${join(dir, "missing.secret")} cannot be read (ENOENT)`,
      'client "twice": client_secret and client_secret_env are set together: give the secret one way only',
      'client "badname": client_secret_env "not a name" is not an environment variable name',
    ]);
  });

  it("checks grants, response types and authentication methods against what the IdP offers (X28)", () => {
    const problems = problemsOf([
      { ...intranet, response_types: ["code", "id_token"] },
      { ...intranet, client_id: "jwt", token_endpoint_auth_method: "client_secret_jwt" },
      {
        client_id: "public-service",
        token_endpoint_auth_method: "none",
        grant_types: ["client_credentials"],
        scope: "contacts:stats",
        client_secret_env: "INTRANET_SECRET",
      },
      { ...intranet, client_id: "refresh-only", grant_types: ["refresh_token"], redirect_uris: [] },
      { ...intranet, client_id: "device", grant_types: ["urn:ietf:params:oauth:grant-type:jwt-bearer"] },
    ]);
    expect(problems).toEqual([
      'client "intranet": response_types "id_token" is not offered: the IdP answers the code flow only ("code")',
      'client "jwt": token_endpoint_auth_method "client_secret_jwt" is not supported (client_secret_basic, client_secret_post, private_key_jwt, none)',
      'client "public-service": client_secret_env must not be set with none: a public client has no secret',
      'client "public-service": grant_types client_credentials needs a client that authenticates: with none, anyone could act as it',
      'client "refresh-only": grant_types refresh_token needs authorization_code or the device_code grant to get a refresh token from',
      'client "refresh-only": response_types "code" needs the authorization_code grant in grant_types',
      'client "device": grant_types "urn:ietf:params:oauth:grant-type:jwt-bearer" is not a grant the IdP offers (authorization_code, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:device_code)',
      'client "device": response_types "code" needs the authorization_code grant in grant_types',
      'client "device": redirect_uris are only used by the authorization_code grant, which grant_types does not list',
    ]);
  });

  it("checks scopes against the OpenID ones and the API's", () => {
    expect(
      problemsOf([
        { ...intranet, scope: "profile notes:read" },
        { client_id: "svc", grant_types: ["client_credentials"], client_secret_env: "INTRANET_SECRET" },
      ]),
    ).toEqual([
      'client "intranet": scope "notes:read" is neither an OpenID scope (openid, offline_access, profile, email) nor one of the API\'s (contacts:read, contacts:write, contacts:stats; IDP_API_EXTRA_SCOPES adds more)',
      'client "intranet": scope must include "openid" for a client that logs people in',
      'client "svc": scope must include an API scope for the client_credentials grant: the token is for the API',
    ]);
  });

  it("takes private_key_jwt with public keys only (X28)", () => {
    const publicKey = { kty: "EC", crv: "P-256", x: "x", y: "y" };
    const good = parseClientsFile(
      {
        clients: [
          {
            ...intranet,
            client_secret_env: undefined,
            token_endpoint_auth_method: "private_key_jwt",
            jwks: { keys: [publicKey] },
          },
        ],
      },
      production,
    );
    expect(good.problems).toEqual([]);
    expect(good.clients[0]?.tokenEndpointAuth).toEqual({
      method: "private_key_jwt",
      jwks: { keys: [publicKey] },
    });
    expect(
      problemsOf([
        {
          ...intranet,
          token_endpoint_auth_method: "private_key_jwt",
          jwks: { keys: [{ ...publicKey, d: "secret" }] },
        },
        {
          ...intranet,
          client_id: "nokeys",
          client_secret_env: undefined,
          token_endpoint_auth_method: "private_key_jwt",
        },
      ]),
    ).toEqual([
      'client "intranet": client_secret_env must not be set with private_key_jwt: the client signs with its private key',
      'client "intranet": jwks.keys[0] holds a private key: the IdP needs the public key only',
      'client "nokeys": jwks must be {"keys": [...]} with the client\'s public keys, for private_key_jwt',
    ]);
  });

  it("names a client id used twice, a wrong shape and unknown top-level fields", () => {
    expect(problemsOf([intranet, intranet])).toEqual([
      'client "intranet": client_id is used twice in the file',
    ]);
    expect(parseClientsFile([intranet], development).problems).toEqual([
      'expected an object with a "clients" array',
    ]);
    expect(parseClientsFile({ clients: ["intranet"], client: [] }, development).problems).toEqual([
      'unknown top-level field "client" (only "clients")',
      "clients[0] is not an object",
    ]);
  });

  it("reads the file, bounded, and names one that is missing, too large or no JSON", () => {
    const path = join(dir, "clients.json");
    writeFileSync(path, JSON.stringify({ clients: [intranet] }));
    expect(loadClientsFile(path, development).clients.map((client) => client.clientId)).toEqual(["intranet"]);

    writeFileSync(path, "{ clients: [] }");
    expect(loadClientsFile(path, development).problems).toEqual([
      expect.stringMatching(/^.*clients\.json is not JSON: /),
    ]);
    writeFileSync(path, " ".repeat(MAX_CLIENTS_FILE_BYTES + 1));
    expect(loadClientsFile(path, development).problems).toEqual([
      `${path} is ${MAX_CLIENTS_FILE_BYTES + 1} bytes, more than a clients file needs (at most ${MAX_CLIENTS_FILE_BYTES})`,
    ]);
    expect(loadClientsFile(join(dir, "none.json"), development).problems).toEqual([
      `${join(dir, "none.json")} cannot be read (ENOENT)`,
    ]);
  });
});
