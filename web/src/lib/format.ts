/**
 * Date and time wording for the pages. Pure functions with the locale and the
 * clock as parameters, so they are tested without a browser.
 */

export interface FormatOptions {
  /** BCP 47 locale; the browser's own when omitted. */
  locale?: string;
  /** IANA time zone; the browser's own when omitted. */
  timeZone?: string;
}

/** "12 May 2026, 14:03:05" in the person's own locale and zone. */
export function formatDateTime(date: Date, options: FormatOptions = {}): string {
  return new Intl.DateTimeFormat(options.locale, {
    dateStyle: "medium",
    timeStyle: "medium",
    timeZone: options.timeZone,
  }).format(date);
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["day", 86_400],
  ["hour", 3_600],
  ["minute", 60],
  ["second", 1],
];

/** "in 5 minutes", "3 hours ago": the largest unit that fits, rounded toward zero. */
export function formatRelative(date: Date, now: Date, options: Pick<FormatOptions, "locale"> = {}): string {
  const seconds = (date.getTime() - now.getTime()) / 1000;
  const format = new Intl.RelativeTimeFormat(options.locale, { numeric: "auto" });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second")
      return format.format(Math.trunc(seconds / size), unit);
  }
  return format.format(0, "second");
}

/** A date from an ISO string, or null when the server sent something unreadable. */
export function parseIsoDate(value: string): Date | null {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A date from a JWT NumericDate (seconds since the epoch). */
export function fromNumericDate(seconds: number): Date {
  return new Date(seconds * 1000);
}
