import { describe, expect, it } from "vitest";
import { formatDateTime, formatRelative, fromNumericDate, parseIsoDate } from "./format.ts";

const en = { locale: "en-GB", timeZone: "UTC" };

describe("formatDateTime", () => {
  it("writes a date and time a person can read, in the given locale and zone", () => {
    expect(formatDateTime(new Date("2026-05-12T14:03:05Z"), en)).toBe("12 May 2026, 14:03:05");
  });
});

describe("formatRelative", () => {
  const now = new Date("2026-05-12T12:00:00Z");
  const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);

  it("uses the largest unit that fits", () => {
    expect(formatRelative(at(5 * 60), now, en)).toBe("in 5 minutes");
    expect(formatRelative(at(-3 * 3600), now, en)).toBe("3 hours ago");
    expect(formatRelative(at(2 * 86400 + 10), now, en)).toBe("in 2 days");
    expect(formatRelative(at(30), now, en)).toBe("in 30 seconds");
  });

  it("rounds toward zero, so an expiry is never announced later than it is", () => {
    expect(formatRelative(at(119), now, en)).toBe("in 1 minute");
  });

  it("says now for the present moment", () => {
    expect(formatRelative(now, now, en)).toBe("now");
  });
});

describe("parseIsoDate", () => {
  it("reads ISO 8601 and refuses anything else", () => {
    expect(parseIsoDate("2026-05-12T14:03:05.000Z")?.toISOString()).toBe("2026-05-12T14:03:05.000Z");
    expect(parseIsoDate("next tuesday")).toBeNull();
  });
});

describe("fromNumericDate", () => {
  it("reads JWT seconds since the epoch", () => {
    expect(fromNumericDate(1_778_594_585).toISOString()).toBe("2026-05-12T14:03:05.000Z");
  });
});
