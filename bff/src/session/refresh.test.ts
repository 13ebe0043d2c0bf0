/**
 * The refresher's rules (refresh.ts) on their own, with the in-memory store and a
 * refresh function standing in for the IdP. The whole system under the same
 * faults, with a real Redis and real processes: bff/test/refresh-faults.test.ts
 * and scripts/faults/.
 */
import { describe, expect, it } from "vitest";

import { BffError } from "../errors.ts";
import type { SessionData } from "./data.ts";
import { createRefresher, type DoRefresh, LOCK_TTL_MS } from "./refresh.ts";
import { createSealer } from "./seal.ts";
import { MemorySessionStore, type SessionStore } from "./store.ts";

const sealer = createSealer(["a-unit-test-cookie-secret-of-32-characters-at-least"]);

function session(refreshToken = "R1"): SessionData {
  return {
    sid: "sid-1",
    version: 1,
    createdAt: Date.now(),
    lastSeenAt: Date.now(),
    sub: "alice",
    userinfo: {},
    tokens: {
      accessToken: "A1",
      accessTokenExpiresAt: Date.now(),
      refreshToken,
      idToken: "x.e30.x",
      scopes: ["openid"],
    },
  };
}

const rotated =
  (refreshToken: string): DoRefresh =>
  async () => ({
    tokens: { ...session().tokens, accessToken: "A2", refreshToken },
  });

/** A store whose refresh-outcome writes fail while `down` is true (the store gone after the lock was taken). */
function storeThatLosesWrites(inner: SessionStore) {
  const state = { down: false, writes: 0 };
  const store: SessionStore = {
    markEnded: (sid, until) => inner.markEnded(sid, until),
    markIdpSessionEnded: (idpSid, until) => inner.markIdpSessionEnded(idpSid, until),
    markSubjectEnded: (sub, at, until) => inner.markSubjectEnded(sub, at, until),
    isEnded: (identity) => inner.isEnded(identity),
    claimTokenId: (jti, until) => inner.claimTokenId(jti, until),
    beginRefresh: (key, owner, ttlMs) => inner.beginRefresh(key, owner, ttlMs),
    abandonRefresh: (key, owner) => inner.abandonRefresh(key, owner),
    refreshOutcome: (key) => inner.refreshOutcome(key),
    async finishRefresh(key, owner, outcome, ttlMs) {
      state.writes++;
      if (state.down) throw new Error("connection lost");
      return inner.finishRefresh(key, owner, outcome, ttlMs);
    },
  };
  return { store, state };
}

describe("createRefresher", () => {
  it("one refresh for many concurrent callers holding the same token", async () => {
    const refresher = createRefresher({ store: new MemorySessionStore(), sealer });
    let calls = 0;
    const doRefresh: DoRefresh = async (token, signal) => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return rotated("R2")(token, signal);
    };
    const results = await Promise.all(
      Array.from({ length: 20 }, () => refresher.refresh(session(), doRefresh)),
    );
    expect(calls).toBe(1);
    expect(new Set(results.map((r) => r.tokens.refreshToken))).toEqual(new Set(["R2"]));
    expect(results[0]?.version).toBe(2);
  });

  it("returns the IdP's tokens when the store cannot take the outcome, and writes it once the store is back", async () => {
    const memory = new MemorySessionStore();
    const { store, state } = storeThatLosesWrites(memory);
    const refresher = createRefresher({ store, sealer });
    state.down = true;
    const result = await refresher.refresh(session(), rotated("R2"));
    expect(result.tokens.refreshToken).toBe("R2");

    state.down = false;
    await new Promise((resolve) => setTimeout(resolve, 700));
    // Another process (its own refresher, the same store) now finds the outcome: it sends nothing.
    const other = createRefresher({ store: memory, sealer });
    const taken = await other.refresh(session(), () => {
      throw new Error("must not refresh again");
    });
    expect(taken.tokens.refreshToken).toBe("R2");
    expect(state.writes).toBeGreaterThanOrEqual(2);
  });

  it("keeps the lease after an attempt whose fate is unknown, so no other process sends the token", async () => {
    const store = new MemorySessionStore();
    const first = createRefresher({ store, sealer, deadlineMs: 50 });
    const hung: DoRefresh = (_token, signal) =>
      new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    await expect(first.refresh(session(), hung)).rejects.toThrow();

    const second = createRefresher({ store, sealer });
    let sent = false;
    const waiting = second.refresh(session(), async (token, signal) => {
      sent = true;
      return rotated("R2")(token, signal);
    });
    await new Promise((resolve) => setTimeout(resolve, LOCK_TTL_MS / 2));
    expect(sent).toBe(false);
    await expect(waiting).resolves.toMatchObject({ tokens: { refreshToken: "R2" } });
    expect(sent).toBe(true);
  }, 20_000);

  it("releases the lease at once when the IdP was never reached (connection refused)", async () => {
    const store = new MemorySessionStore();
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const refresher = createRefresher({
      store,
      sealer,
      neverReachedIdp: (error) => (error as { cause?: { code?: string } }).cause?.code === "ECONNREFUSED",
    });
    const down: DoRefresh = async () => {
      throw new BffError("idp_unavailable", "down", { cause: refused });
    };
    await expect(refresher.refresh(session(), down)).rejects.toMatchObject({ code: "idp_unavailable" });
    const started = Date.now();
    await expect(refresher.refresh(session(), rotated("R2"))).resolves.toMatchObject({ version: 2 });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("a refused refresh is remembered: every holder of the token hears it instead of sending it again", async () => {
    const store = new MemorySessionStore();
    const refresher = createRefresher({ store, sealer });
    const refusedGrant: DoRefresh = async () => {
      throw new BffError("session_expired", "The grant is gone.");
    };
    await expect(refresher.refresh(session(), refusedGrant)).rejects.toMatchObject({
      code: "session_expired",
    });
    const other = createRefresher({ store, sealer });
    await expect(
      other.refresh(session(), () => {
        throw new Error("must not refresh again");
      }),
    ).rejects.toMatchObject({ code: "session_expired" });
  });
});
