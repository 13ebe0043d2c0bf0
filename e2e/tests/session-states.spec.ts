import { expect, storageStatePath, test, USERS } from "../fixtures/index.ts";

// The session states other teams' suites need, reached through the real IdP:
// logged in from the setup project's saved state, access token already
// expired, refresh token revoked.

test.describe("from the setup project's saved browser state", () => {
  test.use({ storageState: storageStatePath(USERS.bob) });

  test("bob starts logged in, without a login page", async ({ page, bffApi, users }) => {
    await page.goto("/contacts");
    await expect(page.getByRole("button", { name: "Log out" })).toBeVisible();
    await expect(page.getByRole("list", { name: "Contacts" })).toBeVisible();
    const session = await bffApi.get("/bff/session");
    expect(await session.json()).toMatchObject({ authenticated: true, user: { sub: users.bob.sub } });
  });
});

test("access token already expired: the next call refreshes at the IdP and the page never notices", async ({
  page,
  loggedInAs,
  expireAccessToken,
  bffApi,
  users,
}) => {
  await page.goto("/");
  await loggedInAs(users.alice);

  await expireAccessToken();
  const expired = await (await bffApi.get("/bff/session")).json();
  expect(Date.parse(expired.accessTokenExpiresAt)).toBeLessThan(Date.now());

  await page.goto("/contacts");
  await expect(page.getByRole("list", { name: "Contacts" })).toBeVisible();
  expect((await bffApi.get("/api/contacts")).status()).toBe(200);

  // The BFF holds a new access token now: the refresh happened, at the IdP.
  const after = await (await bffApi.get("/bff/session")).json();
  expect(after.user.sub).toBe(users.alice.sub);
  expect(Date.parse(after.accessTokenExpiresAt)).toBeGreaterThan(Date.now());
});

test("refresh token revoked: the next call ends the session, and the page offers to log in again", async ({
  page,
  loginAs,
  revokeRefreshToken,
  bffApi,
  users,
}) => {
  await page.goto("/");
  await loginAs(users.alice);
  // Leave the app while the state is set up: its own background call to /bff/session would
  // otherwise see the ended session first and clear the cookie (then the answer below is
  // not_authenticated, the cookie being gone, rather than session_expired).
  await page.goto("about:blank");
  await revokeRefreshToken();

  const answer = await bffApi.get("/api/contacts");
  expect(answer.status()).toBe(401);
  expect(await answer.json()).toMatchObject({ code: "session_expired" });

  await page.goto("/contacts");
  await expect(page.getByRole("alert")).toContainText(/You are not logged in|Your session has ended/);
  await expect(page.getByRole("button", { name: /Log in/ }).first()).toBeVisible();
});

test("a login that fails says why at once: the BFF's page, quoted", async ({ page, users }) => {
  await page.goto("/");
  const { loginAs } = await import("../fixtures/login.ts");
  await expect(loginAs(page, users.alice, { scopes: ["contacts:admin"] })).rejects.toThrow(
    /the login ended on the BFF's page \/bff\/login: .*A requested scope is not available/,
  );
});
