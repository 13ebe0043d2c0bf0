/**
 * The `contacts` command line. Commands:
 *
 *   contacts stats [--secret-file <path>]
 *       As the reporting service (client credentials): aggregate counts from
 *       the API's /stats. The client secret comes from CONTACTS_CLIENT_SECRET or
 *       from a file, never from an argument: arguments end up in shell history
 *       and in every `ps` listing on the machine.
 *
 * Environment: CONTACTS_ISSUER (http://127.0.0.1:4000), CONTACTS_API
 * (http://localhost:4001), CONTACTS_CLIENT_ID (reporting-service).
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";

import { serviceToken } from "./service-token.ts";

export interface CliIo {
  env: Record<string, string | undefined>;
  fetch: typeof fetch;
  out(line: string): void;
  err(line: string): void;
}

export const USAGE = "usage: contacts stats [--secret-file <path>]";

/** Runs one command; returns the exit code. Errors are sentences, never stack traces. */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  try {
    if (command === "stats") return await stats(rest, io);
    io.err(USAGE);
    return 2;
  } catch (error) {
    io.err(`contacts: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
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
  const issuer = io.env.CONTACTS_ISSUER ?? "http://127.0.0.1:4000";
  const api = io.env.CONTACTS_API ?? "http://localhost:4001";
  const { accessToken } = await serviceToken({
    issuer,
    clientId: io.env.CONTACTS_CLIENT_ID ?? "reporting-service",
    clientSecret: await clientSecret(values["secret-file"], io),
    resource: api,
    scope: "contacts:stats",
    fetch: io.fetch,
  });
  const response = await io.fetch(`${api.replace(/\/$/, "")}/stats`, {
    headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" },
  });
  if (!response.ok) throw new Error(`the API answered ${response.status} to /stats`);
  const counts = (await response.json()) as Record<string, unknown>;
  for (const [name, value] of Object.entries(counts)) io.out(`${name}: ${JSON.stringify(value)}`);
  return 0;
}
