import { describe, expect, it } from "vitest";

import { hashPassword, parsePasswordHash, verifyPassword } from "./password.ts";

describe("password hashing", () => {
  it("verifies the right password and rejects a wrong one", async () => {
    const stored = await hashPassword("correct horse battery staple");
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword("correct horse battery staple", stored)).toBe(true);
    expect(await verifyPassword("correct horse battery stapl", stored)).toBe(false);
  });

  it("salts every hash", async () => {
    expect(await hashPassword("same")).not.toBe(await hashPassword("same"));
  });

  it("verifies with the cost parameters stored in the hash", async () => {
    const stored = await hashPassword("pw");
    const { salt, key } = parsePasswordHash(stored);
    expect(salt).toHaveLength(16);
    expect(key).toHaveLength(32);
  });

  it.each([
    ["another algorithm", "bcrypt$10$abc"],
    [
      "a cost that is not a power of two",
      "scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ],
    [
      "a memory-hungry cost",
      "scrypt$4194304$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ],
    ["a missing salt", "scrypt$32768$8$1$$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="],
  ])("refuses a stored hash with %s", (_case, stored) => {
    expect(() => parsePasswordHash(stored)).toThrow(/Password hash is not valid/);
  });

  it("is what the development users file uses", async () => {
    const { loadUsersFile, DEV_USERS_FILE } = await import("./users.ts");
    const [alice, bob] = loadUsersFile(DEV_USERS_FILE);
    expect(await verifyPassword("alice-dev-password", alice?.passwordHash ?? "")).toBe(true);
    expect(await verifyPassword("bob-dev-password", bob?.passwordHash ?? "")).toBe(true);
  });
});
