/**
 * The `contacts` command line. Commands:
 *
 *   contacts login
 *       Logs a person in with the device authorization grant (RFC 8628): prints
 *       a web address and a code, waits until the person approves in a browser
 *       (on any device), and stores the tokens in the token file (token-file.ts).
 *   contacts list
 *   contacts add <name> <email> [--group <group>]
 *   contacts delete <id>
 *       The person's own contacts, through the API, with the stored access token
 *       (refreshed when it has expired; see person-session.ts).
 *   contacts logout
 *       Revokes the refresh token at the IdP and deletes the token file.
 *   contacts stats [--secret-file <path>]
 *       As the reporting service (client credentials): aggregate counts from
 *       the API's /stats. The client secret comes from CONTACTS_CLIENT_SECRET or
 *       from a file, never from an argument: arguments end up in shell history
 *       and in every `ps` listing on the machine.
 *
 * Environment: CONTACTS_ISSUER (http://127.0.0.1:4000), CONTACTS_API
 * (http://localhost:4001), CONTACTS_CLIENT_ID (the service's client,
 * reporting-service), CONTACTS_LOGIN_CLIENT_ID (the person's client,
 * contacts-cli), CONTACTS_CONFIG_DIR (where the token file goes; default
 * $XDG_CONFIG_HOME/oidc-bff-contacts or ~/.config/oidc-bff-contacts).
 *
 * Exit codes: 0 success; 1 failure; 2 wrong usage; 3 not logged in (or the login
 * has expired); 4 the person declined the login; 5 the login code expired.
 */
import { readFile } from "node:fs/promises";
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";

import { type Contact, DEFAULT_LOCAL_SYSTEM } from "@oidc-bff/shared";

import { isLoopback } from "./authorization-server.ts";
import { type DevicePrompt, deviceLogin } from "./device-login.ts";
import { CliError } from "./errors.ts";
import { logOut, type PersonSessionContext, tokensFromLogin, withAccessToken } from "./person-session.ts";
import { printable } from "./printable.ts";
import { serviceToken } from "./service-token.ts";
import { tokenFilePath, withTokenFileLock, writeTokenFile } from "./token-file.ts";

export interface CliIo {
  env: Record<string, string | undefined>;
  fetch: typeof fetch;
  out(line: string): void;
  err(line: string): void;
  /** Waits between polls of the device flow. Default: a real timer. */
  sleep?(ms: number): Promise<void>;
  /** Milliseconds since the epoch. Default: Date.now. */
  now?(): number;
}

export const USAGE = `usage: contacts login
       contacts list
       contacts add <name> <email> [--group <group>]
       contacts delete <id>
       contacts logout
       contacts stats [--secret-file <path>]`;

/** What the person's login asks for: who they are, staying logged in, their contacts. */
export const LOGIN_SCOPE = "openid offline_access contacts:read contacts:write";

class UsageError extends Error {}

/** Runs one command; returns the exit code. Errors are sentences, never stack traces. */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "login":
        return await login(rest, io);
      case "logout":
        return await logout(rest, io);
      case "list":
        return await list(rest, io);
      case "add":
        return await add(rest, io);
      case "delete":
        return await remove(rest, io);
      case "stats":
        return await stats(rest, io);
      default:
        io.err(USAGE);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n${USAGE}`);
      return 2;
    }
    io.err(`contacts: ${printable(error instanceof Error ? error.message : String(error))}`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}

function addresses(io: CliIo) {
  // Unset: the development system on this machine (shared/src/local-system.ts).
  const api = (io.env.CONTACTS_API ?? DEFAULT_LOCAL_SYSTEM.api).replace(/\/$/, "");
  // Every call carries a bearer token: over plain http anyone on the path could take it.
  // Only the API on this machine (the embedded development one) may use http.
  const url = URL.parse(api);
  if (!url || !(url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url.hostname)))) {
    throw new CliError(
      "api_refused",
      `CONTACTS_API must be an https URL, or http on this machine (got "${api}")`,
    );
  }
  return { issuer: io.env.CONTACTS_ISSUER ?? DEFAULT_LOCAL_SYSTEM.idp, api };
}

function personSession(io: CliIo): PersonSessionContext {
  return {
    ...addresses(io),
    clientId: io.env.CONTACTS_LOGIN_CLIENT_ID ?? "contacts-cli",
    file: tokenFilePath(io.env),
    fetch: io.fetch,
    now: io.now ?? Date.now,
  };
}

interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Parses a command's arguments; anything unexpected is a usage error. */
function parse(args: string[], positionals: number, options: ParseArgsOptionsConfig = {}): ParsedArgs {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true }) as ParsedArgs;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.positionals.length !== positionals) throw new UsageError("wrong number of arguments");
  return parsed;
}

async function login(args: string[], io: CliIo): Promise<number> {
  parse(args, 0);
  const session = personSession(io);
  const show = (prompt: DevicePrompt) => {
    io.out("To log in, open this page in a browser (on this or any other device):");
    io.out(`  ${prompt.verificationUri}`);
    io.out("and enter the code:");
    io.out(`  ${prompt.userCode}`);
    if (prompt.verificationUriComplete) {
      io.out("Or open this address, which fills in the code for you:");
      io.out(`  ${prompt.verificationUriComplete}`);
    }
    const issuerHost = new URL(session.issuer).host;
    io.out(`The page must be on ${issuerHost} and show the same code.`);
    warnAboutForeignPages(prompt, session.issuer, io);
    io.out(
      `Waiting for you to approve (the code expires in ${Math.round(prompt.expiresIn / 60)} minutes)...`,
    );
  };
  const result = await deviceLogin({
    issuer: session.issuer,
    clientId: session.clientId,
    resource: session.api,
    scope: LOGIN_SCOPE,
    fetch: io.fetch,
    prompt: (prompt) => show(printablePrompt(prompt)),
    sleep: io.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    now: session.now,
  });
  // Under the same lock as a refresh: a command refreshing the old login must not
  // overwrite the new one half-way.
  await withTokenFileLock(session.file, () => writeTokenFile(session.file, tokensFromLogin(session, result)));
  io.out(
    `Logged in${result.subject ? ` as ${printable(result.subject)}` : ""}. Tokens are in ${session.file}.`,
  );
  return 0;
}

/**
 * RFC 8628 §5.4 (remote phishing): the page where the code is entered should be the
 * IdP's own. One on another origin (a misconfigured or hostile IdP, or a tampered
 * answer) is shown, since the person may know why, but with a warning naming both
 * hosts. (The command line never opens a browser by itself.)
 */
function warnAboutForeignPages(prompt: DevicePrompt, issuer: string, io: CliIo): void {
  const issuerOrigin = new URL(issuer).origin;
  const pages = [prompt.verificationUri, prompt.verificationUriComplete].filter(
    (page): page is string => page !== undefined,
  );
  for (const page of pages) {
    const origin = URL.parse(page)?.origin;
    if (origin === issuerOrigin) continue;
    io.err(
      `contacts: warning: ${page} is not on ${new URL(issuer).host}, the IdP you are logging in to. ` +
        "Enter the code there only if you know why.",
    );
  }
}

function printablePrompt(prompt: DevicePrompt): DevicePrompt {
  return {
    ...prompt,
    verificationUri: printable(prompt.verificationUri),
    userCode: printable(prompt.userCode),
    ...(prompt.verificationUriComplete
      ? { verificationUriComplete: printable(prompt.verificationUriComplete) }
      : {}),
  };
}

async function logout(args: string[], io: CliIo): Promise<number> {
  parse(args, 0);
  const revoked = await logOut(personSession(io));
  io.out(
    revoked ? "Logged out: the login is revoked at the IdP and the tokens are deleted." : "Not logged in.",
  );
  return 0;
}

/** Calls the API as the logged-in person; an answer other than 2xx becomes a sentence. */
async function callApi(io: CliIo, method: "GET" | "POST" | "DELETE", path: string, body?: unknown) {
  const session = personSession(io);
  const response = await withAccessToken(session, (accessToken) =>
    io.fetch(`${session.api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${accessToken}`,
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );
  if (response.ok) return response;
  if (response.status === 401) {
    throw new CliError("session_expired", "the API does not accept your login any more: run contacts login");
  }
  const problem = (await response.json().catch(() => ({}))) as { detail?: unknown; title?: unknown };
  const reason = typeof problem.detail === "string" ? problem.detail : problem.title;
  throw new CliError(
    "api_refused",
    `the API answered ${response.status}${typeof reason === "string" ? `: ${reason}` : ""}`,
  );
}

function describe(contact: Contact): string {
  const group = contact.group ? ` [${contact.group}]` : "";
  return printable(`${contact.id}  ${contact.name} <${contact.email}>${group}`);
}

async function list(args: string[], io: CliIo): Promise<number> {
  parse(args, 0);
  const contacts = (await (await callApi(io, "GET", "/contacts")).json()) as Contact[];
  if (contacts.length === 0) io.out("No contacts.");
  for (const contact of contacts) io.out(describe(contact));
  return 0;
}

async function add(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, 2, { group: { type: "string" } });
  const [name, email] = positionals;
  const group = typeof values.group === "string" ? { group: values.group } : {};
  const contact = (await (
    await callApi(io, "POST", "/contacts", { name, email, ...group })
  ).json()) as Contact;
  io.out(`Added ${describe(contact)}`);
  return 0;
}

async function remove(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parse(args, 1);
  const id = positionals[0] as string;
  await callApi(io, "DELETE", `/contacts/${encodeURIComponent(id)}`);
  io.out(`Deleted ${printable(id)}.`);
  return 0;
}

async function clientSecret(secretFile: string | undefined, io: CliIo): Promise<string> {
  if (secretFile) return (await readFile(secretFile, "utf8")).trim();
  const fromEnv = io.env.CONTACTS_CLIENT_SECRET?.trim();
  if (fromEnv) return fromEnv;
  throw new Error("no client secret: set CONTACTS_CLIENT_SECRET or pass --secret-file <path>");
}

async function stats(args: string[], io: CliIo): Promise<number> {
  let values: { "secret-file"?: string | undefined };
  try {
    ({ values } = parseArgs({ args, options: { "secret-file": { type: "string" } }, strict: true }));
  } catch {
    // --secret, --client-secret and friends land here: refused by design, with the reason.
    io.err(
      `${USAGE}\nA secret is never accepted as an argument; use CONTACTS_CLIENT_SECRET or --secret-file.`,
    );
    return 2;
  }
  const { issuer, api } = addresses(io);
  const { accessToken } = await serviceToken({
    issuer,
    clientId: io.env.CONTACTS_CLIENT_ID ?? "reporting-service",
    clientSecret: await clientSecret(values["secret-file"], io),
    resource: api,
    scope: "contacts:stats",
    fetch: io.fetch,
  });
  const response = await io.fetch(`${api}/stats`, {
    headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" },
  });
  if (!response.ok) throw new Error(`the API answered ${response.status} to /stats`);
  const counts = (await response.json()) as Record<string, unknown>;
  for (const [name, value] of Object.entries(counts)) io.out(printable(`${name}: ${JSON.stringify(value)}`));
  return 0;
}
