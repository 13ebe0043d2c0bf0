import { describe, expect, it, vi } from "vitest";

import { createUserDirectory, DEV_USERS_FILE, loadUsersFile, parseUsers } from "./users.ts";

const users = loadUsersFile(DEV_USERS_FILE);

describe("the development users file", () => {
  it("holds alice and bob with the planned subjects and claims", () => {
    expect(users.map((user) => [user.username, user.sub])).toEqual([
      ["alice", "user-alice"],
      ["bob", "user-bob"],
    ]);
    expect(users[0]?.claims).toEqual({
      name: "Alice Liddell",
      given_name: "Alice",
      family_name: "Liddell",
      email: "alice@example.com",
      email_verified: true,
    });
  });
});

describe("parseUsers", () => {
  it("lists every problem of a broken file at once", () => {
    const broken = {
      users: [
        { username: "Alice", sub: "", passwordHash: "plain", claims: { email_verified: "yes" } },
        { username: "bob", sub: "b", passwordHash: users[1]?.passwordHash },
        { username: "bob", sub: "b", passwordHash: users[1]?.passwordHash },
      ],
    };
    expect(() => parseUsers(broken)).toThrow(
      /users\[0\]\.username[\s\S]*users\[0\]\.sub[\s\S]*users\[0\]\.passwordHash[\s\S]*email_verified[\s\S]*"bob" is used twice[\s\S]*"b" is used twice/,
    );
  });

  it("refuses a file without users", () => {
    expect(() => parseUsers({ users: [] })).toThrow(/no users/);
    expect(() => parseUsers([])).toThrow(/"users" array/);
  });
});

describe("authenticate", () => {
  it("returns the user for the right password, case-insensitively on the username", async () => {
    const directory = createUserDirectory(users);
    expect((await directory.authenticate(" Alice ", "alice-dev-password"))?.sub).toBe("user-alice");
    expect(await directory.authenticate("alice", "bob-dev-password")).toBeUndefined();
  });

  it("checks unknown usernames against a dummy hash, so they cost the same time as a wrong password", async () => {
    const verify = vi.fn(async () => false);
    const directory = createUserDirectory(users, { verify });

    expect(await directory.authenticate("mallory", "whatever")).toBeUndefined();
    expect(verify).toHaveBeenCalledTimes(1);
    const [password, dummyHash] = verify.mock.calls[0] as unknown as [string, string];
    expect(password).toBe("whatever");
    // A real scrypt hash with the same cost as the users' hashes, belonging to nobody.
    expect(dummyHash.split("$").slice(0, 4)).toEqual(users[0]?.passwordHash.split("$").slice(0, 4));
    expect(users.map((user) => user.passwordHash)).not.toContain(dummyHash);
  });
});
