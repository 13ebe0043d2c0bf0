import { expect, signInAtIdp, test } from "../fixtures/index.ts";
import { IDP_ORIGIN } from "../fixtures/system.ts";

// One person's whole journey: log in through the IdP's page, use the protected
// API through the BFF, log out everywhere.

test("alice logs in, manages her contacts through the BFF, and logs out everywhere", async ({
  page,
  loginAs,
  users,
}) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1, name: "Welcome" })).toBeVisible();

  await loginAs(users.alice);
  await expect(page.getByRole("heading", { level: 1, name: `Welcome, ${users.alice.name}` })).toBeVisible();

  // The list comes from the API through the BFF's proxy.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Contacts" }).click();
  const list = page.getByRole("list", { name: "Contacts" });
  await expect(list.getByRole("listitem").first()).toBeVisible();
  const before = await list.getByRole("listitem").count();

  const form = page.getByRole("form", { name: "Add a contact" });
  const addDinah = async () => {
    await form.getByLabel("Name").fill("Dinah the Cat");
    await form.getByLabel("Email").fill("dinah@example.com");
    await form.getByLabel("Group").fill("family");
    await form.getByRole("button", { name: "Add contact" }).click();
  };
  // The first login allowed reading only: the API refuses the write, the page explains and offers
  // to allow editing, which asks the IdP for just that scope and comes back here.
  await addDinah();
  const permission = page
    .getByRole("alert")
    .filter({ hasText: "Editing your contacts needs your permission." });
  await expect(permission).toBeVisible();
  await permission.getByRole("button", { name: "Allow editing" }).click();
  await signInAtIdp(page, users.alice);
  await expect(page).toHaveURL(/\/contacts$/);
  await addDinah();
  await expect(list.getByRole("listitem").filter({ hasText: "Dinah the Cat" })).toBeVisible();
  await expect(list.getByRole("listitem")).toHaveCount(before + 1);

  // Stored by the API, not only in the page.
  await page.reload();
  await expect(list.getByRole("listitem").filter({ hasText: "dinah@example.com" })).toBeVisible();

  await list.getByRole("button", { name: "Delete Dinah the Cat" }).click();
  await expect(list.getByRole("listitem").filter({ hasText: "Dinah the Cat" })).toHaveCount(0);
  await page.reload();
  await expect(list.getByRole("listitem")).toHaveCount(before);

  // The app's own "Log out": the BFF, then the IdP's end-session page.
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL((url) => url.origin !== IDP_ORIGIN && url.pathname === "/");
  await expect(page.getByRole("button", { name: "Log in" }).first()).toBeVisible();

  // The session is gone at the BFF: the API is no longer reachable with this browser's cookies.
  const afterLogout = await page.request.get("/api/contacts", { headers: { "x-csrf": "1" } });
  expect(afterLogout.status()).toBe(401);
  expect(afterLogout.headers()["content-type"]).toContain("application/problem+json");

  // Logged out at the IdP too: logging in again asks for the password.
  await page.getByRole("button", { name: "Log in" }).first().click();
  await expect(page.getByLabel("Password")).toBeVisible();
});

test("a person who starts logged out comes back to the page they started from", async ({ page, users }) => {
  await page.goto("/contacts?from=start");
  await expect(page.getByRole("alert")).toContainText("You are not logged in.");
  // The app's own "Log in" button this time.
  await page.getByRole("alert").getByRole("button", { name: "Log in" }).click();
  await signInAtIdp(page, users.alice);
  await expect(page).toHaveURL(/\/contacts\?from=start$/);
  await expect(page.getByRole("list", { name: "Contacts" })).toBeVisible();
});

test("the Session page shows who is logged in and what the session holds, never a token", async ({
  page,
  loginAs,
  users,
}) => {
  await page.goto("/session");
  await loginAs(users.alice);
  await expect(page.getByRole("heading", { level: 1, name: "Session" })).toBeVisible();
  const facts = page.locator("dl");
  await expect(facts).toContainText(users.alice.sub);
  await expect(facts).toContainText("contacts:read");
  await expect(facts).toContainText("Access token expires");
  await expect(facts).toContainText("Session expires");
  // Each profile claim says where it came from: the ID token or the UserInfo endpoint.
  const profile = page.getByRole("table", { name: "Profile claims" });
  await expect(profile.getByRole("row").filter({ hasText: "email" }).first()).toContainText(
    /ID token|UserInfo endpoint/,
  );
  const claims = page.getByRole("table", { name: "ID token claims" });
  await expect(claims.getByRole("row").filter({ hasText: "iss" })).toContainText(IDP_ORIGIN);
  await expect(claims.getByRole("row").filter({ hasText: "sub" }).first()).toContainText(users.alice.sub);
});

test("bob never sees alice's contacts", async ({ browser, users }) => {
  const aliceContext = await browser.newContext();
  const alice = await aliceContext.newPage();
  await alice.goto("/contacts");
  const { loginAs } = await import("../fixtures/login.ts");
  await loginAs(alice, users.alice, { scopes: ["contacts:write"] });
  const aliceList = alice.getByRole("list", { name: "Contacts" });
  await expect(aliceList.getByRole("listitem").first()).toBeVisible();
  const form = alice.getByRole("form", { name: "Add a contact" });
  await form.getByLabel("Name").fill("Only For Alice");
  await form.getByLabel("Email").fill("secret@alice.example");
  await form.getByRole("button", { name: "Add contact" }).click();
  await expect(aliceList.getByRole("listitem").filter({ hasText: "Only For Alice" })).toBeVisible();
  const aliceNames = await aliceList.getByRole("listitem").allInnerTexts();

  const bobContext = await browser.newContext();
  const bob = await bobContext.newPage();
  await bob.goto("/contacts");
  await loginAs(bob, users.bob);
  await expect(bob.getByRole("heading", { level: 1, name: "Contacts" })).toBeVisible();
  const bobList = bob.getByRole("list", { name: "Contacts" });
  await expect(bobList.getByRole("listitem").first()).toBeVisible();
  const bobNames = await bobList.getByRole("listitem").allInnerTexts();
  expect(bobNames.join("\n")).not.toContain("Only For Alice");
  for (const item of aliceNames) expect(bobNames).not.toContain(item);

  // Straight through the BFF's proxy too, not only in the page.
  const viaApi = await bob.request.get("/api/contacts", { headers: { "x-csrf": "1" } });
  expect(viaApi.status()).toBe(200);
  expect(await viaApi.text()).not.toContain("secret@alice.example");

  await aliceContext.close();
  await bobContext.close();
});
