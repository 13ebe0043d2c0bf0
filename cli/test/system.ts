/**
 * The CLI's world in one process: the real IdP and the real API, no ports,
 * wired by a `fetch` that routes by origin; and a person who approves (or
 * declines) the device login on the IdP's real pages with a cookie-keeping
 * client, as a browser would.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type Api, createApi } from "@oidc-bff/api";
import { createIdp, type DevelopmentIdpOptions, developmentIdpConfig, type Idp } from "@oidc-bff/idp";
import { inProcessFetch } from "@oidc-bff/idp/in-process-fetch";
import { SimulatedBrowser } from "@oidc-bff/shared/testing/simulated-browser";

import type { CliIo } from "../src/index.ts";

export const ISSUER = "http://127.0.0.1:4000";
export const API = "http://localhost:4001";

export interface TestSystem {
  idp: Idp;
  api: Api;
  fetch: typeof fetch;
  close(): Promise<void>;
}

export async function startSystem(options: Partial<DevelopmentIdpOptions> = {}): Promise<TestSystem> {
  const idp = await createIdp(
    developmentIdpConfig({
      storePath: ":memory:",
      keysPath: null,
      mode: "test",
      webBff: { backchannelLogoutUri: null },
      ...options,
    }),
  );
  const toIdp = inProcessFetch(idp);
  let api: Api | undefined;
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.origin === API && api) return api.app.fetch(request);
    if (url.origin === ISSUER) return toIdp(request);
    throw new TypeError("fetch failed");
  };
  api = createApi({ issuer: ISSUER, audience: API, dbPath: ":memory:", seed: true }, { fetch });
  return {
    idp,
    api,
    fetch,
    async close() {
      api?.close();
      await idp.close();
    },
  };
}

/** A fresh CONTACTS_CONFIG_DIR (the test removes it). */
export function configDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "contacts-cli-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RecordingIo {
  io: CliIo;
  out: string[];
  err: string[];
  /** Every wait the CLI asked for, in milliseconds. */
  sleeps: number[];
}

/**
 * The CLI's I/O with waits that return at once (after `onSleep`, where the test
 * lets the person act), so polling takes no real time.
 */
export function recordingIo(
  env: Record<string, string>,
  fetch: typeof globalThis.fetch,
  onSleep: (count: number, out: string[]) => Promise<void> = async () => {},
  overrides: Partial<CliIo> = {},
): RecordingIo {
  const out: string[] = [];
  const err: string[] = [];
  const sleeps: number[] = [];
  const io: CliIo = {
    env,
    fetch,
    out: (line) => out.push(...line.split("\n")),
    err: (line) => err.push(...line.split("\n")),
    sleep: async (ms) => {
      sleeps.push(ms);
      await onSleep(sleeps.length, out);
    },
    ...overrides,
  };
  return { io, out, err, sleeps };
}

/** The verification URL and user code the CLI printed. */
export function promptIn(out: string[]): { verificationUri: string; userCode: string; complete?: string } {
  const text = out.join("\n");
  const verificationUri = /open this page in a browser[^\n]*\n\s+(\S+)/.exec(text)?.[1];
  const userCode = /enter the code:\n\s+(\S+)/.exec(text)?.[1];
  const complete = /fills in the code for you:\n\s+(\S+)/.exec(text)?.[1];
  if (!verificationUri || !userCode) throw new Error(`no prompt in the output:\n${text}`);
  return { verificationUri, userCode, ...(complete ? { complete } : {}) };
}

/**
 * A person at a browser: the shared simulated browser (Chromium's cookie rules)
 * in front of `fetch`, no redirect followed by itself. A GET is a navigation
 * (the link the CLI printed, or a redirect); a form is posted from the IdP's page.
 */
export class Person {
  readonly browser: SimulatedBrowser;

  constructor(fetch: typeof globalThis.fetch) {
    this.browser = new SimulatedBrowser((url, init) => fetch(url, init));
  }

  async request(
    url: string,
    form?: Record<string, string>,
  ): Promise<{ status: number; location: string | null; body: string }> {
    const target = new URL(url, ISSUER).href;
    const response = await this.browser.fetch(
      target,
      form
        ? {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams(form).toString(),
            initiator: ISSUER,
          }
        : {},
    );
    return {
      status: response.status,
      location: response.headers.get("location"),
      body: await response.text(),
    };
  }

  /** Opens the verification page, enters the code, and presses Continue or Deny on the confirmation page. */
  async answer(
    verificationUri: string,
    userCode: string,
    choice: "approve" | "deny",
    { username = "alice", password = "alice-dev-password" } = {},
  ): Promise<string> {
    const entry = await this.request(verificationUri);
    const confirmation = await this.request("/device", { xsrf: xsrf(entry.body), user_code: userCode });
    if (!confirmation.body.includes("Connect this device?")) throw new Error(confirmation.body);
    const decision = { xsrf: xsrf(confirmation.body), user_code: userCode, confirm: "yes" };
    let response = await this.request(
      "/device",
      choice === "deny" ? { ...decision, abort: "yes" } : decision,
    );
    for (let step = 0; step < 8 && response.location; step++) {
      const next = response.location;
      const page = await this.request(next);
      const uid = /^\/interaction\/([^/?]+)$/.exec(new URL(next, ISSUER).pathname)?.[1];
      if (!uid || page.status !== 200) {
        response = page;
      } else if (page.body.includes(`action="/interaction/${uid}/login"`)) {
        response = await this.request(`/interaction/${uid}/login`, { username, password });
      } else {
        response = await this.request(`/interaction/${uid}/confirm`, {});
      }
    }
    return response.body;
  }
}

function xsrf(page: string): string {
  const value = /name="xsrf" value="([^"]+)"/.exec(page)?.[1];
  if (!value) throw new Error(`no xsrf field in:\n${page}`);
  return value;
}
