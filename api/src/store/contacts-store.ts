import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";

import type { Contact, NewContact } from "@oidc-bff/shared";

import { SEED_CONTACTS } from "./seed.ts";

/** Aggregate counts over every owner: what a reporting client may see, nothing personal. */
export interface ContactStats {
  /** Owners with at least one contact. */
  users: number;
  contacts: number;
  /** Distinct (owner, group) pairs: each person's groups are their own. */
  groups: number;
}

/** Every method is scoped by `owner` (the token's user): there is no way to reach another person's rows. */
export interface ContactsStore {
  list(owner: string): Contact[];
  get(owner: string, id: string): Contact | undefined;
  add(owner: string, contact: NewContact): Contact;
  /** False when no contact with this id belongs to `owner`. */
  remove(owner: string, id: string): boolean;
  stats(): ContactStats;
  close(): void;
}

export interface ContactsStoreOptions {
  /** Insert the development contacts of alice and bob, once in the life of the database. */
  seed?: boolean;
  now?: () => number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS contacts (
    id         TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    grp        TEXT,
    created_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX IF NOT EXISTS contacts_owner ON contacts (owner, created_at);
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
`;

interface Row {
  id: string;
  name: string;
  email: string;
  grp: string | null;
  created_at: string;
}

const toContact = (row: Row): Contact => ({
  id: row.id,
  name: row.name,
  email: row.email,
  group: row.grp,
  createdAt: row.created_at,
});

/**
 * Opens (or creates) the contacts database at `path`, or an in-memory one for ":memory:".
 *
 * @example
 * const store = openContactsStore(".data/api/contacts.sqlite", { seed: true });
 * store.list("user-alice");
 */
export function openContactsStore(path: string, options: ContactsStoreOptions = {}): ContactsStore {
  const now = options.now ?? Date.now;
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new DatabaseSync(path);
  try {
    if (path !== ":memory:") {
      // WAL: readers never wait for the writer; NORMAL is durable enough with WAL.
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    }
    db.exec("PRAGMA busy_timeout = 5000;");
    db.exec(SCHEMA);
  } catch (error) {
    db.close();
    throw error;
  }

  const statements = {
    list: db.prepare(
      "SELECT id, name, email, grp, created_at FROM contacts WHERE owner = ? ORDER BY created_at, rowid",
    ),
    get: db.prepare("SELECT id, name, email, grp, created_at FROM contacts WHERE owner = ? AND id = ?"),
    insert: db.prepare(
      "INSERT INTO contacts (id, owner, name, email, grp, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    remove: db.prepare("DELETE FROM contacts WHERE owner = ? AND id = ?"),
    stats: db.prepare(`
      SELECT
        (SELECT COUNT(DISTINCT owner) FROM contacts) AS users,
        (SELECT COUNT(*) FROM contacts) AS contacts,
        (SELECT COUNT(*) FROM (SELECT DISTINCT owner, grp FROM contacts WHERE grp IS NOT NULL)) AS groups`),
    seeded: db.prepare("SELECT value FROM meta WHERE key = 'seeded'"),
    markSeeded: db.prepare("INSERT INTO meta (key, value) VALUES ('seeded', ?)"),
  };

  function add(owner: string, contact: NewContact): Contact {
    const row: Row = {
      id: randomUUID(),
      name: contact.name,
      email: contact.email,
      grp: contact.group ?? null,
      created_at: new Date(now()).toISOString(),
    };
    statements.insert.run(row.id, owner, row.name, row.email, row.grp, row.created_at);
    return toContact(row);
  }

  if (options.seed) {
    // Remembered in `meta` rather than inferred from an empty table, so that a
    // person who deleted every seeded contact does not get them back on restart.
    db.exec("BEGIN IMMEDIATE");
    try {
      if (statements.seeded.get() === undefined) {
        for (const { owner, ...contact } of SEED_CONTACTS) add(owner, contact);
        statements.markSeeded.run(new Date(now()).toISOString());
      }
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      db.close();
      throw error;
    }
  }

  return {
    list: (owner) => (statements.list.all(owner) as unknown as Row[]).map(toContact),
    get: (owner, id) => {
      const row = statements.get.get(owner, id) as unknown as Row | undefined;
      return row && toContact(row);
    },
    add,
    remove: (owner, id) => Number(statements.remove.run(owner, id).changes) > 0,
    stats: () => {
      const row = statements.stats.get() as unknown as ContactStats;
      return { users: Number(row.users), contacts: Number(row.contacts), groups: Number(row.groups) };
    },
    close: () => {
      if (db.isOpen) db.close();
    },
  };
}
