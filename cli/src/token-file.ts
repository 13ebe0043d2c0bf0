/**
 * Where `contacts login` keeps a person's tokens: one JSON file,
 * `$CONTACTS_CONFIG_DIR/tokens.json`, else `$XDG_CONFIG_HOME/oidc-bff-contacts/tokens.json`,
 * else `~/.config/oidc-bff-contacts/tokens.json`.
 *
 * The refresh token in it is as good as the person's login for as long as it
 * lives, so:
 * - the file is created with mode 0600 (its directory 0700): no other user of
 *   the machine can read it;
 * - it is replaced atomically (a temporary file in the same directory, written
 *   with 0600 and flushed to disk, then renamed over the old one): a crash or a
 *   full disk leaves the old file or the new one, never half of one. That
 *   matters most after a refresh, when the IdP has already invalidated the old
 *   refresh token (rotation): losing the new one would log the person out.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";

import { CliError, NOT_LOGGED_IN } from "./errors.ts";

export interface StoredTokens {
  /** The IdP that issued them and the API they are for: never sent anywhere else. */
  issuer: string;
  clientId: string;
  api: string;
  accessToken: string;
  /** Seconds since the epoch. */
  accessTokenExpiresAt: number;
  refreshToken?: string;
  scope?: string;
  /** Who logged in (the ID token's `sub`), for messages. */
  subject?: string;
}

export const TOKEN_FILE_NAME = "tokens.json";
const APP_DIR = "oidc-bff-contacts";

/** The token file's path for this environment (see above). */
export function tokenFilePath(env: Record<string, string | undefined>): string {
  if (env.CONTACTS_CONFIG_DIR) return join(env.CONTACTS_CONFIG_DIR, TOKEN_FILE_NAME);
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(configHome, APP_DIR, TOKEN_FILE_NAME);
}

function isStoredTokens(value: unknown): value is StoredTokens {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  const optionalString = (key: string) => v[key] === undefined || typeof v[key] === "string";
  return (
    typeof v.issuer === "string" &&
    typeof v.clientId === "string" &&
    typeof v.api === "string" &&
    typeof v.accessToken === "string" &&
    typeof v.accessTokenExpiresAt === "number" &&
    optionalString("refreshToken") &&
    optionalString("scope") &&
    optionalString("subject")
  );
}

/** The stored tokens; a missing or damaged file is "not logged in", in a sentence. */
export async function readTokenFile(file: string): Promise<StoredTokens> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      throw new CliError("not_logged_in", NOT_LOGGED_IN);
    throw new CliError(
      "not_logged_in",
      `${NOT_LOGGED_IN} (cannot read ${file}: ${(error as Error).message})`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isStoredTokens(parsed)) {
    throw new CliError("not_logged_in", `${NOT_LOGGED_IN} (the token file ${file} is damaged)`);
  }
  return parsed;
}

/** Replaces the token file atomically, with mode 0600, creating its directory with 0700. */
export async function writeTokenFile(file: string, tokens: StoredTokens): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = join(dir, `.${TOKEN_FILE_NAME}.${randomBytes(8).toString("hex")}.tmp`);
  try {
    // "wx": never follow or reuse something already there.
    const handle = await open(temporary, "wx", 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(tokens, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}

/** Makes the rename itself durable (POSIX: a directory entry is flushed with its directory). */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic.
  } finally {
    await handle.close();
  }
}

export async function deleteTokenFile(file: string): Promise<void> {
  await rm(file, { force: true });
}

const LOCK_WAIT_MS = 15_000;
const STALE_LOCK_MS = 30_000;

/**
 * Runs `work` while holding `<file>.lock`, so that two `contacts` commands
 * running at once do not both spend the same refresh token: with rotation the
 * second use would look like a stolen token, and the IdP would end the login.
 * A lock left behind by a crashed command is ignored after 30 seconds.
 */
export async function withTokenFileLock<T>(file: string, work: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + LOCK_WAIT_MS;
  // Our own mark in the lock, so that we only ever remove the lock we hold.
  const mine = randomUUID();
  for (;;) {
    try {
      const handle = await open(lock, "wx", 0o600);
      await handle.writeFile(mine);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const since = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (since > STALE_LOCK_MS) await rm(lock, { force: true });
      else if (Date.now() > deadline) {
        throw new Error(`another contacts command is using ${file}; try again (or delete ${lock})`);
      } else await delay(100);
    }
  }
  try {
    return await work();
  } finally {
    // Another command may have taken over a lock it judged stale: that one is not ours to remove.
    const holder = await readFile(lock, "utf8").catch(() => undefined);
    if (holder === mine) await rm(lock, { force: true });
  }
}
