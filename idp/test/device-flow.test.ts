/**
 * The device authorization grant (RFC 8628) for the public `contacts-cli`
 * client: the device's requests, the person's pages (code entry, confirmation,
 * the usual login and consent, success or denial), and the tokens it ends with.
 */
import { inject } from "light-my-request";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createIdp } from "../src/app.ts";
import type { Idp } from "../src/index.ts";
import {
  API,
  Browser,
  backChannel,
  decodeJwt,
  ISSUER,
  interactionUid,
  location,
  testConfig,
  testIdp,
} from "./helpers.ts";

const CLI = "contacts-cli";
const CLI_SCOPE = "openid offline_access contacts:read contacts:write";
const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

let idp: Idp;
beforeAll(async () => {
  idp = await testIdp();
});
afterAll(async () => {
  await idp.close();
});

/** A request from the device: a public client, so no Authorization header, only client_id. */
async function fromDevice(path: string, form: Record<string, string>, target = idp) {
  const response = await inject(target.listener, {
    method: "POST",
    url: path,
    headers: { host: "127.0.0.1:4000", "content-type": "application/x-www-form-urlencoded" },
    payload: new URLSearchParams({ client_id: CLI, ...form }).toString(),
  });
  return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
}

interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
}

async function startDeviceLogin(target = idp, scope = CLI_SCOPE): Promise<DeviceAuthorization> {
  const { status, body } = await fromDevice("/device/auth", { scope, resource: API }, target);
  expect(status, JSON.stringify(body)).toBe(200);
  return body as unknown as DeviceAuthorization;
}

const poll = (deviceCode: string, target = idp) =>
  fromDevice("/token", { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, resource: API }, target);

/** The hidden anti-CSRF value oidc-provider put in a device form. */
function xsrfOf(page: string): string {
  const match = /name="xsrf" value="([^"]+)"/.exec(page);
  if (!match?.[1]) throw new Error(`no xsrf field in ${page}`);
  return match[1];
}

/** Opens the code entry page and submits a code; returns the answer (the confirmation page when right). */
async function enterCode(browser: Browser, userCode: string) {
  const entry = await browser.get("/device");
  expect(entry.statusCode).toBe(200);
  return browser.post("/device", { xsrf: xsrfOf(entry.body), user_code: userCode });
}

/**
 * A person approves on the IdP's pages: enters the code, presses Continue, signs in,
 * allows on the consent page. Returns the final page (the success page).
 */
async function approve(
  browser: Browser,
  userCode: string,
  { username = "alice", password = "alice-dev-password" } = {},
) {
  const confirm = await enterCode(browser, userCode);
  expect(confirm.statusCode, confirm.body).toBe(200);
  let response = await browser.post("/device", {
    xsrf: xsrfOf(confirm.body),
    user_code: userCode,
    confirm: "yes",
  });
  for (let step = 0; step < 8; step++) {
    if (response.statusCode === 200) return response;
    const next = location(response);
    if (new URL(next, ISSUER).pathname.startsWith("/interaction/")) {
      const uid = interactionUid(next);
      const page = await browser.get(next);
      response = page.body.includes(`action="/interaction/${uid}/login"`)
        ? await browser.post(`/interaction/${uid}/login`, { username, password })
        : await browser.post(`/interaction/${uid}/confirm`, {});
    } else {
      response = await browser.get(next);
    }
  }
  throw new Error("too many steps");
}

describe("discovery", () => {
  it("offers the device authorization endpoint and grant", async () => {
    const response = await inject(idp.listener, {
      method: "GET",
      url: "/.well-known/openid-configuration",
      headers: { host: "127.0.0.1:4000" },
    });
    const metadata = JSON.parse(response.body) as Record<string, unknown>;
    expect(metadata.device_authorization_endpoint).toBe(`${ISSUER}/device/auth`);
    expect(metadata.grant_types_supported).toContain(DEVICE_CODE_GRANT);
  });
});

describe("a person lets the command line in", () => {
  it("polls authorization_pending, then gets a JWT for the API and a refresh token once alice approves", async () => {
    const device = await startDeviceLogin();
    expect(device.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(device.verification_uri).toBe(`${ISSUER}/device`);
    expect(device.verification_uri_complete).toBe(
      `${ISSUER}/device?user_code=${encodeURIComponent(device.user_code)}`,
    );

    const pending = await poll(device.device_code);
    expect(pending.status).toBe(400);
    expect(pending.body.error).toBe("authorization_pending");

    const done = await approve(new Browser(idp), device.user_code);
    expect(done.body).toContain("<h1>Device connected</h1>");
    expect(done.body).toContain("Contacts (command line)");

    const { status, body } = await poll(device.device_code);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(typeof body.refresh_token).toBe("string");
    expect(typeof body.id_token).toBe("string");
    // The access token is for the API: it carries the API's scopes (openid and offline_access
    // went into the ID token and the refresh token).
    expect(body.scope).toBe("contacts:read contacts:write");
    const { header, payload } = decodeJwt(String(body.access_token));
    expect(header.typ).toBe("at+jwt");
    expect(payload).toMatchObject({ aud: API, client_id: CLI, sub: "user-alice" });

    // The device code is spent.
    const again = await poll(device.device_code);
    expect(again.body.error).toBe("invalid_grant");
  });

  it("rotates the public client's refresh token on every use; the spent one is refused", async () => {
    const device = await startDeviceLogin();
    await approve(new Browser(idp), device.user_code);
    const first = String((await poll(device.device_code)).body.refresh_token);

    const refreshed = await fromDevice("/token", {
      grant_type: "refresh_token",
      refresh_token: first,
      resource: API,
    });
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    const second = String(refreshed.body.refresh_token);
    expect(second).not.toBe(first);
    expect(decodeJwt(String(refreshed.body.access_token)).payload.aud).toBe(API);

    const replay = await fromDevice("/token", {
      grant_type: "refresh_token",
      refresh_token: first,
      resource: API,
    });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe("invalid_grant");
  });

  it("prefills the code from verification_uri_complete, with no script on the page", async () => {
    const device = await startDeviceLogin();
    const browser = new Browser(idp);
    const page = await browser.get(device.verification_uri_complete);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<label for="user_code">Code</label>');
    expect(page.body).toContain(`value="${device.user_code}"`);
    expect(page.body).not.toContain("<script");
    // Pressing Continue leads to the confirmation page, which shows the code to compare.
    const confirm = await browser.post("/device", { xsrf: xsrfOf(page.body), user_code: device.user_code });
    expect(confirm.body).toContain("<h1>Connect this device?</h1>");
    expect(confirm.body).toContain(`<code>${device.user_code}</code>`);
    expect(confirm.body).toContain("Contacts (command line)");
  });
});

describe("the code entry page", () => {
  it("has a labelled field and a heading", async () => {
    const page = await new Browser(idp).get("/device");
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toContain("text/html");
    expect(page.body).toContain("<h1>Connect a device</h1>");
    expect(page.body).toMatch(/<label for="user_code">[^<]+<\/label>\s*<input id="user_code"/);
  });

  it("says a wrong code is not valid and shows what was typed, escaped", async () => {
    const typed = `<script>alert("x")</script>`;
    const page = await enterCode(new Browser(idp), typed);
    expect(page.statusCode).toBe(400);
    expect(page.body).toContain("That code is not valid.");
    expect(page.body).not.toContain(typed);
    expect(page.body).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
  });

  it("escapes a hostile code in verification_uri_complete too", async () => {
    const page = await new Browser(idp).get(`/device?user_code=${encodeURIComponent('"><img src=x>')}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain("<img src=x>");
    expect(page.body).toContain("&quot;&gt;&lt;img src=x&gt;");
  });

  it("asks again for a missing code, and refuses a form without its anti-CSRF value", async () => {
    const browser = new Browser(idp);
    const empty = await enterCode(browser, "");
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain("Enter the code that your device shows.");
    const forged = await browser.post("/device", { xsrf: "not-the-value", user_code: "BCDF-GHJK" });
    expect(forged.statusCode).toBe(400);
    expect(forged.body).toContain("This page was out of date.");
    expect(forged.body).not.toMatch(/\n\s+at /);
  });

  it("says a used code was already used", async () => {
    const device = await startDeviceLogin();
    await approve(new Browser(idp), device.user_code);
    const page = await enterCode(new Browser(idp), device.user_code);
    expect(page.statusCode).toBe(400);
    expect(page.body).toContain("already been used");
  });
});

describe("a person declines", () => {
  it("Deny on the confirmation page: the device gets access_denied", async () => {
    const device = await startDeviceLogin();
    const browser = new Browser(idp);
    const confirm = await enterCode(browser, device.user_code);
    const denied = await browser.post("/device", {
      xsrf: xsrfOf(confirm.body),
      user_code: device.user_code,
      confirm: "yes",
      abort: "yes",
    });
    expect(denied.statusCode).toBe(200);
    expect(denied.body).toContain("<h1>Device not connected</h1>");
    const { status, body } = await poll(device.device_code);
    expect(status).toBe(400);
    expect(body.error).toBe("access_denied");
  });

  it("Cancel on the sign-in page: the device gets access_denied too", async () => {
    const device = await startDeviceLogin();
    const browser = new Browser(idp);
    const confirm = await enterCode(browser, device.user_code);
    const toLogin = location(
      await browser.post("/device", {
        xsrf: xsrfOf(confirm.body),
        user_code: device.user_code,
        confirm: "yes",
      }),
    );
    const uid = interactionUid(toLogin);
    const back = location(await browser.post(`/interaction/${uid}/abort`, {}));
    const page = await browser.get(back);
    expect(page.body).toContain("<h1>Device not connected</h1>");
    expect((await poll(device.device_code)).body.error).toBe("access_denied");
  });
});

describe("an expired device code", () => {
  it("is refused with expired_token at the token endpoint and explained on the page", async () => {
    const shortLived = await createIdp(testConfig({ deviceCodeTtlSeconds: 1 }));
    try {
      const device = await startDeviceLogin(shortLived);
      expect(device.expires_in).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const { status, body } = await poll(device.device_code, shortLived);
      expect(status).toBe(400);
      expect(body.error).toBe("expired_token");
      const page = await enterCode(new Browser(shortLived), device.user_code);
      expect(page.body).toContain("That code has expired.");
    } finally {
      await shortLived.close();
    }
  });
});

describe("who may use the device flow", () => {
  it("refuses the web BFF (not registered for the device grant)", async () => {
    const { status, body } = await backChannel(idp, "/device/auth", { scope: "openid", resource: API });
    expect(status).toBe(400);
    expect(body.error_description).toBe(`${DEVICE_CODE_GRANT} is not allowed for this client`);
  });

  it("refuses the command line's client at the authorization endpoint and for client credentials", async () => {
    const browser = new Browser(idp);
    const auth = await browser.get(
      `/auth?client_id=${CLI}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent("http://localhost:3000/bff/callback")}`,
    );
    expect(auth.statusCode).toBe(400);
    const credentials = await fromDevice("/token", {
      grant_type: "client_credentials",
      scope: "contacts:read",
    });
    expect(credentials.status).toBe(400);
    expect(credentials.body.error_description).toBe("requested grant type is not allowed for this client");
  });

  it("gives the command line no API scope it is not registered for", async () => {
    const device = await startDeviceLogin(idp, `${CLI_SCOPE} contacts:stats`);
    await approve(new Browser(idp), device.user_code);
    const { body } = await poll(device.device_code);
    expect(String(body.scope)).not.toContain("contacts:stats");
  });
});

describe("client configuration", () => {
  it("refuses a public client with a secret, and a confidential one without", async () => {
    const withSecret = testConfig();
    withSecret.clients = withSecret.clients.map((c) =>
      c.public ? { ...c, clientSecret: "x".repeat(40) } : c,
    );
    await expect(createIdp(withSecret)).rejects.toMatchObject({ code: "invalid_config" });
    const withoutSecret = testConfig();
    withoutSecret.clients = withoutSecret.clients.map((c) =>
      c.clientId === "web-bff" ? { ...c, clientSecret: undefined } : c,
    );
    await expect(createIdp(withoutSecret)).rejects.toMatchObject({ code: "invalid_config" });
  });

  it("still refuses a client id equal to a user's sub, for a public client too (F22)", async () => {
    const config = testConfig();
    config.clients = config.clients.map((c) => (c.clientId === CLI ? { ...c, clientId: "user-bob" } : c));
    await expect(createIdp(config)).rejects.toMatchObject({ code: "invalid_config" });
  });
});

describe("the address on the confirmation page (RFC 8628 §5.4)", () => {
  async function confirmationFor(target: Idp, headers: Record<string, string>, remoteAddress: string) {
    const response = await inject(target.listener, {
      method: "POST",
      url: "/device/auth",
      remoteAddress,
      headers: { host: "127.0.0.1:4000", "content-type": "application/x-www-form-urlencoded", ...headers },
      payload: new URLSearchParams({ client_id: CLI, scope: CLI_SCOPE, resource: API }).toString(),
    });
    const { user_code } = JSON.parse(response.body) as DeviceAuthorization;
    return (await enterCode(new Browser(target), user_code)).body;
  }

  it("is the device's connection, not an X-Forwarded-For it wrote", async () => {
    const page = await confirmationFor(idp, { "x-forwarded-for": "203.0.113.77" }, "198.51.100.77");
    expect(page).toContain("<code>198.51.100.77</code>");
    expect(page).not.toContain("203.0.113.77");
  });

  it("behind a trusted proxy, is the address the proxy appended", async () => {
    const behindProxy = await createIdp({ ...testConfig(), trustedProxies: ["127.0.0.1"] });
    try {
      const page = await confirmationFor(
        behindProxy,
        { "x-forwarded-for": "10.1.1.1, 203.0.113.78" },
        "127.0.0.1",
      );
      expect(page).toContain("<code>203.0.113.78</code>");
      expect(page).not.toContain("10.1.1.1");
    } finally {
      await behindProxy.close();
    }
  });
});
