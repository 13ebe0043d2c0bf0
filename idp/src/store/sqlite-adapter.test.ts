import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { openSqliteStore, type SqliteStore } from "./sqlite-adapter.ts";

let clock = 1_000_000;
let store: SqliteStore;
beforeEach(() => {
  clock = 1_000_000;
  store = openSqliteStore(":memory:", () => clock);
});
afterEach(() => store.close());

describe("the SQLite adapter", () => {
  it("stores, finds, updates and destroys a model by id", async () => {
    const grants = store.adapter("Grant");
    await grants.upsert("g1", { accountId: "user-alice", clientId: "web-bff" }, 60);
    expect(await grants.find("g1")).toEqual({ accountId: "user-alice", clientId: "web-bff" });
    await grants.upsert("g1", { accountId: "user-alice", clientId: "other" }, 60);
    expect((await grants.find("g1"))?.clientId).toBe("other");
    // Models are separate namespaces.
    expect(await store.adapter("Session").find("g1")).toBeUndefined();
    await grants.destroy("g1");
    expect(await grants.find("g1")).toBeUndefined();
  });

  it("never returns an expired entry", async () => {
    const codes = store.adapter("AuthorizationCode");
    await codes.upsert("c1", { grantId: "g1" }, 60);
    clock += 59_000;
    expect(await codes.find("c1")).toBeDefined();
    clock += 1_000;
    expect(await codes.find("c1")).toBeUndefined();
  });

  it("keeps an expired device code findable for ten minutes, so the provider can answer expired_token", async () => {
    const codes = store.adapter("DeviceCode");
    await codes.upsert("d1", { userCode: "BCDFGHJK" }, 60);
    clock += 60_000 + 9 * 60_000;
    expect(await codes.find("d1")).toBeDefined();
    expect(await codes.findByUserCode("BCDFGHJK")).toBeDefined();
    clock += 60_000;
    expect(await codes.find("d1")).toBeUndefined();
  });

  it("keeps entries without expiresIn until destroyed, and sweeps expired ones", async () => {
    const clients = store.adapter("Client");
    await clients.upsert("forever", {});
    await clients.upsert("brief", {}, 1);
    clock += 10_000;
    store.sweep();
    expect(await clients.find("forever")).toEqual({});
    expect(await clients.find("brief")).toBeUndefined();
  });

  it("marks a code or token as consumed", async () => {
    const tokens = store.adapter("RefreshToken");
    await tokens.upsert("r1", { grantId: "g1" }, 60);
    await tokens.consume("r1");
    expect(await tokens.find("r1")).toEqual({ grantId: "g1", consumed: Math.floor(clock / 1000) });
  });

  it("finds sessions by uid and device codes by user code", async () => {
    await store.adapter("Session").upsert("s1", { uid: "uid-1", accountId: "user-alice" }, 60);
    expect((await store.adapter("Session").findByUid("uid-1"))?.accountId).toBe("user-alice");
    await store.adapter("DeviceCode").upsert("d1", { userCode: "ABCD-EFGH" }, 60);
    expect(await store.adapter("DeviceCode").findByUserCode("ABCD-EFGH")).toEqual({ userCode: "ABCD-EFGH" });
  });

  it("revokes every token of a model issued under a grant", async () => {
    const access = store.adapter("AccessToken");
    await access.upsert("a1", { grantId: "g1" }, 60);
    await access.upsert("a2", { grantId: "g1" }, 60);
    await access.upsert("a3", { grantId: "g2" }, 60);
    await access.revokeByGrantId("g1");
    expect(await access.find("a1")).toBeUndefined();
    expect(await access.find("a2")).toBeUndefined();
    expect(await access.find("a3")).toBeDefined();
  });
});
