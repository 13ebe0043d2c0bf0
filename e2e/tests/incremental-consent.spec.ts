import { expect, test } from "../fixtures/index.ts";
import { IDP_ORIGIN } from "../fixtures/system.ts";

// Incremental authorization: the first login allowed reading only. Adding a
// contact needs contacts:write; the API answers 403 insufficient_scope, the app
// explains and offers "Allow editing", the IdP asks for just that scope, and
// back on the same page the add succeeds.

test("bob allows editing when he first adds a contact, and only then", async ({ page, loginAs, users }) => {
  await page.goto("/contacts");
  await loginAs(users.bob);
  const session = await page.request.get("/bff/session", { headers: { "x-csrf": "1" } });
  expect((await session.json()).scopes).not.toContain("contacts:write");

  const form = page.getByRole("form", { name: "Add a contact" });
  await form.getByLabel("Name").fill("Marley's Ghost");
  await form.getByLabel("Email").fill("ghost@example.com");
  await form.getByRole("button", { name: "Add contact" }).click();

  const permission = page
    .getByRole("alert")
    .filter({ hasText: "Editing your contacts needs your permission." });
  await expect(permission).toBeVisible();
  await permission.getByRole("button", { name: "Allow editing" }).click();

  // The IdP still has bob's session (no password) and asks only for what is new.
  await page.waitForURL((url) => url.origin === IDP_ORIGIN);
  await expect(page.getByRole("heading", { name: "Allow access?" })).toBeVisible();
  const asked = page.getByRole("list").filter({ hasText: "contacts:write" });
  await expect(asked).toBeVisible();
  await expect(asked).not.toContainText("contacts:read");
  await expect(page.getByText("Already allowed:")).toContainText("contacts:read");
  await page.getByRole("button", { name: "Allow" }).click();

  await page.waitForURL((url) => url.origin !== IDP_ORIGIN);
  await expect(page).toHaveURL(/\/contacts$/);
  await form.getByLabel("Name").fill("Marley's Ghost");
  await form.getByLabel("Email").fill("ghost@example.com");
  await form.getByRole("button", { name: "Add contact" }).click();
  const list = page.getByRole("list", { name: "Contacts" });
  await expect(list.getByRole("listitem").filter({ hasText: "Marley's Ghost" })).toBeVisible();

  const after = await page.request.get("/bff/session", { headers: { "x-csrf": "1" } });
  expect((await after.json()).scopes).toEqual(expect.arrayContaining(["contacts:read", "contacts:write"]));
});
