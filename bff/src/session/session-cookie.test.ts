import { randomBytes } from "node:crypto";

import { Hono } from "hono";
import { describe, expect, it } from "vitest";

import { cookieJar, MAX_COOKIE_BYTES, SESSION_COOKIE } from "./cookies.ts";
import type { SessionData } from "./data.ts";
import { createSealer } from "./seal.ts";
import { createSessionCookie, SessionTooLargeError } from "./session-cookie.ts";

const SECRET = "a-cookie-secret-for-the-session-cookie-tests";
const lifetimes = { absoluteSeconds: 3600, idleSeconds: 600 };
const cookie = createSessionCookie(createSealer([SECRET]), lifetimes, Date.now);

/** A JWT-shaped string of about `bytes` bytes, like a Keycloak token. */
const jwtOf = (bytes: number) =>
  [
    "eyJhbGciOiJSUzI1NiJ9",
    randomBytes(Math.ceil((bytes - 350) * 0.75)).toString("base64url"),
    randomBytes(256).toString("base64url"),
  ].join(".");

function session(tokenBytes: number): SessionData {
  const now = Date.now();
  return {
    sid: "sid-1",
    version: 1,
    createdAt: now,
    lastSeenAt: now,
    tokens: {
      accessToken: jwtOf(tokenBytes),
      accessTokenExpiresAt: now + 300_000,
      scopes: ["openid", "contacts:read"],
      refreshToken: jwtOf(tokenBytes),
      idToken: jwtOf(tokenBytes),
    },
    sub: "user-alice",
    userinfo: { sub: "user-alice", name: "Alice Liddell" },
  };
}

/** A tiny app around the cookie module, and a jar that keeps what it sets. */
function harness() {
  const app = new Hono();
  let next: SessionData | undefined;
  app.get("/write", async (c) => {
    if (next) await cookie.write(cookieJar(c), next);
    return c.text("ok");
  });
  app.get("/read", async (c) => c.json(await cookie.read(cookieJar(c))));
  const jar = new Map<string, string>();
  const send = async (path: string) => {
    const header = [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
    const response = await app.request(path, { headers: header ? { cookie: header } : {} });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const name = pair.slice(0, pair.indexOf("="));
      const value = pair.slice(pair.indexOf("=") + 1);
      if (value === "" || /max-age=0/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  };
  return {
    jar,
    send,
    write: (data: SessionData) => {
      next = data;
      return send("/write");
    },
    read: async () => (await (await send("/read")).json()) as { state: string; session?: SessionData },
    cookieHeaderBytes: () => Buffer.byteLength([...jar].map(([n, v]) => `${n}=${v}`).join("; ")),
  };
}

describe("the session cookie", () => {
  it("keeps a session with small tokens in one cookie", async () => {
    const h = harness();
    await h.write(session(600));
    expect([...h.jar.keys()]).toEqual([SESSION_COOKIE]);
    expect((await h.read()).session?.tokens.accessToken).toHaveLength(session(600).tokens.accessToken.length);
  });

  it("splits a session with 1.5 KB access, refresh and ID tokens over several cookies, each under 4096 bytes", async () => {
    const h = harness();
    const large = session(1600);
    await h.write(large);
    const names = [...h.jar.keys()];
    expect(names.length).toBeGreaterThan(1);
    for (const [name, value] of h.jar)
      expect(Buffer.byteLength(`${name}=${value}`)).toBeLessThanOrEqual(MAX_COOKIE_BYTES);
    const read = await h.read();
    expect(read.state).toBe("present");
    expect(read.session?.tokens).toEqual(large.tokens);
    // What every proxied request then carries, for the record (docs/decisions/007).
    console.info(
      `session cookies for 3 × 1.6 KB tokens: ${names.length} cookies, ${h.cookieHeaderBytes()} bytes`,
    );
  });

  it("deletes the extra cookies when a large session is replaced by a small one", async () => {
    const h = harness();
    await h.write(session(1600));
    await h.write(session(600));
    expect([...h.jar.keys()]).toEqual([SESSION_COOKIE]);
    expect((await h.read()).state).toBe("present");
  });

  it("treats a split session with a missing part as unreadable, not as a 500", async () => {
    const h = harness();
    await h.write(session(1600));
    h.jar.delete(`${SESSION_COOKIE}-1`);
    expect((await h.read()).state).toBe("unreadable");
  });

  it("refuses, rather than silently truncates, a session too large for its cookies", async () => {
    await expect(cookie.measure(session(6000))).rejects.toBeInstanceOf(SessionTooLargeError);
  });
});
