/**
 * A few thousand generated malformed inputs against the BFF's routes and the
 * API's token parser: whatever arrives, the answer is a 4xx (or a redirect or
 * a page), never a 500 and never a stack trace. Inputs are generated from a
 * fixed seed, so a failure can be replayed exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { API, BFF, startSystem, TestBrowser, type TestSystem, USERS } from "./harness.ts";

/** A small deterministic generator (mulberry32). */
function random(seed: number) {
  let state = seed;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  return { next, pick };
}

const PIECES = [
  "",
  "a",
  "%",
  "%00",
  "%2f",
  "%2e%2e",
  "..",
  "/",
  "\\",
  "//",
  "é",
  "\u202e",
  "'\"<>",
  "Fe26.2**",
  "~",
  "eyJhbGciOiJub25lIn0",
  ".",
  "=",
  ";",
  ",",
  " ",
  "\t",
  "null",
  "{}",
  "[]",
  "9".repeat(30),
  "x".repeat(5000),
];

function junk(rng: ReturnType<typeof random>, parts = 1 + Math.floor(rng.next() * 6)): string {
  return Array.from({ length: parts }, () => rng.pick(PIECES)).join("");
}

/** Header values must be ByteStrings without CR/LF; keep what fetch accepts. */
const headerSafe = (value: string) => value.replace(/[^\x20-\x7e]/g, "?");

let system: TestSystem;
let sessionCookie = "";
beforeAll(async () => {
  system = await startSystem();
  const alice = new TestBrowser(system);
  await alice.login(USERS.alice);
  sessionCookie = alice.cookie(new URL(BFF).host, "__Host-bff-session")?.value ?? "";
});
afterAll(async () => {
  await system.close();
});

function expectNo500(response: Response, what: string) {
  expect(response.status, what).toBeLessThan(500);
}

describe("generated malformed requests", () => {
  it("the BFF's routes answer 2000 of them without a 500", async () => {
    const rng = random(20261123);
    const paths = [
      "/bff/login",
      "/bff/callback",
      "/bff/session",
      "/bff/logout",
      "/bff/logout/end-session",
      "/bff/backchannel-logout",
      "/api/contacts",
      "/api/contacts/",
      "/api/",
    ];
    for (let i = 0; i < 2000; i++) {
      const path = `${rng.pick(paths)}${rng.next() < 0.3 ? encodeURI(junk(rng)).slice(0, 200) : ""}`;
      const query = new URLSearchParams();
      for (const name of ["returnTo", "scope", "prompt", "code", "state", "iss", "ticket", "error"]) {
        if (rng.next() < 0.3) query.set(name, junk(rng));
      }
      const headers: Record<string, string> = {};
      const cookieValue =
        rng.next() < 0.2 ? sessionCookie.slice(0, Math.floor(rng.next() * sessionCookie.length)) : junk(rng);
      if (rng.next() < 0.7)
        headers.cookie = headerSafe(
          `${rng.pick(["__Host-bff-session", "__Host-bff-login", "__Host-bff-session-1", "x"])}=${cookieValue}`,
        );
      if (rng.next() < 0.6) headers["x-csrf"] = rng.pick(["1", "0", "", headerSafe(junk(rng))]);
      if (rng.next() < 0.3) headers.origin = headerSafe(junk(rng));
      if (rng.next() < 0.3)
        headers["sec-fetch-site"] = rng.pick(["same-origin", "cross-site", "none", headerSafe(junk(rng))]);
      if (rng.next() < 0.3)
        headers["content-type"] = rng.pick([
          "application/json",
          "application/x-www-form-urlencoded",
          "text/plain",
          headerSafe(junk(rng)),
        ]);
      const method = rng.pick(["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD"]);
      const body = method === "GET" || method === "HEAD" ? undefined : junk(rng);
      const url = `${BFF}${path}${query.size > 0 ? `?${query}` : ""}`;
      let response: Response;
      try {
        response = await system.bff.fetch(
          new Request(url, { method, headers, ...(body === undefined ? {} : { body }) }),
        );
      } catch (error) {
        throw new Error(`${method} ${url} threw: ${String(error)}`);
      }
      expectNo500(response, `${method} ${url} ${JSON.stringify(headers).slice(0, 300)}`);
      const text = await response.text();
      expect(text, `${method} ${url}`).not.toMatch(/\n\s+at [\w.<>]+ \(/);
    }
  }, 60_000);

  it("the API's token parser answers 1000 generated bearer tokens with 401, never a 500", async () => {
    const rng = random(4242);
    const api = (request: Request) => system.fetch(request);
    for (let i = 0; i < 1000; i++) {
      const parts = Array.from({ length: rng.pick([1, 2, 3, 3, 3, 4, 5]) }, () =>
        rng.next() < 0.5 ? Buffer.from(junk(rng)).toString("base64url") : junk(rng),
      );
      const token = headerSafe(parts.join("."));
      const response = await api(
        new Request(`${API}/contacts`, { headers: { authorization: `Bearer ${token}` } }),
      );
      expectNo500(response, `token ${token.slice(0, 80)}`);
      expect([400, 401]).toContain(response.status);
    }
  }, 60_000);
});
