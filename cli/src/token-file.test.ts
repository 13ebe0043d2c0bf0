import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import {
  readTokenFile,
  type StoredTokens,
  tokenFilePath,
  withTokenFileLock,
  writeTokenFile,
} from "./token-file.ts";

const tokens: StoredTokens = {
  issuer: "http://127.0.0.1:4000",
  clientId: "contacts-cli",
  api: "http://localhost:4001",
  accessToken: "access-1",
  accessTokenExpiresAt: 1_900_000_000,
  refreshToken: "refresh-1",
};

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "token-file-"));
  file = join(dir, "config", "tokens.json");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("tokenFilePath", () => {
  it("uses CONTACTS_CONFIG_DIR, else XDG_CONFIG_HOME, else ~/.config", () => {
    expect(tokenFilePath({ CONTACTS_CONFIG_DIR: "/x", XDG_CONFIG_HOME: "/y", HOME: "/h" })).toBe(
      "/x/tokens.json",
    );
    expect(tokenFilePath({ XDG_CONFIG_HOME: "/y", HOME: "/h" })).toBe("/y/oidc-bff-contacts/tokens.json");
    expect(tokenFilePath({ HOME: "/h" })).toBe("/h/.config/oidc-bff-contacts/tokens.json");
  });
});

describe("writeTokenFile", () => {
  it("creates the file with mode 0600 in a directory with mode 0700 (G4)", async () => {
    await writeTokenFile(file, tokens);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "config")).mode & 0o777).toBe(0o700);
    expect(await readTokenFile(file)).toEqual(tokens);
  });

  it("replaces the file by renaming a new one over it, never by rewriting it in place", async () => {
    await writeTokenFile(file, tokens);
    const before = statSync(file);
    await writeTokenFile(file, { ...tokens, refreshToken: "refresh-2" });
    const after = statSync(file);
    // A new file (inode) took the name: a reader of the old one never saw half of the new.
    expect(after.ino).not.toBe(before.ino);
    expect(after.mode & 0o777).toBe(0o600);
    expect((await readTokenFile(file)).refreshToken).toBe("refresh-2");
    expect(readdirSync(join(dir, "config"))).toEqual(["tokens.json"]);
  });

  it("leaves the old file untouched and no temporary file behind when writing fails", async () => {
    await writeTokenFile(file, tokens);
    const unserialisable = { ...tokens, accessTokenExpiresAt: 1n } as unknown as StoredTokens;
    await expect(writeTokenFile(file, unserialisable)).rejects.toThrow();
    expect(await readTokenFile(file)).toEqual(tokens);
    expect(readdirSync(join(dir, "config"))).toEqual(["tokens.json"]);
  });

  it("keeps mode 0600 even over a file someone made readable by others", async () => {
    await writeTokenFile(file, tokens);
    writeFileSync(file, JSON.stringify(tokens), { mode: 0o644 });
    await writeTokenFile(file, tokens);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe("readTokenFile", () => {
  it("answers 'not logged in' for a missing, unparsable or wrongly shaped file", async () => {
    await expect(readTokenFile(file)).rejects.toMatchObject({
      code: "not_logged_in",
      message: "not logged in: run contacts login",
    });
    await writeTokenFile(file, tokens);
    for (const content of ["", "{", "[]", JSON.stringify({ ...tokens, refreshToken: 7 })]) {
      writeFileSync(file, content);
      await expect(readTokenFile(file)).rejects.toMatchObject({ code: "not_logged_in" });
    }
  });
});

describe("withTokenFileLock", () => {
  it("runs one holder at a time and removes the lock afterwards", async () => {
    const order: string[] = [];
    const hold = (name: string) =>
      withTokenFileLock(file, async () => {
        order.push(`${name} in`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        order.push(`${name} out`);
      });
    await Promise.all([hold("a"), hold("b")]);
    // Never interleaved, whichever got the lock first.
    const first = order[0]?.startsWith("a") ? "a" : "b";
    const second = first === "a" ? "b" : "a";
    expect(order).toEqual([`${first} in`, `${first} out`, `${second} in`, `${second} out`]);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it("never removes a lock it does not hold: another command that took over a stale lock keeps it", async () => {
    await withTokenFileLock(file, async () => {
      // Meanwhile another command judged our lock stale and took it over.
      writeFileSync(`${file}.lock`, "someone-else");
    });
    expect(readFileSync(`${file}.lock`, "utf8")).toBe("someone-else");
  });
});
