/**
 * Glewlwyd 2.7's own pages (its React login app, /login.html): a "Login" and "Password"
 * form with an "OK" button; then, per client, a grant page listing each scope with a
 * check box ("Grant access"), and "Continue" back to the client. Its end-session page is the
 * same app: "End session" with a "Logout" button, whose JavaScript ends the session.
 */
import { expect, type Page } from "@playwright/test";

import { failWithPageText, type ProviderSteps } from "../../fixtures/provider.ts";

const grantButton = (page: Page) => page.getByRole("button", { name: "Grant access" });
const continueButton = (page: Page) => page.getByRole("button", { name: "Continue" });

export const glewlwyd: ProviderSteps = {
  name: "Glewlwyd",
  async signIn(page, user, app) {
    const login = page.getByLabel("Login");
    // The React app renders after load: wait for the form, a grant page (a live session) or the app.
    await expect
      .poll(
        async () =>
          app.leftProvider() || (await login.isVisible()) || (await continueButton(page).isVisible()),
      )
      .toBe(true);
    if (app.leftProvider() || !(await login.isVisible())) return;
    await login.fill(user.username);
    await page.getByLabel("Password").fill(user.password);
    await page.getByRole("button", { name: "OK" }).click();
    await expect
      .poll(async () => {
        if (app.leftProvider() || (await continueButton(page).isVisible())) return "next";
        const modal = page.locator("#messageModal.show .modal-body");
        return (await modal.isVisible()) ? `refused: ${await modal.textContent()}` : "waiting";
      })
      .toBe("next");
  },
  async consent(page, app) {
    if (app.leftProvider()) return;
    // One check box per scope not granted yet; Glewlwyd remembers the grant per client.
    if (await grantButton(page).isVisible()) {
      for (const box of await page.locator('input.form-check-input[type="checkbox"]:not([disabled])').all()) {
        await box.check();
      }
      await grantButton(page).click();
      await expect(grantButton(page)).toBeHidden();
    }
    if (!app.leftProvider()) {
      await continueButton(page).click();
      await page.waitForURL((url) => url.origin === app.origin);
    }
  },
  async signOut(page, app) {
    if (app.leftProvider()) return;
    // "End session: the client … wishes you to close the current session", then "Logout".
    const logout = page.getByRole("button", { name: /^\W*Logout$/ });
    await expect(logout)
      .toBeVisible()
      .catch(() => failWithPageText(page, "Glewlwyd sign-out"));
    await logout.click();
    // It then sends the browser to the post-logout URI, or stays on its own login page.
    await expect.poll(async () => app.leftProvider() || !(await logout.isVisible())).toBe(true);
  },
};
