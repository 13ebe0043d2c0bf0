import { describe, expect, it } from "vitest";

import { BffError } from "../errors.ts";
import { apiPath } from "./api-routes.ts";

const refusal = (pathname: string) => {
  try {
    apiPath(pathname);
    return "accepted";
  } catch (error) {
    return error instanceof BffError ? error.code : "other";
  }
};

describe("apiPath: the API path of a browser path under /api", () => {
  it("keeps an ordinary path, dots inside a segment included", () => {
    expect(apiPath("/api/contacts")).toBe("/contacts");
    expect(apiPath("/api/contacts/42")).toBe("/contacts/42");
    expect(apiPath("/api/files/report.v2.pdf")).toBe("/files/report.v2.pdf");
    expect(apiPath("/api/...")).toBe("/...");
    expect(apiPath("/api/a..b/.c")).toBe("/a..b/.c");
    expect(apiPath("/api/")).toBe("/");
  });

  it.each([
    "/api/%2e%2e/x",
    "/api/a%2Fb",
    "/api/a%5cb",
    "/api/a\\b",
    "/api//x",
    "/api/x//",
    "/api/./x",
    "/api/x/..",
    "/api/x/../y",
    "/api/x/.",
  ])("refuses %s (400): a server behind could read it as another path", (pathname) => {
    expect(refusal(pathname)).toBe("invalid_request");
  });

  it("is not found for a path that only starts like /api", () => {
    expect(refusal("/apix")).toBe("not_found");
  });
});
