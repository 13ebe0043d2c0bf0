/**
 * The IdP rotates its signing key and restarts; the BFF and the API do not.
 * Tokens signed with the old key keep working until they expire, tokens
 * signed with the new one are accepted as soon as they appear: both fetch the
 * JWKS again when they meet an unknown `kid`.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { rotateSigningKeys } from "@oidc-bff/idp/keys";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { IDP, startSystem, TestBrowser, type TestSystem, USERS } from "./harness.ts";

let dir: string;
let system: TestSystem;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "bff-key-rotation-"));
  system = await startSystem(
    {},
    {},
    { keysPath: join(dir, "jwks.json"), storePath: join(dir, "idp.sqlite") },
  );
});
afterEach(async () => {
  await system.close();
  rmSync(dir, { recursive: true, force: true });
});

const kids = () =>
  (JSON.parse(readFileSync(join(dir, "jwks.json"), "utf8")) as { keys: { kid: string }[] }).keys.map(
    (k) => k.kid,
  );

async function publishedKids(): Promise<string[]> {
  const response = await system.fetch(`${IDP}/jwks`);
  return ((await response.json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
}

describe("signing-key rotation", () => {
  it("keeps sessions and API calls working across a rotation, with no BFF or API restart", async () => {
    const alice = new TestBrowser(system);
    await alice.login(USERS.alice);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    const [oldKid] = kids();

    const { kid: newKid } = rotateSigningKeys(join(dir, "jwks.json"));
    await system.restartIdp();
    expect(await publishedKids()).toEqual([newKid, oldKid]);

    // The access token signed with the old key is still good: the old key is still published.
    expect((await alice.api("/api/contacts")).status).toBe(200);

    // The next refresh brings tokens signed with the new key: ID token checked by the BFF,
    // access token by the API, both with a key neither has seen yet.
    const refreshes = system.refreshCount();
    system.advance(10 * 60_000);
    expect((await alice.api("/api/contacts")).status).toBe(200);
    expect(system.refreshCount()).toBe(refreshes + 1);

    // And a new person logs in with everything signed by the new key.
    const bob = new TestBrowser(system);
    await bob.login(USERS.bob);
    expect((await bob.api("/api/contacts")).status).toBe(200);
  });

  it("keeps the newest two earlier keys published, and no more", () => {
    const path = join(dir, "jwks.json");
    const first = kids()[0];
    const second = rotateSigningKeys(path).kid;
    const third = rotateSigningKeys(path).kid;
    const fourth = rotateSigningKeys(path).kid;
    expect(kids()).toEqual([fourth, third, second]);
    expect(kids()).not.toContain(first);
  });
});
