import { SimulatedBrowser } from "@oidc-bff/shared/testing/simulated-browser";
import type { Page, Request } from "@playwright/test";

import { expect, test } from "../fixtures/index.ts";
import { signInAtIdp } from "../fixtures/login.ts";
import { E2E_BASE_URL, IDP_ORIGIN } from "../fixtures/system.ts";
import { USERS } from "../fixtures/users.ts";

// The simulated browser every other suite uses (shared/src/testing) against real Chromium
// (X16): the same login, re-login, incremental-consent, silent re-login and logout flows, run
// in both against this running system, must send the same cookies at every step. Chromium's
// Cookie header is read from `request.allHeaders()` (`headers()` leaves cookies out).

const BFF = E2E_BASE_URL;
const API = "http://localhost:4001";
const ORIGINS: Record<string, string> = { [BFF]: "bff", [IDP_ORIGIN]: "idp", [API]: "api" };

interface Step {
  flow: string;
  /** "METHOD party /path", random path segments (interaction ids) as ":id". */
  key: string;
  kind: "navigation" | "subresource";
  cookies: string[];
}

/** The step key: method, which party, and the path with its random ids left out. */
function keyOf(method: string, url: string): string | undefined {
  const { origin, pathname } = new URL(url);
  const party = ORIGINS[origin];
  if (!party) return undefined;
  return `${method} ${party} ${pathname.replace(/\/[\w-]{16,}/g, "/:id")}`;
}

const cookieNames = (header: string | undefined) =>
  (header ?? "")
    .split(";")
    .map((pair) => pair.trim().split("=")[0] ?? "")
    .filter((name) => name !== "");

const FLOWS = ["login", "re-login", "incremental consent", "silent re-login", "logout"] as const;
type Flow = (typeof FLOWS)[number];

const LOGIN = `${BFF}/bff/login?returnTo=%2F`;
const URLS: Record<Exclude<Flow, "logout">, string> = {
  login: LOGIN,
  "re-login": `${BFF}/bff/login?prompt=login&returnTo=%2F`,
  "incremental consent": `${BFF}/bff/login?scope=contacts%3Awrite&returnTo=%2F`,
  // The IdP has a session and every scope allowed: straight back, no page at the IdP.
  "silent re-login": LOGIN,
};

/** The flows in real Chromium: page.goto is a navigation the browser starts, like the simulated one. */
async function inChromium(page: Page): Promise<Step[]> {
  const seen: Array<{ flow: Flow; request: Request }> = [];
  let flow: Flow = "login";
  page.on("request", (request) => seen.push({ flow, request }));
  // Once the SPA has settled: one call through the BFF to the API, from the page.
  const settle = async () => {
    await page.waitForLoadState("networkidle");
    await page.evaluate(() => fetch("/api/contacts", { headers: { "x-csrf": "1" } }).then((r) => r.status));
  };

  await page.goto("/");
  await settle();
  for (const name of FLOWS) {
    flow = name;
    if (name === "logout") {
      const redirectTo = await page.evaluate(async () => {
        const answer = await fetch("/bff/logout", { method: "POST", headers: { "x-csrf": "1" } });
        return ((await answer.json()) as { redirectTo: string }).redirectTo;
      });
      // The SPA moves itself to the ticket URL: a navigation its page starts.
      await page.evaluate((to) => window.location.assign(to), redirectTo);
      await page.waitForURL((url) => url.origin === IDP_ORIGIN);
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL((url) => url.origin === BFF);
    } else {
      await page.goto(URLS[name]);
      if (new URL(page.url()).origin === IDP_ORIGIN) await signInAtIdp(page, USERS.alice);
      await page.waitForURL((url) => url.origin === BFF && url.pathname === "/");
    }
    await settle();
  }

  const steps: Step[] = [];
  for (const { flow, request } of seen) {
    const key = keyOf(request.method(), request.url());
    const type = request.resourceType();
    if (!key || !["document", "fetch", "xhr"].includes(type)) continue;
    const headers = await request.allHeaders();
    steps.push({
      flow,
      key,
      kind: type === "document" ? "navigation" : "subresource",
      cookies: cookieNames(headers.cookie),
    });
  }
  return steps;
}

/** What the person does on the IdP's pages, in the simulated browser: the same buttons. */
async function actAtIdp(browser: SimulatedBrowser, url: string, response: Response) {
  let step = { url, response };
  for (let page = 0; page < 6 && new URL(step.url).origin === IDP_ORIGIN; page++) {
    const body = await step.response.text();
    const uid = /^\/interaction\/([^/]+)$/.exec(new URL(step.url).pathname)?.[1];
    const logoutForm = /<form id="op\.logoutForm" method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(
      body,
    );
    if (uid && body.includes(`action="/interaction/${uid}/login"`)) {
      step = await browser.submitForm(`/interaction/${uid}/login`, {
        username: USERS.alice.username,
        password: USERS.alice.password,
      });
    } else if (uid && body.includes(`action="/interaction/${uid}/confirm"`)) {
      step = await browser.submitForm(`/interaction/${uid}/confirm`, {});
    } else if (logoutForm?.[1]) {
      const fields: Record<string, string> = { logout: "yes" };
      for (const input of (logoutForm[2] ?? "").matchAll(
        /<input type="hidden" name="([^"]+)" value="([^"]*)"/g,
      )) {
        fields[input[1] ?? ""] = input[2] ?? "";
      }
      step = await browser.submitForm(logoutForm[1], fields);
    } else {
      throw new Error(`no answer for the IdP page ${step.url}: ${body.slice(0, 200)}`);
    }
  }
  await step.response.body?.cancel();
  return step;
}

/** The flows in the simulated browser; on the SPA's page it makes the SPA's first call (GET /bff/session) and the API call. */
async function simulated(browser: SimulatedBrowser): Promise<Step[]> {
  const flows: Flow[] = [];
  const spa = async () => {
    await (await browser.fetch(`${BFF}/bff/session`, { headers: { "x-csrf": "1" } })).body?.cancel();
    await (await browser.fetch(`${BFF}/api/contacts`, { headers: { "x-csrf": "1" } })).body?.cancel();
  };
  const mark = (flow: Flow) => {
    while (flows.length < browser.requests.length) flows.push(flow);
  };

  await (await browser.fetch(`${BFF}/`)).body?.cancel();
  await spa();
  for (const name of FLOWS) {
    if (name === "logout") {
      const answer = await browser.fetch(`${BFF}/bff/logout`, { method: "POST", headers: { "x-csrf": "1" } });
      const { redirectTo } = (await answer.json()) as { redirectTo: string };
      const atIdp = await browser.navigate(new URL(redirectTo, BFF).href, { initiator: BFF });
      await actAtIdp(browser, atIdp.url, atIdp.response);
    } else {
      const step = await browser.navigate(URLS[name]);
      const back = await actAtIdp(browser, step.url, step.response);
      expect(back.url, `${name} ended at`).toBe(`${BFF}/`);
    }
    await spa();
    mark(name);
  }
  return browser.requests.flatMap((request, i): Step[] => {
    const key = keyOf(request.method, request.url);
    return key ? [{ flow: flows[i] ?? "login", key, kind: request.kind, cookies: request.cookies }] : [];
  });
}

/**
 * The differences, flow by flow: every navigation (redirect hops included) must be the
 * same request with the same cookies, in the same order; every call the simulated SPA
 * makes must have its twin among Chromium's (which also fetches things only it needs).
 */
function differences(chromium: Step[], simulatedSteps: Step[]): string[] {
  const found: string[] = [];
  const show = (steps: Step[]) => steps.map((s) => `${s.key} [${s.cookies.join(", ")}]`);
  for (const flow of FLOWS) {
    const real = chromium.filter((s) => s.flow === flow);
    const ours = simulatedSteps.filter((s) => s.flow === flow);
    const realNavigations = show(real.filter((s) => s.kind === "navigation"));
    const ourNavigations = show(ours.filter((s) => s.kind === "navigation"));
    if (JSON.stringify(realNavigations) !== JSON.stringify(ourNavigations)) {
      found.push(
        `${flow}: navigations\n  Chromium:  ${realNavigations.join("\n             ")}\n  simulated: ${ourNavigations.join("\n             ")}`,
      );
    }
    const realCalls = real.filter((s) => s.kind === "subresource");
    const used = new Set<Step>();
    for (const call of ours.filter((s) => s.kind === "subresource")) {
      const twin = realCalls.find((s) => s.key === call.key && !used.has(s));
      if (!twin) {
        found.push(`${flow}: Chromium made no ${call.key}`);
        continue;
      }
      used.add(twin);
      if (twin.cookies.join() !== call.cookies.join()) {
        found.push(
          `${flow}: ${call.key} Chromium [${twin.cookies.join(", ")}], simulated [${call.cookies.join(", ")}]`,
        );
      }
    }
  }
  return found;
}

test("the simulated browser sends the cookies Chromium sends, at every step of login, re-login, consent and logout (X16)", async ({
  page,
}) => {
  const chromium = await inChromium(page);
  // Sanity: the flows went where they should, and Chromium kept the Strict session cookie
  // out of the IdP's redirect back after a sign-in on the IdP's page.
  const callbacks = chromium.filter((s) => s.key === "GET bff /bff/callback");
  expect(callbacks.map((s) => s.flow)).toEqual([
    "login",
    "re-login",
    "incremental consent",
    "silent re-login",
  ]);
  expect(callbacks[1]?.cookies).toContain("__Host-bff-login");
  expect(callbacks[1]?.cookies).not.toContain("__Host-bff-session");
  const apiCalls = chromium.filter((s) => s.key === "GET bff /api/contacts");
  expect(apiCalls.map((s) => s.cookies.includes("__Host-bff-session"))).toEqual([
    false,
    true,
    true,
    true,
    true,
    false,
  ]);

  const faithful = await simulated(new SimulatedBrowser());
  expect(differences(chromium, faithful)).toEqual([]);

  // The comparison can fail: a jar that treats every navigation as same-site (so sends
  // Strict cookies on the IdP's cross-site redirect, as the old test jars did) is caught.
  const unfaithful = new SimulatedBrowser();
  const cookiesFor = unfaithful.cookies.cookiesFor.bind(unfaithful.cookies);
  unfaithful.cookies.cookiesFor = (request) => cookiesFor({ ...request, initiator: null, redirectChain: [] });
  const caught = differences(chromium, await simulated(unfaithful));
  expect(caught.join("\n")).toMatch(
    /re-login: navigations[\s\S]*simulated:[\s\S]*GET bff \/bff\/callback \[[^\]]*__Host-bff-session/,
  );
});
