import { describe, expect, it } from "vitest";

import { createSealer } from "./seal.ts";

const sealer = createSealer(["a-unit-test-cookie-secret-of-32-characters-at-least"]);

describe("seals", () => {
  it("accept exactly the spelling they were sealed with: no other suffix after the HMAC (X13)", async () => {
    const sealed = await sealer.seal("session", { sid: "s1" }, 60);
    expect(sealed).toMatch(/~2$/);
    expect(await sealer.unseal("session", sealed)).toEqual({ ok: true, value: { sid: "s1" } });
    const bare = sealed.slice(0, -2);
    for (const variant of [`${bare}~3`, `${sealed}x`, `${sealed}~2`, `${bare}~`, bare, `${bare}~02`]) {
      expect(await sealer.unseal("session", variant)).toEqual({ ok: false, reason: "invalid" });
    }
  });

  it("refuse a seal made for another purpose", async () => {
    const ticket = await sealer.seal("logout-ticket", { idToken: "x" }, 60);
    expect((await sealer.unseal("session", ticket)).ok).toBe(false);
  });
});
