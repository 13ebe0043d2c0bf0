/** The `mapUserClaims` hook: what an application adds to the session view, and what it cannot change. */
import type { AuthenticatedSession } from "@oidc-bff/shared";
import { afterEach, describe, expect, it } from "vitest";

import { logIn, startSystem, type TestSystem } from "./harness.ts";

let system: TestSystem | undefined;
afterEach(() => system?.close());

async function sessionOf(overrides: Parameters<typeof startSystem>[0]): Promise<AuthenticatedSession> {
  system = await startSystem(overrides);
  const alice = await logIn(system);
  return (await (await alice.api("/bff/session")).json()) as AuthenticatedSession;
}

describe("mapUserClaims", () => {
  it("adds the application's claims, marked as mapped, from the validated ID token and userinfo (X7)", async () => {
    const seen: string[] = [];
    const session = await sessionOf({
      mapUserClaims: ({ idToken, userinfo }) => {
        seen.push(String(idToken.iss), String(userinfo.sub ?? idToken.sub));
        const email = String(userinfo.email ?? idToken.email ?? "");
        return { emailDomain: email.split("@")[1], sub: "someone-else", nothing: undefined };
      },
    });
    expect(session.user.emailDomain).toBe("example.com");
    expect(session.claimSources?.emailDomain).toBe("mapped");
    // The hook cannot change who the person is.
    expect(session.user.sub).toBe("user-alice");
    expect(session.claimSources?.sub).toBe("id_token");
    expect(session.user).not.toHaveProperty("nothing");
    expect(seen).toContain("http://127.0.0.1:4000");
  });

  it("without a hook, the view holds only sub and the standard profile claims", async () => {
    const session = await sessionOf({});
    const allowed = new Set([
      "sub",
      "name",
      "given_name",
      "family_name",
      "preferred_username",
      "email",
      "email_verified",
      "picture",
      "locale",
    ]);
    for (const claim of Object.keys(session.user)) expect(allowed).toContain(claim);
    expect(Object.values(session.claimSources ?? {})).not.toContain("mapped");
  });
});
