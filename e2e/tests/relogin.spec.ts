import type { BrowserContext } from "@playwright/test";

import { expect, test } from "../fixtures/index.ts";
import { signInAtIdp } from "../fixtures/login.ts";
import { E2E_BASE_URL, IDP_ORIGIN } from "../fixtures/system.ts";

// Logging in again in the same browser ends the session it had (A19, X14). Chromium leaves the
// SameSite=Strict session cookie out of the IdP's cross-site redirect to /bff/callback, so the
// callback cannot see the old session itself: /bff/login, which the app's own page opens,
// notes it in the login transaction. A copy of the old cookie must be refused afterwards.

/** The session cookie header as this browser holds it now (all its parts). */
async function sessionCookie(context: BrowserContext): Promise<string> {
  const cookies = await context.cookies(E2E_BASE_URL);
  const parts = cookies.filter((cookie) => cookie.name.startsWith("__Host-bff-session"));
  expect(parts.length).toBeGreaterThan(0);
  return parts.map((cookie) => `${cookie.name}=${cookie.value}`).join("; ");
}

/** A call with a copied cookie, from outside the browser, as someone who stole it would make it. */
async function callWith(cookie: string): Promise<{ status: number; code?: string }> {
  const response = await fetch(`${E2E_BASE_URL}/api/contacts`, { headers: { cookie, "x-csrf": "1" } });
  const body = (await response.json()) as { code?: string };
  return { status: response.status, ...(body.code ? { code: body.code } : {}) };
}

for (const again of [
  { how: "with prompt=login", query: "prompt=login" },
  { how: "to add a scope", query: "scope=contacts%3Awrite" },
]) {
  test(`logging in again ${again.how} ends the previous session: a copy of its cookie is refused (A19) (X14)`, async ({
    page,
    context,
    loginAs,
    users,
  }) => {
    await page.goto("/");
    await loginAs(users.bob);
    const before = await sessionCookie(context);
    expect((await callWith(before)).status).toBe(200);

    await page.goto(`/bff/login?${again.query}&returnTo=%2F`);
    await page.waitForURL((url) => url.origin === IDP_ORIGIN);
    await signInAtIdp(page, users.bob);
    await page.waitForURL((url) => url.origin !== IDP_ORIGIN && url.pathname === "/");
    const after = await sessionCookie(context);
    expect(after).not.toBe(before);

    expect(await callWith(after)).toEqual({ status: 200 });
    expect(await callWith(before)).toEqual({ status: 401, code: "session_expired" });
  });
}
