import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { IdpError } from "./errors.ts";
import { parsePasswordHash, verifyPassword } from "./password.ts";

/** The claims a user can have; which of them a client sees depends on the granted scopes. */
export interface UserClaims {
  name?: string;
  given_name?: string;
  family_name?: string;
  email?: string;
  email_verified?: boolean;
}

export interface IdpUser {
  /** What the person types on the login page (lower case). */
  username: string;
  /** The stable subject identifier put in tokens (`sub`). Never reused, never shown as a login name. */
  sub: string;
  /** `scrypt$N$r$p$salt$hash`, see password.ts. */
  passwordHash: string;
  claims: UserClaims;
}

/** The committed development users (alice, bob). Production mode refuses them. */
export const DEV_USERS_FILE = fileURLToPath(new URL("../users.dev.json", import.meta.url));

const STRING_CLAIMS = ["name", "given_name", "family_name", "email"] as const;

/**
 * Checks the parsed content of a users file: `{ "users": [ { username, sub, passwordHash, claims } ] }`.
 * Every problem is listed in one error, so a broken file is fixed in one go.
 */
export function parseUsers(input: unknown, source = "users file"): IdpUser[] {
  const problems: string[] = [];
  const list =
    typeof input === "object" && input !== null && Array.isArray((input as { users?: unknown }).users)
      ? ((input as { users: unknown[] }).users as unknown[])
      : undefined;
  if (!list) {
    throw new IdpError("invalid_users_file", `${source}: expected an object with a "users" array.`);
  }

  const users: IdpUser[] = [];
  const usernames = new Set<string>();
  const subs = new Set<string>();
  list.forEach((entry, index) => {
    const at = `users[${index}]`;
    if (typeof entry !== "object" || entry === null) {
      problems.push(`${at} is not an object`);
      return;
    }
    const raw = entry as Record<string, unknown>;
    const { username, sub, passwordHash } = raw;
    if (typeof username !== "string" || !/^[a-z0-9._-]{1,64}$/.test(username)) {
      problems.push(`${at}.username must be 1-64 lower-case letters, digits, ".", "_" or "-"`);
    } else if (usernames.has(username)) {
      problems.push(`${at}.username "${username}" is used twice`);
    } else {
      usernames.add(username);
    }
    if (typeof sub !== "string" || sub.length === 0 || sub.length > 255) {
      problems.push(`${at}.sub must be a non-empty string of at most 255 characters`);
    } else if (subs.has(sub)) {
      problems.push(`${at}.sub "${sub}" is used twice`);
    } else {
      subs.add(sub);
    }
    if (typeof passwordHash !== "string") {
      problems.push(`${at}.passwordHash must be a string (make one with: node idp/src/hash-password.ts)`);
    } else {
      try {
        parsePasswordHash(passwordHash);
      } catch (error) {
        problems.push(`${at}.passwordHash: ${(error as Error).message}`);
      }
    }
    const claims: UserClaims = {};
    const rawClaims = raw.claims ?? {};
    if (typeof rawClaims !== "object" || rawClaims === null) {
      problems.push(`${at}.claims must be an object`);
    } else {
      const given = rawClaims as Record<string, unknown>;
      for (const name of STRING_CLAIMS) {
        if (given[name] === undefined) continue;
        if (typeof given[name] === "string") claims[name] = given[name];
        else problems.push(`${at}.claims.${name} must be a string`);
      }
      if (given.email_verified !== undefined) {
        if (typeof given.email_verified === "boolean") claims.email_verified = given.email_verified;
        else problems.push(`${at}.claims.email_verified must be true or false`);
      }
    }
    users.push({ username: String(username), sub: String(sub), passwordHash: String(passwordHash), claims });
  });

  if (users.length === 0) problems.push("there are no users");
  if (problems.length > 0) {
    throw new IdpError("invalid_users_file", `${source} is not valid:\n  - ${problems.join("\n  - ")}`);
  }
  return users;
}

/** Reads and validates a users file (JSON). */
export function loadUsersFile(path: string): IdpUser[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (cause) {
    throw new IdpError(
      "invalid_users_file",
      `Cannot read the users file ${path}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  return parseUsers(parsed, path);
}

// A well-formed hash (same cost as real ones) that no password matches. Checking
// unknown usernames against it makes "no such user" take as long as "wrong
// password", so response times do not reveal which usernames exist.
const DUMMY_HASH = "scrypt$32768$8$1$AAdEfeJHvjaLSoEtb3vR+w==$RMqssss7QSQ9VosOv5iFn7Pscx8jU2udVETumDkauac=";

export interface UserDirectory {
  findBySub(sub: string): IdpUser | undefined;
  findByUsername(username: string): IdpUser | undefined;
  /** The user when the username and password match, else undefined — with the same cost either way. */
  authenticate(username: string, password: string): Promise<IdpUser | undefined>;
}

export function createUserDirectory(
  users: readonly IdpUser[],
  deps: { verify?: (password: string, stored: string) => Promise<boolean> } = {},
): UserDirectory {
  const verify = deps.verify ?? verifyPassword;
  const bySub = new Map(users.map((user) => [user.sub, user]));
  const byUsername = new Map(users.map((user) => [user.username, user]));
  const normalize = (username: string) => username.trim().toLowerCase();

  return {
    findBySub: (sub) => bySub.get(sub),
    findByUsername: (username) => byUsername.get(normalize(username)),
    async authenticate(username, password) {
      const user = byUsername.get(normalize(username));
      const matches = await verify(password, user?.passwordHash ?? DUMMY_HASH);
      return user && matches ? user : undefined;
    },
  };
}
