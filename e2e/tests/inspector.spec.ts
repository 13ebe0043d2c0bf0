import { readFileSync } from "node:fs";
import { expect, test } from "../fixtures/index.ts";
import { IDP_ORIGIN, ISSUED_TOKENS_FILE } from "../fixtures/system.ts";

// The flow inspector (on in the e2e system, development only): the Inspector page
// draws the session's protocol steps as a timeline, and shows no token.

const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/;

/** Every token the IdP issued so far (it writes them down in test mode only). */
function issuedTokens(): string[] {
  return readFileSync(ISSUED_TOKENS_FILE, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

test("alice's Inspector shows the authorization request, the token response and an API call, and no token", async ({
  page,
  loginAs,
  users,
}) => {
  await page.goto("/");
  await loginAs(users.alice);
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Contacts" }).click();
  await expect(page.getByRole("list", { name: "Contacts" }).getByRole("listitem").first()).toBeVisible();

  await nav.getByRole("link", { name: "Inspector" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Inspector" })).toBeVisible();
  const steps = page.getByRole("list", { name: "Protocol steps" }).getByRole("listitem");
  const step = (title: RegExp) => steps.filter({ has: page.getByRole("heading", { level: 3, name: title }) });

  const authorize = step(/^1\. Authorization request$/);
  await expect(authorize).toContainText("Browser → IdP");
  await expect(authorize.getByRole("link", { name: "RFC 6749 §4.1.1" })).toHaveAttribute(
    "href",
    "https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1",
  );
  await authorize.getByText("Details").click();
  await expect(authorize.locator("pre")).toContainText('"code_challenge_method": "S256"');
  await expect(authorize.locator("pre")).toContainText('"state": "present, 43 chars (value not shown)"');

  const tokenResponse = step(/^\d+\. Token response$/);
  await expect(tokenResponse).toContainText("IdP → BFF");
  await tokenResponse.getByText("Details").click();
  await expect(tokenResponse.locator("pre")).toContainText(`"sub": "${users.alice.sub}"`);
  await expect(tokenResponse.locator("pre")).toContainText('"alg": "RS256"');

  const apiCall = step(/^\d+\. API call: GET \/contacts → 200$/).first();
  await expect(apiCall).toContainText("BFF → API");
  await expect(apiCall.getByRole("link", { name: "RFC 6750 §2.1" })).toBeVisible();

  // Whatever the page holds, details included: no token the IdP issued, nothing shaped like a JWT.
  const html = await page.content();
  const issued = issuedTokens();
  expect(issued.length).toBeGreaterThanOrEqual(3);
  for (const token of issued)
    expect(html.includes(token), "an issued token on the Inspector page").toBe(false);
  expect(JWT_SHAPE.test(html)).toBe(false);
});

test("after logging out through the IdP, the Inspector shows the logout's own steps", async ({
  page,
  loginAs,
  users,
}) => {
  await page.goto("/contacts");
  await loginAs(users.alice);
  await expect(page.getByRole("list", { name: "Contacts" }).getByRole("listitem").first()).toBeVisible();

  // The app's own button: POST /bff/logout, then the IdP's end-session page, then back home.
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL((url) => url.origin === IDP_ORIGIN || url.pathname === "/");
  const signOut = page.getByRole("button", { name: "Sign out" });
  if (new URL(page.url()).origin === IDP_ORIGIN && (await signOut.isVisible())) await signOut.click();
  await page.waitForURL((url) => url.origin !== IDP_ORIGIN && url.pathname === "/");
  await expect(page.getByRole("button", { name: "Log in" })).toBeVisible();

  // No session any more, yet this browser may read the log of the one it just ended.
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Inspector" }).click();
  await expect(page.getByText(/^You have logged out\./)).toBeVisible();
  await expect(page.getByRole("button", { name: "Clear the log" })).toHaveCount(0);
  const steps = page.getByRole("list", { name: "Protocol steps" }).getByRole("listitem");
  const step = (title: string) =>
    steps.filter({ has: page.getByRole("heading", { level: 3, name: new RegExp(`^\\d+\\. ${title}$`) }) });

  await expect(step("Authorization request")).toHaveCount(1);
  await expect(step("Logout")).toContainText("Browser → BFF");
  await expect(step("Refresh token revoked")).toContainText("BFF → IdP");
  await expect(step("Refresh token revoked").getByRole("link", { name: "RFC 7009 §2.1" })).toBeVisible();
  await expect(step("Logout answer")).toContainText("BFF → Browser");
  const endSession = step("End-session request");
  await expect(endSession).toContainText("Browser → IdP");
  await endSession.getByText("Details").click();
  await expect(endSession.locator("pre")).toContainText('"id_token_hint": "present, ');

  // The IdP's back-channel calls (one for the revoked grant, one for its ended session) come
  // on their own time: refresh until one is there.
  await expect(async () => {
    await page.getByRole("button", { name: "Refresh" }).click();
    await expect(step("Back-channel logout").first()).toContainText("IdP → BFF", { timeout: 1_000 });
  }).toPass({ timeout: 10_000 });

  // Still no token on the page.
  const html = await page.content();
  for (const token of issuedTokens()) expect(html.includes(token), "an issued token on the page").toBe(false);
  expect(JWT_SHAPE.test(html)).toBe(false);
});
