/**
 * Malformed or stale requests to the IdP's pages get a readable page: a 4xx,
 * the IdP's security headers, no stack trace. Among them the device pages for
 * a person without a session (none yet, or theirs expired), which oidc-provider
 * answered with a bare 500.
 */
import { inject, type Response } from "light-my-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Idp } from "../src/index.ts";
import { Browser, testIdp } from "./helpers.ts";

let idp: Idp;
beforeAll(async () => {
  idp = await testIdp();
});
afterAll(async () => {
  await idp.close();
});

const xsrfOf = (html: string) => /name="xsrf" value="([^"]+)"/.exec(html)?.[1] ?? "";

/** A 4xx HTML page with the IdP's headers and nothing of the server's insides. */
function expectReadablePage(response: Response, what: string) {
  expect(response.statusCode, `${what}: ${response.body.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  expect(response.statusCode, what).toBeLessThan(500);
  expect(String(response.headers["content-type"]), what).toContain("text/html");
  expect(response.headers["content-security-policy"], what).toContain("frame-ancestors 'none'");
  expect(response.headers["x-frame-options"], what).toBe("DENY");
  expect(response.headers["x-content-type-options"], what).toBe("nosniff");
  expectNoInsides(response, what);
}

function expectNoInsides(response: Response, what: string) {
  expect(response.body, what).not.toMatch(/TypeError|persist can only|node_modules|\n\s+at \S/);
}

describe("the device pages without a session (X17)", () => {
  it("answer a stale form, an unknown /device/<uid> and a malformed one with the code entry page, not a 500 (X17)", async () => {
    const browser = new Browser(idp);
    const stale = await browser.post("/device", { xsrf: "from-an-old-page", user_code: "BCDF-GHJK" });
    expectReadablePage(stale, "POST /device with a stale xsrf");
    expect(stale.body).toContain("This page was out of date");

    for (const path of ["/device/anything", "/device/auth%", "/device/%zz"]) {
      const response = await new Browser(idp).get(path);
      expectReadablePage(response, `GET ${path}`);
      expect(response.body).toContain('name="user_code"');
    }

    // A person whose session expired: a cookie signed with the IdP's keys whose session is
    // gone (another IdP with the same keys and a fresh store).
    const before = new Browser(idp);
    const entry = await before.get("/device");
    const afterRestart = await testIdp();
    try {
      const returning = new Browser(afterRestart);
      returning.jar.copyFrom(before.jar);
      const expired = await returning.post("/device", { xsrf: xsrfOf(entry.body), user_code: "BCDF-GHJK" });
      expectReadablePage(expired, "POST /device after the session expired");
      const retry = await returning.post("/device", { xsrf: xsrfOf(expired.body), user_code: "BCDF-GHJK" });
      expect(retry.body).toContain("That code is not valid");
    } finally {
      await afterRestart.close();
    }
  });

  it("give a browser without any cookie a working form after a stale one (X17)", async () => {
    const browser = new Browser(idp);
    const stale = await browser.post("/device", { xsrf: "x", user_code: "BCDF-GHJK" });
    // The page's new form is backed by a stored session: the next try is checked, not "out of date".
    const retry = await browser.post("/device", { xsrf: xsrfOf(stale.body), user_code: "BCDF-GHJK" });
    expect(retry.body).toContain("That code is not valid");
  });
});

describe("malformed requests to the IdP's pages (X17)", () => {
  const paths = [
    "/device",
    "/device/",
    "/device/x",
    "/device/%",
    "/device/auth%00",
    "/device/auth/..",
    "/device/auth#x",
    "/device?user_code=%ff",
    "/device/login",
    `/device/${"a".repeat(2000)}`,
    "/interaction/",
    "/interaction/%",
    "/interaction/abc",
    "/interaction/abc/login",
    "/interaction/abc/nothing",
    "/interaction/..%2f..%2fetc",
    "/session/end",
    "/session/end%",
    "/session/end/x",
    "/session/end/confirm",
    "/session/end/success?client_id=%",
    "/session/end?id_token_hint=a.b.c",
    "/session/end?client_id=web-bff&post_logout_redirect_uri=javascript:alert(1)",
  ];
  const bodies: Array<{ type: string; payload: string } | undefined> = [
    undefined,
    { type: "application/x-www-form-urlencoded", payload: "xsrf=bad&user_code=x&confirm=yes&logout=yes" },
    { type: "application/x-www-form-urlencoded; charset=bogus", payload: "a=b" },
    { type: "application/json", payload: "{" },
    { type: "multipart/form-data; boundary=x", payload: "--x--" },
  ];
  const cookies = [
    undefined,
    "idp_session=abc; idp_session.sig=def",
    "idp_interaction=%; idp_interaction.sig=%",
  ];

  it("are never answered with a 5xx, always with the security headers and no stack trace (X17)", async () => {
    let count = 0;
    for (const url of paths) {
      for (const method of ["GET", "HEAD", "POST", "PUT", "DELETE"] as const) {
        for (const body of method === "GET" || method === "HEAD" ? [undefined] : bodies) {
          for (const cookie of cookies) {
            const headers: Record<string, string> = { host: "127.0.0.1:4000", accept: "text/html" };
            if (body) headers["content-type"] = body.type;
            if (cookie) headers.cookie = cookie;
            const response = await inject(idp.listener, {
              method,
              url,
              headers,
              ...(body ? { payload: body.payload } : {}),
            });
            const what = `${method} ${url.slice(0, 40)} ${body?.type ?? ""} ${cookie ?? ""}`;
            expect(response.statusCode, what).toBeLessThan(500);
            expect(response.headers["content-security-policy"], what).toContain("frame-ancestors 'none'");
            expectNoInsides(response, what);
            count++;
          }
        }
      }
    }
    expect(count).toBeGreaterThan(500);
  });
});

describe("an error that escapes oidc-provider's own handlers (X17)", () => {
  it("still gets a page with the security headers, or an OAuth error document, never the error (X17)", async () => {
    // The store fails to write a session, after oidc-provider's error handler has run.
    const failing = await testIdp();
    try {
      const browser = new Browser(failing);
      await browser.get("/device");
      const adapter = (failing.provider.Session as unknown as { adapter: { upsert: () => Promise<void> } })
        .adapter;
      adapter.upsert = async () => {
        throw new TypeError("disk I/O error at /secret/path.ts:1");
      };
      const page = await browser.post(
        "/device",
        { xsrf: "stale", user_code: "BCDF-GHJK" },
        { accept: "text/html,application/xhtml+xml" },
      );
      expect(page.statusCode).toBe(500);
      expect(String(page.headers["content-type"])).toContain("text/html");
      expect(page.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
      expect(page.headers["x-frame-options"]).toBe("DENY");
      expect(page.body).toContain("Something went wrong");
      expect(page.body).not.toContain("disk I/O");

      const json = await browser.request("POST", "/device", {
        form: { xsrf: "stale" },
        headers: { accept: "application/json" },
      });
      expect(json.statusCode).toBe(500);
      expect(JSON.parse(json.body)).toEqual({
        error: "server_error",
        error_description: "Something went wrong on our side. Please try again later.",
      });
      expect(json.headers["x-content-type-options"]).toBe("nosniff");
    } finally {
      await failing.close();
    }
  });
});
