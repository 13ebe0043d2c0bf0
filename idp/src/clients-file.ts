/**
 * More relying parties for the embedded IdP, from a JSON file (IDP_CLIENTS_FILE),
 * without code: a web server with mod_auth_openidc, a command-line tool, a
 * second app of your own. The schema is OAuth's own client metadata (RFC 7591
 * §2), in its own names, with three additions for the secret:
 *
 * ```json
 * { "clients": [ {
 *     "client_id": "intranet",
 *     "client_name": "Intranet",
 *     "redirect_uris": ["https://intranet.example.com/redirect_uri"],
 *     "post_logout_redirect_uris": ["https://intranet.example.com/"],
 *     "grant_types": ["authorization_code", "refresh_token"],
 *     "response_types": ["code"],
 *     "token_endpoint_auth_method": "client_secret_basic",
 *     "client_secret_env": "INTRANET_CLIENT_SECRET",
 *     "scope": "openid profile email",
 *     "backchannel_logout_uri": "https://intranet.example.com/redirect_uri?logout=backchannel"
 * } ] }
 * ```
 *
 * The file's clients come in addition to the built-in ones; one with a built-in's
 * `client_id` (web-bff, reporting-service, contacts-cli, contacts-api) replaces
 * it whole. Every mistake is collected, named by client and field, and the IdP
 * refuses to start with all of them in one message.
 */
import type { JsonWebKey } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

import { DEVICE_CODE_GRANT_TYPE, type IdpClient, type IdpGrantType, type IdpMode } from "./config.ts";
import { OIDC_SCOPES } from "./provider-config.ts";

export interface ClientsFileContext {
  /** Production refuses secrets written in the file, short secrets and http off loopback. */
  mode: IdpMode;
  /** Where `client_secret_env` names are looked up. */
  env: Readonly<Record<string, string | undefined>>;
  /** Where a relative `client_secret_file` starts: the clients file's directory. */
  baseDir: string;
  /** The API scopes a client may list in `scope`, besides the OpenID ones. */
  apiScopes: readonly string[];
}

export interface ClientsFileResult {
  /** The clients that passed every check. */
  clients: IdpClient[];
  /** Every client id the file names, valid or not: the built-ins it replaces. */
  clientIds: string[];
  /** Every mistake, each naming its client and field. Empty: the file is good. */
  problems: string[];
}

/** A generous bound for a configuration file; a larger one is a mistake (or not a clients file). */
export const MAX_CLIENTS_FILE_BYTES = 1024 * 1024;
const MAX_SECRET_FILE_BYTES = 4096;
/** The length production requires of a secret (as for the built-in clients). */
const MIN_PRODUCTION_SECRET_LENGTH = 32;

const GRANT_TYPES: readonly IdpGrantType[] = [
  "authorization_code",
  "refresh_token",
  "client_credentials",
  DEVICE_CODE_GRANT_TYPE,
];
/** Grants someone may ask for that the IdP never offers, and why. */
const REFUSED_GRANTS: Record<string, string> = {
  implicit: "the implicit flow is never available (RFC 9700 §2.1.2): use authorization_code",
  password: "the password grant is never available (RFC 9700 §2.4)",
};
const AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"] as const;
type AuthMethod = (typeof AUTH_METHODS)[number];
/** JWK members that only a private (or symmetric) key has. */
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const FIELDS = new Set([
  "client_id",
  "client_name",
  "redirect_uris",
  "post_logout_redirect_uris",
  "grant_types",
  "response_types",
  "token_endpoint_auth_method",
  "client_secret",
  "client_secret_env",
  "client_secret_file",
  "jwks",
  "scope",
  "backchannel_logout_uri",
]);
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Reads and checks a clients file. Never throws: a file that cannot be read or
 * is no JSON is one more problem.
 */
export function loadClientsFile(
  path: string,
  context: Omit<ClientsFileContext, "baseDir">,
): ClientsFileResult {
  const empty = (problem: string): ClientsFileResult => ({ clients: [], clientIds: [], problems: [problem] });
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_CLIENTS_FILE_BYTES) {
      return empty(
        `${path} is ${size} bytes, more than a clients file needs (at most ${MAX_CLIENTS_FILE_BYTES})`,
      );
    }
    text = readFileSync(path, "utf8");
  } catch (error) {
    return empty(`${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return empty(`${path} is not JSON: ${(error as Error).message}`);
  }
  return parseClientsFile(document, { ...context, baseDir: dirname(path) });
}

/** Checks a parsed clients file: `{ "clients": [ { client metadata } ] }`. */
export function parseClientsFile(document: unknown, context: ClientsFileContext): ClientsFileResult {
  const problems: string[] = [];
  if (!isObject(document) || !Array.isArray(document.clients)) {
    return { clients: [], clientIds: [], problems: ['expected an object with a "clients" array'] };
  }
  for (const key of Object.keys(document)) {
    if (key !== "clients") problems.push(`unknown top-level field "${key}" (only "clients")`);
  }

  const clients: IdpClient[] = [];
  const clientIds: string[] = [];
  document.clients.forEach((entry: unknown, index: number) => {
    const rawId = isObject(entry) ? entry.client_id : undefined;
    const named = typeof rawId === "string" && rawId !== "" ? `client "${rawId}"` : `clients[${index}]`;
    const before = problems.length;
    const problem = (field: string, message: string) => problems.push(`${named}: ${field} ${message}`);
    if (!isObject(entry)) {
      problems.push(`${named} is not an object`);
      return;
    }
    if (typeof rawId === "string" && rawId !== "") {
      if (clientIds.includes(rawId)) problem("client_id", "is used twice in the file");
      clientIds.push(rawId);
    }
    const client = checkClient(entry, problem, context);
    if (client && problems.length === before) clients.push(client);
  });
  return { clients, clientIds, problems };
}

/**
 * The file's clients in place of the built-in ones they name, and after the
 * others: a file client with a built-in's id replaces it whole.
 */
export function withFileClients(builtIn: readonly IdpClient[], fromFile: readonly IdpClient[]): IdpClient[] {
  const replaced = new Set(fromFile.map((client) => client.clientId));
  return [...builtIn.filter((client) => !replaced.has(client.clientId)), ...fromFile];
}

type Problem = (field: string, message: string) => void;

function checkClient(
  entry: Record<string, unknown>,
  problem: Problem,
  context: ClientsFileContext,
): IdpClient | undefined {
  for (const key of Object.keys(entry)) {
    if (!FIELDS.has(key)) problem(key, `is not a field of a client (known: ${[...FIELDS].join(", ")})`);
  }

  const clientId = entry.client_id;
  if (clientId === undefined || clientId === "") problem("client_id", "is missing");
  else if (typeof clientId !== "string" || !/^[A-Za-z0-9._~-]{1,100}$/.test(clientId)) {
    problem("client_id", 'must be 1-100 letters, digits, ".", "_", "~" or "-"');
  }
  const clientName = entry.client_name ?? clientId;
  if (entry.client_name !== undefined && (typeof clientName !== "string" || clientName.length > 100)) {
    problem("client_name", "must be a string of at most 100 characters");
  }

  const grantTypes = checkGrantTypes(entry.grant_types, problem);
  const logsPeopleIn = grantTypes.includes("authorization_code");
  checkResponseTypes(entry.response_types, logsPeopleIn, problem);

  const redirectUris = uriList(entry.redirect_uris, "redirect_uris", problem, context.mode);
  if (logsPeopleIn && redirectUris.length === 0) {
    problem("redirect_uris", "must list at least one URI for the authorization_code grant");
  }
  if (!logsPeopleIn && redirectUris.length > 0) {
    problem(
      "redirect_uris",
      "are only used by the authorization_code grant, which grant_types does not list",
    );
  }
  const postLogoutRedirectUris = uriList(
    entry.post_logout_redirect_uris,
    "post_logout_redirect_uris",
    problem,
    context.mode,
  );
  let backchannelLogoutUri: string | undefined;
  if (entry.backchannel_logout_uri !== undefined) {
    if (typeof entry.backchannel_logout_uri !== "string")
      problem("backchannel_logout_uri", "must be a string");
    else if (checkUri(entry.backchannel_logout_uri, "backchannel_logout_uri", problem, context.mode)) {
      backchannelLogoutUri = entry.backchannel_logout_uri;
    }
  }

  const scopes = checkScope(entry.scope, grantTypes, problem, context.apiScopes);
  const auth = checkAuthentication(entry, grantTypes, problem, context);
  if (!auth || typeof clientId !== "string" || typeof clientName !== "string") return undefined;
  return {
    clientId,
    clientName,
    ...auth,
    redirectUris,
    postLogoutRedirectUris,
    scopes,
    grantTypes,
    ...(backchannelLogoutUri ? { backchannelLogoutUri } : {}),
  };
}

function checkGrantTypes(value: unknown, problem: Problem): IdpGrantType[] {
  if (value === undefined) return ["authorization_code", "refresh_token"];
  if (!Array.isArray(value)) {
    problem("grant_types", "must be an array");
    return [];
  }
  const grants: IdpGrantType[] = [];
  for (const grant of value) {
    if (typeof grant === "string" && REFUSED_GRANTS[grant])
      problem("grant_types", `"${grant}": ${REFUSED_GRANTS[grant]}`);
    else if (!GRANT_TYPES.includes(grant as IdpGrantType)) {
      problem("grant_types", `"${String(grant)}" is not a grant the IdP offers (${GRANT_TYPES.join(", ")})`);
    } else if (!grants.includes(grant as IdpGrantType)) grants.push(grant as IdpGrantType);
  }
  if (
    grants.includes("refresh_token") &&
    !grants.includes("authorization_code") &&
    !grants.includes(DEVICE_CODE_GRANT_TYPE)
  ) {
    problem(
      "grant_types",
      "refresh_token needs authorization_code or the device_code grant to get a refresh token from",
    );
  }
  return grants;
}

/** The code flow only: `["code"]` with authorization_code, none without. */
function checkResponseTypes(value: unknown, logsPeopleIn: boolean, problem: Problem): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) {
    problem("response_types", "must be an array");
    return;
  }
  for (const type of value) {
    if (type !== "code") {
      problem(
        "response_types",
        `"${String(type)}" is not offered: the IdP answers the code flow only ("code")`,
      );
    }
  }
  if (logsPeopleIn && !value.includes("code")) {
    problem("response_types", 'must be ["code"] for the authorization_code grant');
  }
  if (!logsPeopleIn && value.includes("code")) {
    problem("response_types", '"code" needs the authorization_code grant in grant_types');
  }
}

function uriList(value: unknown, field: string, problem: Problem, mode: IdpMode): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problem(field, "must be an array of URIs");
    return [];
  }
  const uris: string[] = [];
  value.forEach((uri: unknown, index: number) => {
    if (typeof uri !== "string") problem(`${field}[${index}]`, "must be a string");
    else if (checkUri(uri, `${field}[${index}]`, problem, mode) && !uris.includes(uri)) uris.push(uri);
  });
  return uris;
}

/**
 * A URI the IdP compares exactly (no wildcard, no pattern) and sends a browser
 * or a logout token to: absolute http(s), no fragment, no user name in it; in
 * production http only on loopback (RFC 9700 §2.6, RFC 8252 §8.3).
 */
function checkUri(uri: string, field: string, problem: Problem, mode: IdpMode): boolean {
  const url = URL.parse(uri);
  const fail = (message: string) => {
    problem(field, `"${uri}" ${message}`);
    return false;
  };
  if (!url) return fail("is not an absolute URI");
  if (url.protocol !== "https:" && url.protocol !== "http:") return fail("must be http(s)");
  if (uri.includes("#")) return fail("must not have a fragment (OAuth 2.0 §3.1.2)");
  if (uri.includes("*")) return fail("is compared exactly: a * is no wildcard");
  if (url.username || url.password) return fail("must not carry a user name or password");
  if (mode === "production" && url.protocol === "http:" && !LOOPBACK_HOSTS.has(url.hostname)) {
    return fail("must use https in production (http only on loopback)");
  }
  return true;
}

function checkScope(
  value: unknown,
  grantTypes: readonly IdpGrantType[],
  problem: Problem,
  apiScopes: readonly string[],
): string[] {
  const forPeople = grantTypes.includes("authorization_code") || grantTypes.includes(DEVICE_CODE_GRANT_TYPE);
  if (value !== undefined && typeof value !== "string") {
    problem("scope", 'must be a string of space-separated scopes, e.g. "openid profile email"');
    return [];
  }
  // Unset: just the person's identity for a login, nothing for a service.
  const scopes = [...new Set((value ?? (forPeople ? "openid" : "")).split(" ").filter(Boolean))];
  for (const scope of scopes) {
    if (!OIDC_SCOPES.includes(scope) && !apiScopes.includes(scope)) {
      problem(
        "scope",
        `"${scope}" is neither an OpenID scope (${OIDC_SCOPES.join(", ")}) nor one of the API's (${apiScopes.join(", ")}; IDP_API_EXTRA_SCOPES adds more)`,
      );
    }
  }
  if (forPeople && !scopes.includes("openid"))
    problem("scope", 'must include "openid" for a client that logs people in');
  if (grantTypes.includes("client_credentials") && !scopes.some((scope) => apiScopes.includes(scope))) {
    problem("scope", "must include an API scope for the client_credentials grant: the token is for the API");
  }
  return scopes;
}

/** How the client proves who it is, and its secret or public keys. */
function checkAuthentication(
  entry: Record<string, unknown>,
  grantTypes: readonly IdpGrantType[],
  problem: Problem,
  context: ClientsFileContext,
): Pick<IdpClient, "clientSecret" | "tokenEndpointAuth" | "public"> | undefined {
  const method = (entry.token_endpoint_auth_method ?? "client_secret_basic") as AuthMethod;
  if (!AUTH_METHODS.includes(method)) {
    problem(
      "token_endpoint_auth_method",
      `"${String(method)}" is not supported (${AUTH_METHODS.join(", ")})`,
    );
    return undefined;
  }
  const secretFields = ["client_secret", "client_secret_env", "client_secret_file"].filter(
    (field) => entry[field] !== undefined,
  );

  if (method === "none" || method === "private_key_jwt") {
    const why = method === "none" ? "a public client has no secret" : "the client signs with its private key";
    for (const field of secretFields) problem(field, `must not be set with ${method}: ${why}`);
  }
  if (method !== "private_key_jwt" && entry.jwks !== undefined) {
    problem("jwks", "is only for private_key_jwt");
  }

  if (method === "none") {
    if (grantTypes.includes("client_credentials")) {
      problem(
        "grant_types",
        "client_credentials needs a client that authenticates: with none, anyone could act as it",
      );
    }
    return { public: true };
  }
  if (method === "private_key_jwt") {
    const jwks = checkJwks(entry.jwks, problem);
    return jwks ? { tokenEndpointAuth: { method, jwks } } : undefined;
  }

  if (secretFields.length === 0) {
    problem(
      "client_secret_env",
      `is missing: ${method} needs a secret, from client_secret_env or client_secret_file`,
    );
    return undefined;
  }
  if (secretFields.length > 1) {
    problem(secretFields.join(" and "), "are set together: give the secret one way only");
    return undefined;
  }
  const secret = readSecret(entry, secretFields[0] as string, problem, context);
  if (secret === undefined) return undefined;
  if (context.mode === "production" && secret.length < MIN_PRODUCTION_SECRET_LENGTH) {
    problem(
      secretFields[0] as string,
      `gives a secret shorter than ${MIN_PRODUCTION_SECRET_LENGTH} characters`,
    );
  }
  return {
    clientSecret: secret,
    ...(method === "client_secret_basic" ? {} : { tokenEndpointAuth: { method } }),
  };
}

function readSecret(
  entry: Record<string, unknown>,
  field: string,
  problem: Problem,
  context: ClientsFileContext,
): string | undefined {
  const value = entry[field];
  if (typeof value !== "string" || value === "") {
    problem(field, "must be a non-empty string");
    return undefined;
  }
  if (field === "client_secret") {
    if (context.mode === "production") {
      problem(
        field,
        "is written in the file in clear: production mode refuses it; name an environment variable (client_secret_env) or a file (client_secret_file) instead",
      );
      return undefined;
    }
    return value;
  }
  if (field === "client_secret_env") {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
      problem(field, `"${value}" is not an environment variable name`);
      return undefined;
    }
    const secret = context.env[value]?.trim();
    if (!secret) problem(field, `names ${value}, which is not set`);
    return secret || undefined;
  }
  // client_secret_file: one line, the secret (a trailing newline is not part of it).
  const path = resolve(context.baseDir, value);
  try {
    if (statSync(path).size > MAX_SECRET_FILE_BYTES) {
      problem(field, `${path} is larger than a secret (at most ${MAX_SECRET_FILE_BYTES} bytes)`);
      return undefined;
    }
    const secret = readFileSync(path, "utf8").trim();
    if (!secret) problem(field, `${path} is empty`);
    return secret || undefined;
  } catch (error) {
    problem(field, `${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
    return undefined;
  }
}

function checkJwks(value: unknown, problem: Problem): { keys: JsonWebKey[] } | undefined {
  if (!isObject(value) || !Array.isArray(value.keys) || value.keys.length === 0) {
    problem("jwks", 'must be {"keys": [...]} with the client\'s public keys, for private_key_jwt');
    return undefined;
  }
  let good = true;
  value.keys.forEach((key: unknown, index: number) => {
    if (!isObject(key) || (key.kty !== "RSA" && key.kty !== "EC" && key.kty !== "OKP")) {
      problem(`jwks.keys[${index}]`, "must be a public JWK (kty RSA, EC or OKP)");
      good = false;
    } else if (PRIVATE_JWK_MEMBERS.some((member) => member in key)) {
      problem(`jwks.keys[${index}]`, "holds a private key: the IdP needs the public key only");
      good = false;
    }
  });
  return good ? { keys: value.keys as JsonWebKey[] } : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
