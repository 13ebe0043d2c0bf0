import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { type ContactsStore, openContactsStore } from "./contacts-store.ts";

let dir: string;
let store: ContactsStore | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "api-store-"));
});
afterEach(() => {
  store?.close();
  store = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const names = (s: ContactsStore, owner: string) => s.list(owner).map((c) => c.name);

describe("contacts store", () => {
  it("seeds three contacts for alice and two for bob", () => {
    store = openContactsStore(":memory:", { seed: true });
    expect(names(store, "user-alice")).toEqual(["Mad Hatter", "White Rabbit", "Cheshire Cat"]);
    expect(names(store, "user-bob")).toEqual(["Peter Tosh", "Bunny Wailer"]);
    expect(store.list("user-alice")[0]).toMatchObject({
      email: "hatter@example.com",
      group: "Tea party",
    });
    expect(store.list("user-alice")[2]?.group).toBeNull();
  });

  it("does not seed unless asked", () => {
    store = openContactsStore(":memory:");
    expect(store.stats()).toEqual({ users: 0, contacts: 0, groups: 0 });
  });

  it("creates the parent directory, uses WAL, and seeds a file only once in its life", () => {
    const path = join(dir, "a", "b", "contacts.sqlite");
    store = openContactsStore(path, { seed: true });
    for (const contact of store.list("user-alice")) store.remove("user-alice", contact.id);
    store.close();

    // Reopened with seed: alice deleted everything, and it stays deleted.
    store = openContactsStore(path, { seed: true });
    expect(store.list("user-alice")).toEqual([]);
    expect(names(store, "user-bob")).toHaveLength(2);

    const raw = new DatabaseSync(path);
    expect(raw.prepare("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    raw.close();
  });

  it("adds with a random UUID and the injected clock, and lists in creation order", () => {
    let clock = Date.parse("2030-01-01T00:00:00.000Z");
    store = openContactsStore(":memory:", { now: () => clock });
    const first = store.add("user-alice", { name: "Queen", email: "queen@example.com", group: "Court" });
    clock += 1000;
    const second = store.add("user-alice", { name: "King", email: "king@example.com" });
    expect(first).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      name: "Queen",
      email: "queen@example.com",
      group: "Court",
      createdAt: "2030-01-01T00:00:00.000Z",
    });
    expect(second.group).toBeNull();
    expect(second.id).not.toBe(first.id);
    expect(names(store, "user-alice")).toEqual(["Queen", "King"]);
    expect(store.get("user-alice", second.id)).toEqual(second);
  });

  it("never reads or removes another owner's contact", () => {
    store = openContactsStore(":memory:", { seed: true });
    const hatter = store.list("user-alice")[0];
    if (!hatter) throw new Error("no seed");
    expect(store.get("user-bob", hatter.id)).toBeUndefined();
    expect(store.remove("user-bob", hatter.id)).toBe(false);
    expect(store.remove("user-alice", hatter.id)).toBe(true);
    expect(store.remove("user-alice", hatter.id)).toBe(false);
  });

  it("treats hostile input as data (parameterized queries)", () => {
    store = openContactsStore(":memory:", { seed: true });
    const name = "Robert'); DROP TABLE contacts;--";
    store.add("user-alice' OR '1'='1", { name, email: "bobby@example.com" });
    expect(store.list("user-alice' OR '1'='1").map((c) => c.name)).toEqual([name]);
    expect(names(store, "user-alice")).toHaveLength(3);
  });

  it("counts users, contacts and per-person groups", () => {
    store = openContactsStore(":memory:", { seed: true });
    // alice: Tea party, Court; bob: The Wailers (twice).
    expect(store.stats()).toEqual({ users: 2, contacts: 5, groups: 3 });
    store.add("user-bob", { name: "Judge", email: "judge@example.com", group: "Court" });
    expect(store.stats()).toEqual({ users: 2, contacts: 6, groups: 4 });
  });
});
