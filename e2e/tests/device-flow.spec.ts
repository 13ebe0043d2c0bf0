import { statSync } from "node:fs";
import path from "node:path";

import { cliConfigDir, runContactsCli } from "../fixtures/cli.ts";
import { expect, test } from "../fixtures/index.ts";
import { IDP_ORIGIN } from "../fixtures/system.ts";

// A person logs the command line in with the device flow (RFC 8628): the CLI
// prints an address and a code, the person opens the address in a real
// browser, enters the code, signs in at the IdP, and the CLI then reads their
// contacts from the API.

test("alice logs the command line in from a browser, then lists her contacts on the terminal", async ({
  page,
  users,
}) => {
  const config = cliConfigDir();
  const login = runContactsCli(["login"], config.dir);
  try {
    const [, verificationUri = ""] = await login.waitFor(/open this page in a browser[^\n]*\n\s+(\S+)/);
    const [, userCode = ""] = await login.waitFor(/enter the code:\n\s+(\S+)/);
    expect(new URL(verificationUri).origin).toBe(IDP_ORIGIN);

    await page.goto(verificationUri);
    await expect(page.getByRole("heading", { level: 1, name: "Connect a device" })).toBeVisible();
    await page.getByLabel("Code").fill(userCode);
    await page.getByRole("button", { name: "Continue" }).click();

    await expect(page.getByRole("heading", { level: 1, name: "Connect this device?" })).toBeVisible();
    await expect(page.getByText(userCode, { exact: true })).toBeVisible();
    await page.getByRole("button", { name: "Continue" }).click();

    // The IdP's own login and consent pages. (The fixtures' signInAtIdp waits for the
    // browser to leave the IdP; here it stays there, on the IdP's success page.)
    // (A browser that already has an IdP session skips the password.)
    const username = page.getByLabel("Username");
    await expect(username.or(page.getByRole("button", { name: "Allow" }))).toBeVisible();
    if (await username.isVisible()) {
      await username.fill(users.alice.username);
      await page.getByLabel("Password").fill(users.alice.password);
      await page.getByRole("button", { name: "Sign in" }).click();
    }
    await expect(page.getByRole("heading", { level: 1, name: "Allow access?" })).toBeVisible();
    await expect(page.getByText("Read your contacts")).toBeVisible();
    await page.getByRole("button", { name: "Allow" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Device connected" })).toBeVisible();

    // The CLI polls every 5 seconds: it finishes within a couple of polls.
    expect(await login.exited, login.output()).toBe(0);
    expect(login.output()).toContain("Logged in as user-alice.");
    const tokenFile = path.join(config.dir, "tokens.json");
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);

    const list = runContactsCli(["list"], config.dir);
    expect(await list.exited, list.output()).toBe(0);
    for (const name of ["Mad Hatter", "White Rabbit", "Cheshire Cat"]) expect(list.output()).toContain(name);

    const logout = runContactsCli(["logout"], config.dir);
    expect(await logout.exited, logout.output()).toBe(0);
    const afterLogout = runContactsCli(["list"], config.dir);
    expect(await afterLogout.exited).toBe(3);
    expect(afterLogout.output()).toContain("not logged in: run contacts login");
  } finally {
    login.child.kill();
    config.remove();
  }
});
