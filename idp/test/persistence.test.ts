import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { createIdp } from "../src/app.ts";
import {
  API,
  authorizationRequest,
  Browser,
  decodeJwt,
  location,
  loggedInTokens,
  refresh,
  type TokenSet,
  testConfig,
  verifyWithJwks,
} from "./helpers.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "idp-test-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("restarting the IdP on the same data directory", () => {
  it("keeps sessions, grants, refresh tokens and signing keys", async () => {
    const config = testConfig({
      storePath: join(dir, "idp.sqlite"),
      keysPath: join(dir, "keys", "jwks.json"),
    });

    const first = await createIdp(config);
    const { browser, tokens } = await loggedInTokens(first);
    const jwks = readFileSync(join(dir, "keys", "jwks.json"), "utf8");
    await first.close();

    const second = await createIdp(config);
    try {
      // Same signing key: an ID token from before the restart still verifies.
      expect(readFileSync(join(dir, "keys", "jwks.json"), "utf8")).toBe(jwks);
      expect(await verifyWithJwks(second, tokens.id_token as string)).toBe(true);

      // The refresh token issued by the first instance is accepted by the second.
      const refreshed = await refresh(second, tokens.refresh_token as string, { resource: API });
      expect(refreshed.status).toBe(200);
      expect(decodeJwt((refreshed.body as unknown as TokenSet).access_token).payload.aud).toBe(API);

      // The browser's session (and its consent) survived: straight back to the client with a code.
      const again = new Browser(second);
      again.jar.copyFrom(browser.jar);
      const callback = new URL(location(await again.get(authorizationRequest().url)));
      expect(callback.origin).toBe("http://localhost:3000");
      expect(callback.searchParams.get("code")).toBeTruthy();
    } finally {
      await second.close();
    }
  });

  it("writes the generated signing keys readable by the owner only", async () => {
    const keysPath = join(dir, "nested", "jwks.json");
    const idp = await createIdp(testConfig({ storePath: ":memory:", keysPath }));
    await idp.close();
    expect(statSync(keysPath).mode & 0o777).toBe(0o600);
    const { keys } = JSON.parse(readFileSync(keysPath, "utf8"));
    expect(keys[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig" });
    expect(keys[0].d).toBeTruthy();
  });
});

describe("the insecure token log (test aid)", () => {
  it("copies every token the token endpoint issues to the file, one per line", async () => {
    const file = join(dir, "tokens.log");
    const idp = await createIdp(testConfig({}, { insecureTokenLogFile: file }));
    try {
      const { tokens } = await loggedInTokens(idp);
      const refreshed = (await refresh(idp, tokens.refresh_token as string, { resource: API }))
        .body as unknown as TokenSet;
      const lines = readFileSync(file, "utf8").trim().split("\n");
      for (const token of [
        tokens.access_token,
        tokens.refresh_token,
        tokens.id_token,
        refreshed.access_token,
        refreshed.refresh_token,
      ]) {
        expect(lines).toContain(token);
      }
    } finally {
      await idp.close();
    }
  });
});
