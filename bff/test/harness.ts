/**
 * The whole system in one test process, with no ports: the real IdP
 * (oidc-provider, driven through `light-my-request`), the real API and the BFF
 * under test, wired by a `fetch` that routes by origin. A `TestBrowser` is a
 * cookie jar per simulated person that follows redirects across the origins,
 * the way a browser's navigation does.
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

interface JarCookie {
  value: string;
  path: string;
  /** The raw Set-Cookie line, to check attributes. */
  line: string;
}

/** One person's browser: a cookie jar per host, redirects followed like navigations. */
export class TestBrowser {
  /** host → name → cookie. */
  readonly jar = new Map<string, Map<string, JarCookie>>();
  private readonly system: Pick<TestSystem, "fetch">;
  private readonly bff: string;
  private readonly idp: string;

  /** `origins`: where the BFF and the IdP are, when they are real servers on other ports. */
  constructor(
    system: Pick<TestSystem, "fetch">,
    origins: { bff: string; idp: string } = { bff: BFF, idp: IDP },
  ) {
    this.system = system;
    this.bff = origins.bff;
    this.idp = origins.idp;
  }

  cookie(host: string, name: string): JarCookie | undefined {
    return this.jar.get(host)?.get(name);
  }

  /** Replaces the value of a cookie, as a person replaying or tampering with one would. */
  setCookie(host: string, name: string, value: string) {
    const cookies = this.jar.get(host) ?? new Map<string, JarCookie>();
    cookies.set(name, { value, path: "/", line: `${name}=${value}` });
    this.jar.set(host, cookies);
  }

  /** One request, no redirect followed; cookies sent and stored. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookies = [...(this.jar.get(target.host) ?? [])]
      .filter(
        ([, c]) =>
          target.pathname === c.path ||
          target.pathname.startsWith(c.path.endsWith("/") ? c.path : `${c.path}/`),
      )
      .map(([name, c]) => `${name}=${c.value}`);
    if (cookies.length > 0) headers.set("cookie", cookies.join("; "));
    const response = await this.system.fetch(target.href, { ...init, headers, redirect: "manual" });
    this.store(target.host, response);
    return response;
  }

  /** Fetch JSON from the BFF with the SPA's CSRF header. */
  api(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("x-csrf", "1");
    return this.fetch(`${this.bff}${path}`, { ...init, headers });
  }

  private store(host: string, response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
      const name = pair.slice(0, pair.indexOf("="));
      const value = pair.slice(pair.indexOf("=") + 1);
      const path = attributes.find((a) => a.toLowerCase().startsWith("path="))?.slice(5) ?? "/";
      const expired = attributes.some((a) => /^max-age=0$/i.test(a) || /^expires=thu, 01 jan 1970/i.test(a));
      const cookies = this.jar.get(host) ?? new Map<string, JarCookie>();
      if (value === "" || expired) cookies.delete(name);
      else cookies.set(name, { value, path, line });
      this.jar.set(host, cookies);
    }
  }

  /**
   * A navigation: follows redirects across origins and, on the IdP's pages,
   * acts as the person: signs in as `user` and answers consent with `consent`.
   * Stops at the first page of the BFF's origin that is not a redirect, or
   * when the IdP shows a page it has no answer for. Returns every URL visited.
   */
  async navigate(
    url: string,
    person: {
      user?: { username: string; password: string };
      consent?: "allow" | "deny";
      /** Stop, without requesting it, at the first URL that starts with this. */
      stopBefore?: string;
    } = {},
  ): Promise<{ response: Response; url: string; visited: string[] }> {
    let current = url;
    let init: RequestInit = {};
    const visited: string[] = [];
    for (let step = 0; step < 20; step++) {
      if (person.stopBefore && current.startsWith(person.stopBefore)) {
        return { response: new Response(null, { status: 204 }), url: current, visited };
      }
      visited.push(current);
      const response = await this.fetch(current, init);
      init = {};
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location) {
        current = new URL(location, current).href;
        continue;
      }
      const here = new URL(current);
      if (here.origin === this.idp && response.headers.get("content-type")?.startsWith("text/html")) {
        const page = await response.clone().text();
        // oidc-provider's self-submitting form (switching accounts ends the old IdP session first):
        // a browser runs its script; here it is posted as it stands.
        const autoPost = /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(page);
        if (page.includes("document.forms[0].submit()") && autoPost?.[1]) {
          const fields = new URLSearchParams();
          for (const input of (autoPost[2] ?? "").matchAll(
            /<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g,
          )) {
            fields.set(input[1] ?? "", decodeHtml(input[2] ?? ""));
          }
          current = new URL(decodeHtml(autoPost[1]), current).href;
          init = {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: fields.toString(),
          };
          continue;
        }
      }
      const uid = /^\/interaction\/([^/]+)$/.exec(here.pathname)?.[1];
      if (here.origin === this.idp && uid && response.status === 200) {
        const page = await response.text();
        const form = (action: string, fields: Record<string, string>) => {
          current = `${this.idp}/interaction/${uid}/${action}`;
          init = {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams(fields).toString(),
          };
        };
        if (page.includes(`action="/interaction/${uid}/login"`) && person.user) {
          form("login", { ...person.user });
          continue;
        }
        if (page.includes(`action="/interaction/${uid}/confirm"`) && person.consent) {
          form(person.consent === "allow" ? "confirm" : "abort", {});
          continue;
        }
        return { response: new Response(page, response), url: current, visited };
      }
      return { response, url: current, visited };
    }
    throw new Error(`too many redirects from ${url}`);
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
