import { readFileSync } from "node:fs";
import { expect, test } from "../fixtures/index.ts";
import { E2E_BASE_URL, IDP_ORIGIN, ISSUED_TOKENS_FILE } from "../fixtures/system.ts";

// The point of a BFF: tokens stay on the server. This test records everything
// the page receives during a whole session and compares it with every token
// the IdP issued (the IdP writes them to a file in test mode only).

const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/;

test("no token ever reaches the page: not in a response body, a readable cookie or web storage", async ({
  page,
  loginAs,
  logout,
  users,
}) => {
  const bodies: { url: string; body: string }[] = [];
  page.on("response", async (response) => {
    // A redirect's Location is followed by the browser and never exposed to script.
    if (response.status() >= 300 && response.status() < 400) return;
    try {
      bodies.push({ url: response.url(), body: (await response.body()).toString("utf8") });
    } catch {
      // The page navigated away before the body was read; nothing reached script.
    }
  });

  const storage: string[] = [];
  const snapshotStorage = async () => {
    storage.push(
      await page.evaluate(() =>
        JSON.stringify({
          cookie: document.cookie,
          local: Object.entries(localStorage),
          session: Object.entries(sessionStorage),
        }),
      ),
    );
  };

  await page.goto("/");
  await loginAs(users.alice);
  await snapshotStorage();
  await page.getByRole("link", { name: "Contacts" }).click();
  await expect(page.getByRole("list", { name: "Contacts" }).getByRole("listitem").first()).toBeVisible();
  await snapshotStorage();
  await page.getByRole("link", { name: "Session" }).click();
  await expect(page.getByRole("table", { name: "ID token claims" })).toBeVisible();
  await snapshotStorage();
  await logout();
  await snapshotStorage();

  const issued = readFileSync(ISSUED_TOKENS_FILE, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  // Login yields an ID token, refresh tokens and access tokens: the record must be real.
  expect(issued.length).toBeGreaterThanOrEqual(3);

  const appBodies = bodies.filter((b) => !b.url.startsWith(IDP_ORIGIN));
  expect(appBodies.length).toBeGreaterThan(5);
  for (const { url, body } of appBodies) {
    for (const token of issued) expect(body.includes(token), `a token in the response of ${url}`).toBe(false);
    expect(JWT_SHAPE.test(body), `a JWT-shaped string in the response of ${url}`).toBe(false);
  }
  for (const snapshot of storage) {
    for (const token of issued) expect(snapshot.includes(token)).toBe(false);
    expect(JWT_SHAPE.test(snapshot)).toBe(false);
  }
  // The session cookie exists, but script cannot read it.
  const cookies = await page.context().cookies(E2E_BASE_URL);
  for (const cookie of cookies.filter((c) => c.name.startsWith("__Host-"))) {
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.secure).toBe(true);
  }
});
