import { describe, expect, it } from "vitest";
import { displayName, pageTitle } from "./session.ts";

describe("displayName", () => {
  it("greets by name, else by subject", () => {
    expect(displayName({ sub: "user-alice", name: "Alice Liddell" })).toBe("Alice Liddell");
    expect(displayName({ sub: "user-alice" })).toBe("user-alice");
    expect(displayName({ sub: "user-alice", name: "  " })).toBe("user-alice");
  });
});

describe("pageTitle", () => {
  it("names the page first", () => {
    expect(pageTitle("Contacts")).toBe("Contacts · OIDC BFF");
  });
});
