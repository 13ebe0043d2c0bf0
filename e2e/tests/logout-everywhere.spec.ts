import { expect, loginAs, logout, test } from "../fixtures/index.ts";

// Back-channel logout: alice is logged in in two browsers (two cookie jars, two
// IdP sessions). She logs out in one; the IdP tells the BFF, and her session in
// the other browser ends too, although the BFF cannot touch that browser's cookies.

test("alice logs out in one browser and is logged out in the other", async ({ browser, users }) => {
  const laptop = await browser.newContext();
  const phone = await browser.newContext();
  const onLaptop = await laptop.newPage();
  const onPhone = await phone.newPage();

  for (const page of [onLaptop, onPhone]) {
    await page.goto("/contacts");
    await loginAs(page, users.alice);
    await expect(page.getByRole("list", { name: "Contacts" }).getByRole("listitem").first()).toBeVisible();
  }

  await logout(onLaptop);

  // The phone's very next API call is refused...
  const next = await onPhone.request.get("/api/contacts", { headers: { "x-csrf": "1" } });
  expect(next.status()).toBe(401);
  expect(await next.json()).toMatchObject({ code: "session_expired" });

  // ...and its page says so, offering to log in again.
  await onPhone.reload();
  await expect(onPhone.getByRole("alert")).toContainText(/Your session has ended|You are not logged in/);
  await expect(onPhone.getByRole("button", { name: /Log in/ }).first()).toBeVisible();

  await laptop.close();
  await phone.close();
});
