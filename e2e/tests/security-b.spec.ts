import { readFileSync } from "node:fs";
import type { Page } from "@playwright/test";
import { expect, test } from "../fixtures/index.ts";
import { E2E_BASE_URL, IDP_ORIGIN, ISSUED_TOKENS_FILE } from "../fixtures/system.ts";

// Security checklist, section B (and D5), in real Chromium: what only a browser can show.

const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/;
const SESSION = "__Host-bff-session";

/** Every token the IdP issued so far in this run (the IdP writes them down in test mode only). */
function issuedTokens(): string[] {
  return readFileSync(ISSUED_TOKENS_FILE, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** Everything the page's script can reach in storage: cookies, web storage and every IndexedDB record. */
function readableStorage(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const databases: Record<string, Record<string, unknown[]>> = {};
    for (const { name, version } of await indexedDB.databases()) {
      if (!name) continue;
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open(name, version);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const stores: Record<string, unknown[]> = {};
      for (const store of Array.from(db.objectStoreNames)) {
        stores[store] = await new Promise<unknown[]>((resolve, reject) => {
          const all = db.transaction(store, "readonly").objectStore(store).getAll();
          all.onsuccess = () => resolve(all.result);
          all.onerror = () => reject(all.error);
        });
      }
      db.close();
      databases[name] = stores;
    }
    return JSON.stringify({
      cookie: document.cookie,
      local: Object.entries(localStorage),
      session: Object.entries(sessionStorage),
      indexedDB: databases,
    });
  });
}

test("no token in any answer's headers or body, redirects included, nor in IndexedDB; the ID token only in the end-session redirect to the IdP (B1)", async ({
  page,
  loginAs,
  users,
}) => {
  const answers: { url: string; status: number; headers: Record<string, string>; body: string }[] = [];
  page.on("response", async (response) => {
    if (!response.url().startsWith(E2E_BASE_URL)) return;
    const headers = await response.allHeaders();
    let body = "";
    if (response.status() < 300 || response.status() >= 400) {
      body = await response.text().catch(() => "");
    }
    answers.push({ url: response.url(), status: response.status(), headers, body });
  });

  await page.goto("/");
  // The storage reader must see what is there: a probe record proves it reads IndexedDB.
  await page.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open("probe", 1);
        open.onupgradeneeded = () => open.result.createObjectStore("things", { autoIncrement: true });
        open.onsuccess = () => {
          const tx = open.result.transaction("things", "readwrite");
          tx.objectStore("things").add({ note: "probe-record" });
          tx.oncomplete = () => {
            open.result.close();
            resolve();
          };
        };
        open.onerror = () => reject(open.error);
      }),
  );
  expect(await readableStorage(page)).toContain("probe-record");
  await page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        const removal = indexedDB.deleteDatabase("probe");
        removal.onsuccess = () => resolve();
        removal.onerror = () => resolve();
      }),
  );

  const storage: string[] = [];
  await loginAs(users.alice);
  storage.push(await readableStorage(page));
  await page.getByRole("link", { name: "Contacts" }).click();
  await expect(page.getByRole("list", { name: "Contacts" }).getByRole("listitem").first()).toBeVisible();
  await page.getByRole("link", { name: "Session" }).click();
  await expect(page.getByRole("table", { name: "ID token claims" })).toBeVisible();
  storage.push(await readableStorage(page));
  // Logging out through the page's own button sends the browser through the end-session redirect.
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL((url) => url.origin === IDP_ORIGIN);
  const signOut = page.getByRole("button", { name: "Sign out" });
  if (await signOut.isVisible()) await signOut.click();
  await page.waitForURL((url) => url.origin !== IDP_ORIGIN);
  await expect(page.getByRole("button", { name: "Log in" })).toBeVisible();
  storage.push(await readableStorage(page));
  expect(await (await page.request.get("/bff/session")).json()).toEqual({ authenticated: false });

  const issued = issuedTokens();
  expect(issued.length).toBeGreaterThanOrEqual(3);
  const redirects = answers.filter((a) => a.status >= 300 && a.status < 400);
  expect(redirects.length).toBeGreaterThanOrEqual(2);
  expect(answers.length).toBeGreaterThan(8);

  const endSessions: string[] = [];
  for (const answer of answers) {
    const { location, ...others } = answer.headers;
    const text = [answer.body, ...Object.entries(others).map(([name, value]) => `${name}: ${value}`)].join(
      "\n",
    );
    for (const token of issued)
      expect(text.includes(token), `a token in the answer to ${answer.url}`).toBe(false);
    expect(JWT_SHAPE.test(text), `a JWT-shaped string in the answer to ${answer.url}`).toBe(false);
    if (location === undefined) continue;
    // RP-Initiated Logout sends the ID token as id_token_hint (docs/decisions/004), to the IdP,
    // in the one redirect the browser follows without script ever seeing it.
    if (new URL(answer.url).pathname === "/bff/logout/end-session") {
      expect(new URL(location).origin).toBe(IDP_ORIGIN);
      endSessions.push(location);
      continue;
    }
    for (const token of issued)
      expect(location.includes(token), `a token in the redirect of ${answer.url}`).toBe(false);
    expect(JWT_SHAPE.test(location), `a JWT-shaped string in the redirect of ${answer.url}`).toBe(false);
  }
  expect(endSessions).toHaveLength(1);

  for (const snapshot of storage) {
    for (const token of issued) expect(snapshot.includes(token)).toBe(false);
    expect(JWT_SHAPE.test(snapshot)).toBe(false);
  }
});

test("script can neither read nor write the session cookie; a planted one is refused and deleted (B5)", async ({
  page,
  context,
  loginAs,
  logout,
  users,
  bffApi,
}) => {
  await page.goto("/");
  await loginAs(users.alice);
  const sessionValue = async () =>
    (await context.cookies(E2E_BASE_URL)).find((cookie) => cookie.name === SESSION)?.value;
  const original = await sessionValue();
  expect(original).toBeTruthy();

  expect(await page.evaluate(() => document.cookie)).not.toContain("__Host-bff");
  // Without Secure and Path=/ the __Host- prefix refuses it; with them, the HttpOnly cookie of
  // that name cannot be overwritten by script (RFC 6265bis §5.7, "httponly" and cookie prefixes).
  await page.evaluate((name) => {
    // biome-ignore lint/suspicious/noDocumentCookie: this is the page script's attack under test
    document.cookie = `${name}=forged-by-script`;
    // biome-ignore lint/suspicious/noDocumentCookie: this is the page script's attack under test
    document.cookie = `${name}=forged-by-script; Secure; Path=/`;
    // biome-ignore lint/suspicious/noDocumentCookie: this is the page script's attack under test
    document.cookie = `${name}=forged-by-script; Secure; Path=/; SameSite=Strict; Max-Age=0`;
  }, SESSION);
  expect(await sessionValue()).toBe(original);
  expect(await page.evaluate(() => document.cookie)).not.toContain("__Host-bff");
  expect(await (await bffApi.get("/bff/session")).json()).toMatchObject({
    authenticated: true,
    user: { sub: users.alice.sub },
  });

  // With no session cookie to protect it, a script-written one may reach the BFF: it is not a
  // seal made with our secret, so it is no session, and the answer deletes it.
  await logout();
  await page.evaluate((name) => {
    // biome-ignore lint/suspicious/noDocumentCookie: this is the page script's attack under test
    document.cookie = `${name}=forged-by-script; Secure; Path=/; SameSite=Strict`;
    // biome-ignore lint/suspicious/noDocumentCookie: this is the page script's attack under test
    document.cookie = `${name}-1=forged-chunk; Secure; Path=/; SameSite=Strict`;
  }, SESSION);
  const planted = await sessionValue();
  const session = await page.evaluate(async () => {
    const response = await fetch("/bff/session", { headers: { "x-csrf": "1" } });
    return response.json();
  });
  expect(session).toEqual({ authenticated: false });
  const contacts = await page.evaluate(async () => {
    const response = await fetch("/api/contacts", { headers: { "x-csrf": "1" } });
    return response.status;
  });
  expect(contacts).toBe(401);
  if (planted !== undefined) expect(await sessionValue()).toBeUndefined();
  expect(await page.evaluate(() => document.cookie)).not.toContain("forged");
});

test("attacker script in the page rides the session only within the proxy's allowlist and gets no token (B15)", async ({
  page,
  loginAs,
  users,
}) => {
  await page.goto("/");
  await loginAs(users.alice);

  // An inline script injected into the page does not run: script-src 'self' (B14).
  const injected = await page.evaluate(async () => {
    const violations: string[] = [];
    document.addEventListener("securitypolicyviolation", (event) => violations.push(event.violatedDirective));
    const script = document.createElement("script");
    script.textContent = "window.__injected = true";
    document.body.append(script);
    await new Promise((resolve) => setTimeout(resolve, 200));
    return { ran: (window as { __injected?: boolean }).__injected === true, violations };
  });
  expect(injected.ran).toBe(false);
  expect(injected.violations.join(" ")).toMatch(/script-src/);

  // Script that does run in the page (simulated with evaluate, which CSP does not stop).
  const attack = await page.evaluate(async (idp) => {
    const call = async (path: string, init: RequestInit = {}) => {
      try {
        const response = await fetch(path, {
          ...init,
          headers: { "x-csrf": "1", "content-type": "application/json", ...init.headers },
        });
        return { status: response.status, type: response.type, text: await response.text() };
      } catch (error) {
        return { status: -1, type: "error", text: String(error) };
      }
    };
    return {
      contacts: await call("/api/contacts"),
      notAllowed: await call("/api/stats"),
      wrongMethod: await call("/api/contacts/1", { method: "PATCH", body: "{}" }),
      traversal: await call("/api/..%2Fbff%2Fsession"),
      session: await call("/bff/session"),
      loginManual: await call("/bff/login?returnTo=/", { redirect: "manual" }),
      loginFollowed: await call("/bff/login?returnTo=/"),
      implicitAtIdp: await call(
        `${idp}/auth?client_id=web-bff&response_type=token&scope=openid&redirect_uri=${encodeURIComponent(`${location.origin}/bff/callback`)}`,
      ),
      tokenAtIdp: await call(`${idp}/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "grant_type=refresh_token&client_id=web-bff&refresh_token=x",
      }),
      cookie: document.cookie,
    };
  }, IDP_ORIGIN);

  // Session riding works: the BFF cannot tell this script from the SPA (BBA §5.1.4)...
  expect(attack.contacts.status).toBe(200);
  // ...but only within the allowlist of methods and paths.
  expect(attack.notAllowed.status).toBe(404);
  expect(attack.wrongMethod.status).toBe(405);
  expect([400, 404]).toContain(attack.traversal.status);
  // No token to take: not in the session answer, not in cookies.
  expect(attack.session.status).toBe(200);
  expect(attack.cookie).not.toContain("__Host-bff");
  // A new login yields nothing readable: an opaque redirect, or a cross-origin answer CORS withholds.
  expect(attack.loginManual.type).toBe("opaqueredirect");
  expect(attack.loginManual.text).toBe("");
  expect(attack.loginFollowed.status).toBe(-1);
  expect(attack.implicitAtIdp.status).toBe(-1);
  expect(attack.tokenAtIdp.status).toBe(-1);

  const everything = JSON.stringify(attack);
  for (const token of issuedTokens()) expect(everything.includes(token)).toBe(false);
  expect(JWT_SHAPE.test(everything)).toBe(false);
});

test("landing on the post-logout page with another state, or none, shows the logged-out page and does nothing (D5)", async ({
  page,
  context,
  loginAs,
  logout,
  users,
}) => {
  await page.goto("/");
  await loginAs(users.alice);
  await logout();

  const sent: string[] = [];
  page.on("request", (request) => {
    sent.push(`${request.method()} ${request.url()}`);
  });
  for (const landing of ["/?state=forged-by-someone-else", "/", "/?state=a&state=b&code=x"]) {
    await page.goto(landing);
    await expect(page.getByRole("button", { name: "Log in" })).toBeVisible();
    await expect(page.getByRole("button", { name: "Log out" })).toHaveCount(0);
  }
  // Only reads: no POST, no callback, nothing sent to the IdP.
  expect(sent.length).toBeGreaterThan(0);
  for (const request of sent) {
    expect(request).toMatch(/^GET /);
    expect(request).not.toContain("/bff/callback");
    expect(request).not.toContain(IDP_ORIGIN);
  }
  expect((await context.cookies(E2E_BASE_URL)).map((cookie) => cookie.name)).not.toContain(SESSION);
  const session = await page.request.get("/bff/session", { headers: { "x-csrf": "1" } });
  expect(await session.json()).toEqual({ authenticated: false });
});
