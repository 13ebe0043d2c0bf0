import { BffError, genericProblem } from "@oidc-bff/client";
import type { Problem } from "@oidc-bff/shared";
import { describe, expect, it } from "vitest";
import { describeError, fieldErrorsFrom, shouldRetry } from "./errors.ts";

function bffError(status: number, code: Problem["code"], title = "Title", detail?: string): BffError {
  const problem: Problem = { type: "about:blank", title, status, code };
  if (detail) problem.detail = detail;
  return new BffError(status, problem);
}

describe("describeError", () => {
  it("offers to log in again when the session has ended", () => {
    expect(describeError(bffError(401, "session_expired"))).toEqual({
      kind: "login",
      message: "Your session has ended.",
      action: "Log in again",
    });
  });

  it("offers to log in again on any other 401", () => {
    expect(describeError(bffError(401, "not_authenticated"))).toMatchObject({
      kind: "login",
      message: "You are not logged in.",
    });
  });

  it("explains a missing scope instead of offering a retry that cannot help", () => {
    expect(describeError(bffError(403, "insufficient_scope")).kind).toBe("forbidden");
  });

  it("offers to allow a scope the API names, when the app knows how to say what it is for", () => {
    const error = bffError(403, "insufficient_scope");
    error.problem.scope = "contacts:write";
    expect(describeError(error)).toMatchObject({
      kind: "consent",
      message: "Editing your contacts needs your permission.",
      action: "Allow editing",
      scope: "contacts:write",
    });
    error.problem.scope = "contacts:admin";
    expect(describeError(error).kind).toBe("forbidden");
  });

  it("shows the problem's title and detail for an upstream failure, with a retry", () => {
    expect(describeError(bffError(504, "upstream_timeout", "The API took too long", "Try later"))).toEqual({
      kind: "retry",
      message: "The API took too long",
      detail: "Try later",
      action: "Try again",
    });
    expect(describeError(new BffError(502, genericProblem(502)))).toMatchObject({ kind: "retry" });
  });

  it("treats a failed fetch as the server being unreachable", () => {
    expect(describeError(new TypeError("fetch failed"))).toMatchObject({
      kind: "retry",
      message: "The server could not be reached.",
    });
  });
});

describe("shouldRetry", () => {
  it("never retries a 4xx", () => {
    expect(shouldRetry(0, bffError(401, "session_expired"))).toBe(false);
    expect(shouldRetry(0, bffError(403, "insufficient_scope"))).toBe(false);
  });

  it("retries 5xx and network failures twice", () => {
    expect(shouldRetry(0, bffError(502, "upstream_unreachable"))).toBe(true);
    expect(shouldRetry(1, new TypeError("fetch failed"))).toBe(true);
    expect(shouldRetry(2, new TypeError("fetch failed"))).toBe(false);
  });
});

describe("fieldErrorsFrom", () => {
  it("reads the per-field messages of a refused body", () => {
    const error = new BffError(400, {
      type: "about:blank",
      title: "Invalid contact",
      status: 400,
      code: "invalid_request",
      errors: { email: "Email is not valid." },
    });
    expect(fieldErrorsFrom(error)).toEqual({ email: "Email is not valid." });
  });

  it("is null when there are none to show", () => {
    expect(fieldErrorsFrom(bffError(400, "invalid_request"))).toBeNull();
    expect(fieldErrorsFrom(bffError(502, "upstream_unreachable"))).toBeNull();
    expect(fieldErrorsFrom(new TypeError("fetch failed"))).toBeNull();
  });
});
