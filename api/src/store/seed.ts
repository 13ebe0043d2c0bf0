import type { NewContact } from "@oidc-bff/shared";

/**
 * The development contacts: alice's and bob's, so that a fresh start shows
 * something and the tests can prove neither sees the other's. The owners are
 * the `sub` values of the IdP's development users.
 */
export const SEED_CONTACTS: Array<NewContact & { owner: string }> = [
  { owner: "user-alice", name: "Mad Hatter", email: "hatter@example.com", group: "Tea party" },
  { owner: "user-alice", name: "White Rabbit", email: "rabbit@example.com", group: "Court" },
  { owner: "user-alice", name: "Cheshire Cat", email: "cat@example.com", group: null },
  { owner: "user-bob", name: "Peter Tosh", email: "peter@example.com", group: "The Wailers" },
  { owner: "user-bob", name: "Bunny Wailer", email: "bunny@example.com", group: "The Wailers" },
];
