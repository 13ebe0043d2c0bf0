import { createServer, type Server } from "node:http";

import { expect, test } from "../fixtures/index.ts";
import { E2E_BASE_URL } from "../fixtures/system.ts";

// Cookie tossing from another port of the same host (X15). Cookies do not isolate ports, and
// `__Host-` does not either: a page on http://localhost:<other port> can write cookies that
// the BFF on localhost receives. What the BFF's cookies still guarantee, in Chromium:
// script cannot read them, cannot replace an existing (HttpOnly) session, and cannot plant
// one that breaks the `__Host-` rules. What they cannot stop — planting a session in a browser
// that has none — and when that matters in production: docs/security.md, X15.

const SESSION = "__Host-bff-session";
let attacker: Server;
let attackerOrigin: string;

test.beforeAll(async () => {
  attacker = createServer((request, response) => {
    // The attacker's page writes whatever cookie its query names, then says what it sees.
    const toss = new URL(request.url ?? "/", "http://localhost").searchParams.get("toss") ?? "";
    response.setHeader("content-type", "text/html");
    response.end(`<!doctype html><title>other app</title><script>
      try { document.cookie = ${JSON.stringify(toss)}; } catch (e) {}
      document.title = "seen: " + document.cookie;
    </script>`);
  });
  await new Promise<void>((resolve) => attacker.listen(0, "localhost", resolve));
  const address = attacker.address();
  attackerOrigin = `http://localhost:${typeof address === "object" && address ? address.port : 0}`;
});
test.afterAll(async () => {
  await new Promise((resolve) => attacker.close(resolve));
});

async function whoIsLoggedIn(page: import("@playwright/test").Page): Promise<string | undefined> {
  const answer = await page.request.get("/bff/session", { headers: { "x-csrf": "1" } });
  const view = (await answer.json()) as { authenticated: boolean; user?: { sub: string } };
  return view.authenticated ? view.user?.sub : undefined;
}

test("a page on another port can neither read nor replace the session cookie (X15)", async ({
  page,
  loginAs,
  users,
}) => {
  await page.goto("/");
  await loginAs(users.bob);
  const planted = `${SESSION}=Fe26.2**planted~2; Secure; Path=/; SameSite=Lax`;
  await page.goto(`${attackerOrigin}/?toss=${encodeURIComponent(planted)}`);
  // HttpOnly: the other page's script does not see the session cookie.
  await expect(page).toHaveTitle(/^seen:/);
  expect(await page.title()).not.toContain(SESSION);
  await page.goto("/");
  expect(await whoIsLoggedIn(page)).toBe(users.bob.sub);
});

test("a tossed cookie that breaks the __Host- rules is not kept by the browser (X15)", async ({
  page,
  context,
}) => {
  await context.clearCookies();
  for (const planted of [
    `${SESSION}=x~2; Path=/; Domain=localhost; Secure`,
    `${SESSION}=x~2; Path=/bff; Secure`,
    `${SESSION}=x~2; Path=/`,
  ]) {
    await page.goto(`${attackerOrigin}/?toss=${encodeURIComponent(planted)}`);
    await expect(page).toHaveTitle(/^seen:/);
  }
  const kept = (await context.cookies(E2E_BASE_URL)).filter((cookie) => cookie.name === SESSION);
  expect(kept).toEqual([]);
});
