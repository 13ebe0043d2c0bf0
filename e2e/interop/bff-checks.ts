/**
 * The checks every provider gets, in order, each a test of its own so the closing table
 * names it: login through the provider's real page, a proxied API call, a burst of parallel
 * calls at expiry (one refresh at the provider, the grant intact), logout (with revocation
 * where the provider has it), back-channel logout (where it has it).
 */
import {
  type APIRequestContext,
  type Browser,
  type BrowserContext,
  expect,
  type Page,
  test,
} from "@playwright/test";

import { logout, signInAtProvider } from "../fixtures/login.ts";
import type { ProviderSteps, ProviderUser } from "../fixtures/provider.ts";
import type { BffAndApi } from "./bff-and-api.ts";

export interface ProviderUnderTest {
  steps: ProviderSteps;
  user: Omit<ProviderUser, "sub">;
  /** Starts the provider and a BFF + API configured with its recipe. */
  start(): Promise<{ system: BffAndApi; stop(): Promise<void> }>;
  /** Token-endpoint answers (code exchange and refresh) so far, from the provider's own log, where it says. */
  providerTokenAnswers?(): number;
  /** The provider has a revocation endpoint: logout revokes the refresh token there. */
  revocation: boolean;
  /** Why there is no back-channel logout check, or how to end the provider's session behind the BFF's back. */
  backchannel: { unsupported: string } | { endProviderSession(page: Page): Promise<void> };
}

const CSRF = { "x-csrf": "1" };
/** Parallel proxied calls at the moment the access token expires. */
const BURST = 8;

interface SessionView {
  authenticated: boolean;
  user?: { sub: string; name?: string };
  accessTokenExpiresAt?: string;
}

async function sessionOf(request: APIRequestContext): Promise<SessionView> {
  return (await (await request.get("/bff/session", { headers: CSRF })).json()) as SessionView;
}

/** The titles of the session's protocol log (the BFF's flow inspector). */
async function flowTitles(request: APIRequestContext): Promise<string[]> {
  const answer = await request.get("/bff/inspector", { headers: CSRF });
  expect(answer.status(), "GET /bff/inspector").toBe(200);
  const log = (await answer.json()) as { steps: { title: string }[] };
  return log.steps.map((step) => step.title);
}

const refreshesIn = (titles: string[]) => titles.filter((title) => title === "Refresh request").length;

/** Waits until the session's access token has expired by the BFF's clock (its refresh leeway included). */
async function waitForExpiry(request: APIRequestContext, leewaySeconds: number): Promise<void> {
  const { accessTokenExpiresAt } = await sessionOf(request);
  expect(accessTokenExpiresAt, "the session's access token expiry").toBeTruthy();
  const due = Date.parse(accessTokenExpiresAt as string) - leewaySeconds * 1000 + 500;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
}

/** Through the provider's real pages; returns the person's `sub` as the BFF's session names it. */
async function signIn(page: Page, provider: ProviderUnderTest, origin: string): Promise<string> {
  await page.goto("/bff/login");
  const app = { origin, leftProvider: () => new URL(page.url()).origin === origin };
  // The fixtures' own sign-in, with the provider's ready-made steps: they are tested here.
  if (!app.leftProvider()) {
    await signInAtProvider(page, { ...provider.user, sub: "" }, { provider: provider.steps, app });
  }
  await page.waitForLoadState();
  if (new URL(page.url()).pathname.startsWith("/bff/")) {
    throw new Error(`sign-in ended on ${page.url()}: ${(await page.locator("body").textContent())?.trim()}`);
  }
  const session = await sessionOf(page.request);
  expect(session.authenticated, "the BFF's session after sign-in").toBe(true);
  return session.user?.sub ?? "";
}

export function describeBffChecks(provider: ProviderUnderTest, leewaySeconds: number): void {
  test.describe.configure({ mode: "serial" });
  let running: Awaited<ReturnType<ProviderUnderTest["start"]>> | undefined;
  let context: BrowserContext;
  let page: Page;
  let sub = "";

  test.beforeAll(async ({ browser }: { browser: Browser }) => {
    test.setTimeout(300_000);
    running = await provider.start();
    context = await browser.newContext({ baseURL: running.system.origin });
    page = await context.newPage();
  });
  test.afterAll(async () => {
    await context?.close();
    await running?.stop();
  });

  test("login through the provider's page", async () => {
    sub = await signIn(page, provider, running?.system.origin ?? "");
    test.info().annotations.push({ type: "result", description: `signed in, sub ${sub.slice(0, 12)}…` });
  });

  test("proxied API call", async () => {
    const answer = await page.request.get("/api/me", { headers: CSRF });
    expect(answer.status(), await answer.text()).toBe(200);
    const me = (await answer.json()) as { sub: string; client_id: string };
    expect(me.sub, "the API's principal is the person signed in").toBe(sub);
    test.info().annotations.push({ type: "result", description: `GET /api/me 200, client ${me.client_id}` });
  });

  test("parallel calls at expiry: one refresh, grant intact", async () => {
    test.setTimeout(120_000);
    await waitForExpiry(page.request, leewaySeconds);
    const before = refreshesIn(await flowTitles(page.request));
    const providerBefore = provider.providerTokenAnswers?.();
    const answers = await Promise.all(
      Array.from({ length: BURST }, () => page.request.get("/api/me", { headers: CSRF })),
    );
    expect(answers.map((answer) => answer.status())).toEqual(Array(BURST).fill(200));
    const afterBurst = refreshesIn(await flowTitles(page.request));
    expect(afterBurst - before, `refreshes the BFF made for ${BURST} parallel calls`).toBe(1);
    if (providerBefore !== undefined) {
      const answered = (provider.providerTokenAnswers?.() ?? 0) - providerBefore;
      expect(answered, `token answers in the provider's log for ${BURST} parallel calls`).toBe(1);
    }
    // The grant survived: after the next expiry the refreshed (or kept) refresh token works again.
    await waitForExpiry(page.request, leewaySeconds);
    const again = await page.request.get("/api/me", { headers: CSRF });
    expect(again.status(), `after the next expiry: ${await again.text()}`).toBe(200);
    expect(
      refreshesIn(await flowTitles(page.request)) - afterBurst,
      "one more refresh after the next expiry",
    ).toBe(1);
    test.info().annotations.push({
      type: "result",
      description: `${BURST}× 200, 1 refresh${providerBefore === undefined ? "" : " (provider's log too)"}; next expiry: 200, 1 refresh`,
    });
  });

  test("logout, revoking the refresh token where the provider can", async () => {
    // The fixtures' own logout (POST /bff/logout, then the provider's end-session steps).
    await logout(page, { provider: provider.steps });
    test.info().annotations.push({ type: "ended at", description: page.url() });
    expect((await sessionOf(page.request)).authenticated, "the BFF's session after logout").toBe(false);
    // The ended session's log stays readable by this browser for a few minutes.
    const titles = await flowTitles(page.request);
    if (provider.revocation) {
      expect(titles, "the refresh token was revoked at the provider").toContain("Refresh token revoked");
      test.info().annotations.push({ type: "result", description: "session ended, refresh token revoked" });
    } else {
      expect(titles).toContain("Refresh token not revoked: the IdP has no revocation endpoint");
      expect(running?.system.bff.output().join("\n")).toContain(
        "logout: the provider has no revocation_endpoint",
      );
      test.info().annotations.push({
        type: "result",
        description: "session ended; no revocation endpoint: the BFF warned",
      });
    }
  });

  test("back-channel logout", async () => {
    const { backchannel } = provider;
    if ("unsupported" in backchannel) {
      test.info().annotations.push({ type: "result", description: backchannel.unsupported });
      test.skip(true, backchannel.unsupported);
      return;
    }
    await signIn(page, provider, running?.system.origin ?? "");
    await backchannel.endProviderSession(page);
    // The provider posts a logout token to /bff/backchannel-logout: the BFF ends the session.
    await expect
      .poll(async () => (await sessionOf(page.request)).authenticated, {
        message: "the BFF's session after the provider ended its own (a logout token was expected)",
        timeout: 15_000,
      })
      .toBe(false);
    expect(running?.system.bff.output().join("\n")).toMatch(/POST \/bff\/backchannel-logout 200/);
    test
      .info()
      .annotations.push({ type: "result", description: "provider's logout token ended the BFF session" });
  });
}
