/**
 * The whole system in one test process, with no ports: the real IdP
 * (oidc-provider, driven through `light-my-request`), the real API and the BFF
 * under test, wired by a `fetch` that routes by origin. A `TestBrowser` is
 * one simulated person's browser (Chromium's cookie rules, redirects followed
 * across the origins the way a navigation does).
 */
import { createApi } from "@oidc-bff/api";
import {
  createIdp,
  DEV_WEB_BFF_SECRET,
  developmentIdpConfig,
  type Idp,
  type IdpClient,
  type IdpUser,
} from "@oidc-bff/idp";
import { inProcessFetch } from "@oidc-bff/idp/in-process-fetch";
import type { StoredCookie } from "@oidc-bff/shared/testing/cookie-store";
import { SimulatedBrowser } from "@oidc-bff/shared/testing/simulated-browser";
import type { Hono } from "hono";

import { type BffConfig, type BffDeps, createBff, silentLogger } from "../src/index.ts";

export const IDP = "http://127.0.0.1:4000";
export const API = "http://localhost:4001";
export const BFF = "http://localhost:3000";
export const READ_WRITE_SCOPES = "openid profile email offline_access contacts:read contacts:write";
export const COOKIE_SECRET = "a-test-cookie-secret-of-at-least-32-characters";

export const USERS = {
  alice: { username: "alice", password: "alice-dev-password" },
  bob: { username: "bob", password: "bob-dev-password" },
} as const;

export interface TestSystem {
  idp: Idp;
  bff: Hono;
  /** Requests that reached the IdP, as "METHOD /path". */
  idpRequests: string[];
  /** Token endpoint requests with grant_type=refresh_token. */
  refreshCount(): number;
  /** Moves the BFF's clock (only the BFF's) forward. */
  advance(ms: number): void;
  /** While true, every request to the IdP fails as if it were down. */
  idpDown: boolean;
  /**
   * Replaces the BFF with a new one (a restart, or a new configuration): same
   * IdP and API, nothing kept in memory unless the new config shares a store.
   */
  restartBff(overrides?: Partial<BffConfig>, deps?: Partial<BffDeps>): void;
  /** Stops the IdP and starts it again from its files (store, keys): a restart, e.g. after a key rotation. */
  restartIdp(): Promise<void>;
  /** Another BFF app wired like the first (a second process, in effect): drive it with `app.fetch`. */
  anotherBff(overrides?: Partial<BffConfig>, deps?: Partial<BffDeps>): Hono;
  /** The routed fetch: what any party uses to reach another. */
  fetch: typeof fetch;
  close(): Promise<void>;
}

export async function startSystem(
  bffOverrides: Partial<BffConfig> = {},
  bffDeps: Partial<BffDeps> = {},
  idpOptions: {
    extraUsers?: IdpUser[];
    keysPath?: string;
    storePath?: string;
    /** How the IdP expects web-bff to authenticate; default client_secret_basic with the dev secret. */
    webBffAuth?: IdpClient["tokenEndpointAuth"];
  } = {},
): Promise<TestSystem> {
  const idpConfig = developmentIdpConfig({
    storePath: idpOptions.storePath ?? ":memory:",
    keysPath: idpOptions.keysPath ?? null,
    mode: "test",
    ...(idpOptions.webBffAuth ? { webBff: { tokenEndpointAuth: idpOptions.webBffAuth } } : {}),
  });
  idpConfig.users = [...idpConfig.users, ...(idpOptions.extraUsers ?? [])];
  // The IdP's own outgoing requests (back-channel logout) go through the same routing.
  const idpDeps = { fetch: (input: string | URL | Request, init?: RequestInit) => system.fetch(input, init) };
  let idp = await createIdp(idpConfig, idpDeps);
  let offset = 0;
  const idpRequests: string[] = [];
  const refreshBodies: string[] = [];
  let apiApp: { fetch(request: Request): Response | Promise<Response> } | undefined;
  let bffApp: Hono | undefined;

  const system: TestSystem = {
    idp,
    bff: undefined as unknown as Hono,
    idpRequests,
    refreshCount: () => refreshBodies.length,
    advance: (ms) => {
      offset += ms;
    },
    idpDown: false,
    restartBff: () => {},
    restartIdp: async () => {
      await idp.close();
      idp = await createIdp(idpConfig, idpDeps);
      system.idp = idp;
    },
    anotherBff: () => {
      throw new Error("not ready");
    },
    fetch: async (input, init) => {
      const request = new Request(input, init);
      const { origin, pathname } = new URL(request.url);
      if (origin === IDP) {
        // What undici throws when nothing listens: the request never left this machine.
        if (system.idpDown) throw new TypeError("fetch failed", { cause: connectionRefused() });
        idpRequests.push(`${request.method} ${pathname}`);
        if (pathname === "/token") {
          const body = await request.clone().text();
          if (new URLSearchParams(body).get("grant_type") === "refresh_token") refreshBodies.push(body);
        }
        return inProcessFetch(idp)(request);
      }
      if (origin === API && apiApp) return apiApp.fetch(request);
      if (origin === BFF && bffApp) return bffApp.fetch(request);
      throw new TypeError("fetch failed");
    },
    close: async () => {
      api.close();
      await idp.close();
    },
  };

  // Through `system.fetch` at call time, so a test may wrap it to watch the traffic.
  const routed: typeof fetch = (input, init) => system.fetch(input, init);
  const api = createApi({ issuer: IDP, audience: API, dbPath: ":memory:", seed: true }, { fetch: routed });
  apiApp = api.app;
  const newBff = (overrides: Partial<BffConfig>, deps: Partial<BffDeps>) =>
    createBff(
      {
        issuer: IDP,
        clientId: "web-bff",
        clientSecret: DEV_WEB_BFF_SECRET,
        redirectUri: `${BFF}/bff/callback`,
        postLogoutRedirectUri: `${BFF}/`,
        apiBaseUrl: API,
        resource: API,
        // Read and write from the first login, so most tests need no consent step;
        // incremental authorization has its own tests with `additionalScopes`.
        scopes: READ_WRITE_SCOPES,
        cookieSecrets: [COOKIE_SECRET],
        mode: "test",
        dangerouslyAllowInsecureHttpIssuer: true,
        ...overrides,
      },
      { fetch: routed, now: () => Date.now() + offset, logger: silentLogger, ...deps },
    );
  bffApp = newBff(bffOverrides, bffDeps);
  system.anotherBff = (overrides = {}, deps = {}) =>
    newBff({ ...bffOverrides, ...overrides }, { ...bffDeps, ...deps });
  system.restartBff = (overrides = {}, deps = {}) => {
    bffApp = newBff({ ...bffOverrides, ...overrides }, { ...bffDeps, ...deps });
    system.bff = bffApp;
  };
  system.bff = bffApp;
  return system;
}

function connectionRefused(): Error {
  return Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:4000"), { code: "ECONNREFUSED" });
}

const decodeHtml = (text: string) =>
  text.replace(/&#(\d+);|&amp;|&quot;|&lt;|&gt;|&#x([\da-f]+);/gi, (entity, dec, hex) => {
    if (dec) return String.fromCharCode(Number(dec));
    if (hex) return String.fromCharCode(Number.parseInt(hex, 16));
    return (
      ({ "&amp;": "&", "&quot;": '"', "&lt;": "<", "&gt;": ">" } as Record<string, string>)[entity] ?? entity
    );
  });

/**
 * One person's browser: the shared simulated browser (`@oidc-bff/shared/testing/simulated-browser`,
 * Chromium's cookie rules), plus a person who fills in the IdP's pages.
 */
export class TestBrowser extends SimulatedBrowser {
  private readonly bff: string;
  private readonly idp: string;

  /** `origins`: where the BFF and the IdP are, when they are real servers on other ports. */
  constructor(
    system: Pick<TestSystem, "fetch">,
    origins: { bff: string; idp: string } = { bff: BFF, idp: IDP },
  ) {
    super((input, init) => system.fetch(input, init));
    this.bff = origins.bff;
    this.idp = origins.idp;
  }

  /** The cookie of that name the browser holds for the host (a port in `host` makes no difference). */
  cookie(host: string, name: string): StoredCookie | undefined {
    return this.cookies.get(host, name);
  }

  /** Replaces the value of a cookie, as a person replaying or tampering with one would. */
  setCookie(host: string, name: string, value: string) {
    this.cookies.put(host, name, value);
  }

  /** Fetch JSON from the BFF as the SPA does: a same-origin fetch from its page, with the CSRF header. */
  api(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("x-csrf", "1");
    return this.fetch(`${this.bff}${path}`, { ...init, headers, kind: "subresource", initiator: this.bff });
  }

  /**
   * A navigation: follows redirects across origins and, on the IdP's pages,
   * acts as the person: signs in as `user` and answers consent with `consent`
   * (each a form the IdP's page submits). Stops at the first page of the BFF's
   * origin that is not a redirect, or when the IdP shows a page it has no answer
   * for. Returns every URL visited.
   */
  override async navigate(
    url: string,
    person: {
      user?: { username: string; password: string };
      consent?: "allow" | "deny";
      /** Stop, without requesting it, at the first URL that starts with this. */
      stopBefore?: string;
    } = {},
  ): Promise<{ response: Response; url: string; visited: string[]; chain: string[] }> {
    const stop = person.stopBefore ? { stopBefore: person.stopBefore } : {};
    const visited: string[] = [];
    let step = await super.navigate(url, stop);
    for (let page = 0; page < 10; page++) {
      visited.push(...step.chain);
      const { response } = step;
      const here = new URL(step.url);
      const done = { response, url: step.url, visited, chain: step.chain };
      if (response.status === 204 && person.stopBefore && step.url.startsWith(person.stopBefore)) return done;
      if (here.origin !== this.idp || !response.headers.get("content-type")?.startsWith("text/html"))
        return done;
      const body = await response.text();
      const again = { ...done, response: new Response(body, response) };
      // oidc-provider's self-submitting form (switching accounts ends the old IdP session first):
      // a browser runs its script; here it is posted as it stands.
      const autoPost = /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(body);
      if (body.includes("document.forms[0].submit()") && autoPost?.[1]) {
        const fields = new URLSearchParams();
        for (const input of (autoPost[2] ?? "").matchAll(
          /<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g,
        )) {
          fields.set(input[1] ?? "", decodeHtml(input[2] ?? ""));
        }
        step = await this.submitForm(decodeHtml(autoPost[1]), fields, person.stopBefore);
        continue;
      }
      const uid = /^\/interaction\/([^/]+)$/.exec(here.pathname)?.[1];
      if (!uid || response.status !== 200) return again;
      if (body.includes(`action="/interaction/${uid}/login"`) && person.user) {
        step = await this.submitForm(`/interaction/${uid}/login`, { ...person.user }, person.stopBefore);
        continue;
      }
      if (body.includes(`action="/interaction/${uid}/confirm"`) && person.consent) {
        const action = person.consent === "allow" ? "confirm" : "abort";
        step = await this.submitForm(`/interaction/${uid}/${action}`, {}, person.stopBefore);
        continue;
      }
      return again;
    }
    throw new Error(`too many pages from ${url}`);
  }

  /** Logs in through the IdP's pages and returns where the BFF sent the browser afterwards. */
  async login(user: { username: string; password: string }, returnTo = "/"): Promise<string> {
    const { url, response } = await this.navigate(
      `${this.bff}/bff/login?returnTo=${encodeURIComponent(returnTo)}`,
      {
        user,
        consent: "allow",
      },
    );
    if (!url.startsWith(this.bff) || new URL(url).pathname.startsWith("/bff/")) {
      throw new Error(
        `login did not complete: ended at ${url} with ${response.status}: ${await response.text()}`,
      );
    }
    return url;
  }
}

/** A new browser, logged in through the IdP's pages (as alice unless told otherwise). */
export async function logIn(
  system: Pick<TestSystem, "fetch">,
  user: { username: string; password: string } = USERS.alice,
): Promise<TestBrowser> {
  const browser = new TestBrowser(system);
  await browser.login(user);
  return browser;
}
