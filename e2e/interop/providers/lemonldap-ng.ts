/**
 * LemonLDAP::NG 2.16's portal (its "bootstrap" skin, server-rendered): a login form whose
 * fields are labelled by icons only (`user`, `password`) with a "Connect" button; consent,
 * when the client asks for it, with "Accept"; and a two-step logout: a confirmation
 * ("Accept"), then an information page ("Continue") that leads to the post-logout URI.
 */
import { expect, type Page } from "@playwright/test";

import type { AppContext, ProviderSteps } from "../../fixtures/provider.ts";

const accept = (page: Page) => page.getByRole("button", { name: "Accept" });
const continueButton = (page: Page) => page.getByRole("button", { name: "Continue" });

/** The portal's error message, when it shows one (a wrong password, a refused client). */
async function portalError(page: Page): Promise<string | undefined> {
  const message = page.locator(".message-negative, .alert-danger, .alert-warning").first();
  return (await message.isVisible()) ? ((await message.textContent()) ?? "").trim() : undefined;
}

async function waitUntilLeftOr(page: Page, app: AppContext, next: () => Promise<boolean>): Promise<void> {
  await expect
    .poll(async () => {
      if (app.leftProvider() || (await next())) return "next";
      const error = await portalError(page);
      return error ? `refused: ${error}` : "waiting";
    })
    .toBe("next");
}

export const lemonldapNg: ProviderSteps = {
  name: "LemonLDAP::NG",
  async signIn(page, user, app) {
    const login = page.locator('input[name="user"]');
    if (app.leftProvider() || !(await login.isVisible())) return;
    await login.fill(user.username);
    await page.locator('input[name="password"]').fill(user.password);
    await page.getByRole("button", { name: "Connect" }).click();
    await waitUntilLeftOr(page, app, () => accept(page).isVisible());
  },
  async consent(page, app) {
    if (!app.leftProvider() && (await accept(page).isVisible())) await accept(page).click();
  },
  async signOut(page, app) {
    if (app.leftProvider()) return;
    // 1. "Do you want to log out?" — Accept.
    await waitUntilLeftOr(page, app, () => accept(page).isVisible());
    if (!app.leftProvider()) await accept(page).click();
    // 2. "Information" — Continue, to the post-logout redirect URI.
    await waitUntilLeftOr(page, app, () => continueButton(page).isVisible());
    if (!app.leftProvider()) await continueButton(page).click();
    await page.waitForURL((url) => url.origin === app.origin);
  },
};
