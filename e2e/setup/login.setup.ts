import { test as setup } from "@playwright/test";
import { saveLoginState } from "../fixtures/storage-state.ts";
import { USERS } from "../fixtures/users.ts";

// Runs before the tests (the "setup" project in playwright.config.ts): each user
// logs in once through the real IdP page, and the browser state is saved for
// tests that start logged in (`storageState`, or the `loggedInAs` fixture).
for (const user of Object.values(USERS)) {
  setup(`log in as ${user.username} and save the browser state`, async ({ page }) => {
    await saveLoginState(page, user);
  });
}
