/**
 * After `contacts login`: the person's contacts through the real API, the
 * refresh with rotation when the access token has expired, and logout.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { runCli, type StoredTokens } from "../src/index.ts";
import {
  API,
  configDir,
  ISSUER,
  Person,
  promptIn,
  recordingIo,
  startSystem,
  type TestSystem,
} from "./system.ts";

let system: TestSystem;
let config: ReturnType<typeof configDir>;
beforeAll(async () => {
  system = await startSystem();
});
afterAll(async () => {
  await system.close();
});
beforeEach(async () => {
  config = configDir();
});
afterEach(() => config.remove());

const tokenFile = () => join(config.dir, "tokens.json");
const stored = () => JSON.parse(readFileSync(tokenFile(), "utf8")) as StoredTokens;

async function loginAs(username = "alice", password = `${username}-dev-password`) {
  const person = new Person(system.fetch);
  const { io, out } = recordingIo({ CONTACTS_CONFIG_DIR: config.dir }, system.fetch, async () => {
    await person.answer(promptIn(out).verificationUri, promptIn(out).userCode, "approve", {
      username,
      password,
    });
  });
  expect(await runCli(["login"], io)).toBe(0);
}

/** Runs one command with the test's config directory; `fetch` defaults to the in-process system. */
async function contacts(args: string[], overrides: { fetch?: typeof fetch; now?: () => number } = {}) {
  const { io, out, err } = recordingIo(
    { CONTACTS_CONFIG_DIR: config.dir },
    overrides.fetch ?? system.fetch,
    undefined,
    {
      ...(overrides.now ? { now: overrides.now } : {}),
    },
  );
  const code = await runCli(args, io);
  return { code, out, err };
}

/** A direct refresh at the IdP, as anyone holding the token could try. */
async function refreshAtIdp(refreshToken: string) {
  const response = await system.fetch(`${ISSUER}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: "contacts-cli",
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const anHourLater = () => Date.now() + 60 * 60 * 1000;

describe("contacts list, add and delete", () => {
  it("lists, adds and deletes alice's own contacts through the API", async () => {
    await loginAs("alice");
    const before = await contacts(["list"]);
    expect(before.code).toBe(0);
    expect(before.out.length).toBeGreaterThan(0);
    expect(before.out.join("\n")).toMatch(/<[^>]+@[^>]+>/);

    const added = await contacts(["add", "Dinah the Cat", "dinah@example.com", "--group", "family"]);
    expect(added.code, added.err.join("\n")).toBe(0);
    const id = /^Added (\S+)\s+Dinah the Cat <dinah@example.com> \[family\]$/.exec(added.out[0] ?? "")?.[1];
    expect(id).toBeDefined();
    expect((await contacts(["list"])).out).toContain(`${id}  Dinah the Cat <dinah@example.com> [family]`);

    expect(await contacts(["delete", String(id)])).toMatchObject({ code: 0, out: [`Deleted ${id}.`] });
    expect((await contacts(["list"])).out.join("\n")).not.toContain("Dinah");
  });

  it("never shows bob alice's contacts", async () => {
    await loginAs("alice");
    const alice = (await contacts(["list"])).out;
    config.remove();
    config = configDir();
    await loginAs("bob");
    const bob = (await contacts(["list"])).out;
    expect(bob.filter((line) => alice.includes(line))).toEqual([]);
  });

  it("says what the API refused, in a sentence", async () => {
    await loginAs("alice");
    const invalid = await contacts(["add", "Nobody", "not-an-email"]);
    expect(invalid.code).toBe(1);
    expect(invalid.err).toEqual(["contacts: the API answered 400: Email is not valid."]);
    const unknown = await contacts(["delete", "no-such-id"]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toEqual(["contacts: the API answered 404: No such contact."]);
  });

  it("prints contacts' control characters harmlessly (no terminal escape sequences)", async () => {
    await loginAs("alice");
    const evil = "Evil\u001b]0;owned\u0007 \u001b[2J";
    expect((await contacts(["add", evil, "evil@example.com"])).code).toBe(0);
    const listed = (await contacts(["list"])).out.join("\n");
    expect(listed).toContain("Evil\uFFFD]0;owned\uFFFD \uFFFD[2J");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: that is what must not be there.
    expect(listed).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });

  it("refuses wrong usage with exit code 2", async () => {
    expect((await contacts(["add", "only-a-name"])).code).toBe(2);
    expect((await contacts(["delete"])).code).toBe(2);
    expect((await contacts(["list", "--verbose"])).code).toBe(2);
    expect((await contacts(["frobnicate"])).code).toBe(2);
  });
});

describe("without a usable token file", () => {
  it("says 'not logged in' when there is no file, with exit code 3 and no stack trace", async () => {
    const { code, err } = await contacts(["list"]);
    expect(code).toBe(3);
    expect(err).toEqual(["contacts: not logged in: run contacts login"]);
  });

  it("says 'not logged in' for a damaged file", async () => {
    for (const content of ["{not json", JSON.stringify({ accessToken: 42 }), "null"]) {
      writeFileSync(tokenFile(), content, { mode: 0o600 });
      const { code, err } = await contacts(["list"]);
      expect(code).toBe(3);
      expect(err.join("\n")).toMatch(
        /^contacts: not logged in: run contacts login \(the token file .* is damaged\)$/,
      );
    }
  });

  it("never sends a token to an API it was not issued for (G7)", async () => {
    await loginAs("alice");
    const requested: string[] = [];
    const { io, err } = recordingIo(
      { CONTACTS_CONFIG_DIR: config.dir, CONTACTS_API: "https://elsewhere.example" },
      async (input, init) => {
        requested.push(new Request(input, init).url);
        return system.fetch(input, init);
      },
    );
    expect(await runCli(["list"], io)).toBe(3);
    expect(err.join("\n")).toContain("run contacts login");
    expect(requested).toEqual([]);
  });
});

describe("refresh with rotation", () => {
  it("refreshes an expired access token, storing the new refresh token before the new access token is used (G5)", async () => {
    await loginAs("alice");
    const before = stored();
    const seenAtApiCall: StoredTokens[] = [];
    const watching = async (input: string | URL | Request, init?: RequestInit) => {
      const request = new Request(input, init);
      if (new URL(request.url).origin === API) seenAtApiCall.push(stored());
      return system.fetch(request);
    };

    // An hour later the stored access token has expired.
    const { code, err } = await contacts(["list"], { fetch: watching, now: anHourLater });
    expect(code, err.join("\n")).toBe(0);
    const after = stored();
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.accessToken).not.toBe(before.accessToken);
    // When the API was called, the file already held the new tokens.
    expect(seenAtApiCall).toHaveLength(1);
    expect(seenAtApiCall[0]).toEqual(after);

    // The IdP refuses the spent refresh token.
    const replay = await refreshAtIdp(String(before.refreshToken));
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe("invalid_grant");
  });

  it("refreshes and retries once when the API answers 401", async () => {
    await loginAs("alice");
    const before = stored();
    writeFileSync(tokenFile(), JSON.stringify({ ...before, accessToken: "not-a-valid-token" }), {
      mode: 0o600,
    });
    const { code, err } = await contacts(["list"]);
    expect(code, err.join("\n")).toBe(0);
    expect(stored().refreshToken).not.toBe(before.refreshToken);
    expect(stored().accessToken).not.toBe("not-a-valid-token");
  });

  it("says the login has expired when the IdP refuses the refresh token, and forgets it", async () => {
    await loginAs("alice");
    const spent = String(stored().refreshToken);
    // Someone else uses the refresh token first: rotation makes the stored one useless
    // (and the IdP, seeing a spent token come back, ends the whole grant).
    expect((await refreshAtIdp(spent)).status).toBe(200);
    const { code, err } = await contacts(["list"], { now: anHourLater });
    expect(code).toBe(3);
    expect(err).toEqual(["contacts: your login has expired or was revoked: run contacts login"]);
    expect(existsSync(tokenFile())).toBe(false);
  });
});

describe("contacts logout", () => {
  it("revokes the refresh token at the IdP and deletes the token file", async () => {
    await loginAs("alice");
    const refreshToken = String(stored().refreshToken);
    const { code, out } = await contacts(["logout"]);
    expect(code).toBe(0);
    expect(out).toEqual(["Logged out: the login is revoked at the IdP and the tokens are deleted."]);
    expect(existsSync(tokenFile())).toBe(false);
    const afterLogout = await refreshAtIdp(refreshToken);
    expect(afterLogout.status).toBe(400);
    expect(afterLogout.body.error).toBe("invalid_grant");
    expect((await contacts(["list"])).err).toEqual(["contacts: not logged in: run contacts login"]);
  });

  it("keeps the file when the IdP cannot be reached, so logging out can be tried again", async () => {
    await loginAs("alice");
    const offline = async () => {
      throw new TypeError("fetch failed");
    };
    const { code, err } = await contacts(["logout"], { fetch: offline });
    expect(code).toBe(1);
    expect(err).toEqual(["contacts: fetch failed"]);
    expect(existsSync(tokenFile())).toBe(true);
  });

  it("says so when nobody is logged in", async () => {
    expect(await contacts(["logout"])).toMatchObject({ code: 0, out: ["Not logged in."] });
  });
});
