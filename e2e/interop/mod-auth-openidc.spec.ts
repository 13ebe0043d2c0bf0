/**
 * The embedded IdP as provider for mod_auth_openidc 2.4 (Apache, Debian's packages): a
 * relying party written by others, registered the documented way, in IDP_CLIENTS_FILE
 * (docs/providers.md, "The embedded IdP: adding a client"). Login on the IdP's pages, the
 * claims Apache passes on, a refresh, RP-initiated logout and back-channel logout.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";

import { type BrowserContext, expect, type Page, test } from "@playwright/test";

import { embeddedIdp } from "../fixtures/provider.ts";
import { USERS } from "../fixtures/users.ts";
import { INTEROP_PORTS } from "./ports.ts";
import { freshDir, type NodeProcess, type Peer, readLog, startNode, startPeer } from "./processes.ts";

const { relyingParty: RP_PORT, idp: IDP_PORT } = INTEROP_PORTS.modAuthOpenidc;
const RP = `http://127.0.0.1:${RP_PORT}`;
const ISSUER = `http://127.0.0.1:${IDP_PORT}`;
const CLIENT = {
  id: "apache-rp",
  secretVariable: "APACHE_RP_CLIENT_SECRET",
  secret: "apache-rp-secret-0123456789abcdef",
};
/** mod_auth_openidc refreshes 30 s before expiry (OIDCRefreshAccessTokenBeforeExpiry 30). */
const ACCESS_TOKEN_TTL = 36;
const alice = USERS.alice;

test.describe.configure({ mode: "serial" });

let idp: NodeProcess | undefined;
let apache: Peer | undefined;
let context: BrowserContext;
let page: Page;

test.beforeAll(async ({ browser }) => {
  test.setTimeout(300_000);
  const dir = freshDir("idp");
  const clientsFile = path.join(dir, "clients.json");
  writeFileSync(
    clientsFile,
    JSON.stringify({
      clients: [
        {
          client_id: CLIENT.id,
          client_name: "Apache mod_auth_openidc",
          redirect_uris: [`${RP}/protected/redirect_uri`],
          post_logout_redirect_uris: [`${RP}/loggedout.html`],
          backchannel_logout_uri: `${RP}/protected/redirect_uri?logout=backchannel`,
          token_endpoint_auth_method: "client_secret_basic",
          client_secret_env: CLIENT.secretVariable,
          scope: "openid profile email",
        },
      ],
    }),
  );
  idp = await startNode(
    "idp",
    "idp/src/server.ts",
    {
      IDP_MODE: "development",
      IDP_ISSUER: ISSUER,
      IDP_PORT: String(IDP_PORT),
      IDP_DATA_DIR: dir,
      IDP_CLIENTS_FILE: clientsFile,
      [CLIENT.secretVariable]: CLIENT.secret,
      IDP_ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL),
      // No BFF of this project takes part here: web-bff's logout tokens go nowhere.
      IDP_WEB_BFF_BACKCHANNEL_LOGOUT_URI: "none",
    },
    `${ISSUER}/.well-known/openid-configuration`,
  );
  apache = await startPeer(
    "mod-auth-openidc",
    {
      OP_ISSUER: ISSUER,
      RP_PORT: String(RP_PORT),
      RP_CLIENT_ID: CLIENT.id,
      RP_CLIENT_SECRET: CLIENT.secret,
      // Not offline_access: the IdP grants it only with prompt=consent, and mod_auth_openidc asks
      // for its OIDCScope again on every refresh, which the IdP refuses for a scope never granted.
      RP_SCOPE: "openid profile email",
    },
    "RP_STATE",
  );
  context = await browser.newContext();
  page = await context.newPage();
});

test.afterAll(async () => {
  await context?.close();
  await apache?.stop();
  await idp?.stop();
});

const atRp = () => ({ origin: RP, leftProvider: () => new URL(page.url()).origin === RP });

/** mod_auth_openidc's session, as its info hook shows it (tokens included: it runs on loopback only). */
async function rpSession(): Promise<{ access_token?: string } | undefined> {
  const answer = await page.request.get(`${RP}/protected/redirect_uri?info=json`);
  return answer.status() === 200 ? await answer.json() : undefined;
}

async function signInThroughApache(): Promise<void> {
  await page.goto(`${RP}/protected/`);
  const app = atRp();
  if (!app.leftProvider()) {
    await embeddedIdp.signIn(page, alice, app);
    await embeddedIdp.consent(page, app);
    await page.waitForURL((url) => url.origin === RP);
  }
  await expect(page.getByRole("heading", { name: "Logged in" })).toBeVisible();
}

test("login through the IdP's page", async () => {
  await signInThroughApache();
  test
    .info()
    .annotations.push({ type: "result", description: "Apache's protected page after the IdP's login" });
});

test("claims", async () => {
  const claims = (await page.locator("#claims").textContent()) ?? "";
  expect(claims).toContain(`sub=${alice.sub}`);
  expect(claims).toContain(`name=${alice.name}`);
  expect(claims).toContain(`iss=${ISSUER}`);
  expect(claims).toMatch(/email=\S+@/);
  test
    .info()
    .annotations.push({ type: "result", description: `sub, name, email, iss as the IdP issued them` });
});

test("refresh", async () => {
  test.setTimeout(60_000);
  const before = await rpSession();
  expect(before?.access_token, "mod_auth_openidc's session has an access token").toBeTruthy();
  // Within 30 s of the token's expiry, the next request makes mod_auth_openidc refresh it.
  await page.waitForTimeout((ACCESS_TOKEN_TTL - 30 + 2) * 1000);
  await page.goto(`${RP}/protected/`);
  await expect(page.getByRole("heading", { name: "Logged in" })).toBeVisible();
  const after = await rpSession();
  expect(after?.access_token, "a new access token after the refresh").not.toBe(before?.access_token);
  const apacheLog = readLog(path.join(apache?.stateDir ?? "", "error.log"));
  expect(apacheLog, "Apache's log").not.toContain("could not be refreshed");
  test
    .info()
    .annotations.push({ type: "result", description: "new access token from the refresh token grant" });
});

test("RP-initiated logout", async () => {
  await page.goto(`${RP}/protected/redirect_uri?logout=${encodeURIComponent(`${RP}/loggedout.html`)}`);
  const app = atRp();
  if (!app.leftProvider()) await embeddedIdp.signOut(page, app);
  await page.waitForURL(`${RP}/loggedout.html`);
  // Apache's session and the IdP's are both over: the protected page asks for a password again.
  await page.goto(`${RP}/protected/`);
  await expect(page.getByLabel("Username")).toBeVisible();
  test.info().annotations.push({
    type: "result",
    description: "back at loggedout.html; the IdP asks to sign in again",
  });
});

test("back-channel logout", async () => {
  await signInThroughApache();
  // The IdP's own end-session page, opened directly: Apache learns of it only by the logout token.
  const discovery = (await (await page.request.get(`${ISSUER}/.well-known/openid-configuration`)).json()) as {
    end_session_endpoint: string;
  };
  await page.goto(discovery.end_session_endpoint);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForLoadState();
  await expect
    .poll(async () => (await rpSession()) === undefined, {
      message: "Apache's session after the IdP's logout (a logout token with sid was expected)",
      timeout: 15_000,
    })
    .toBe(true);
  await page.goto(`${RP}/protected/`);
  await expect(page.getByLabel("Username")).toBeVisible();
  test.info().annotations.push({
    type: "result",
    description: "the IdP's logout token (with sid) ended Apache's session",
  });
});
