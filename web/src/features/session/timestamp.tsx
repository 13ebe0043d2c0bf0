import { formatDateTime, formatRelative } from "../../lib/format.ts";

/** A moment for people (local date and time, how far away) with the exact instant in `dateTime`. */
export function Timestamp({ date }: { date: Date }) {
  return (
    <>
      <time dateTime={date.toISOString()}>{formatDateTime(date)}</time>{" "}
      <span className="muted">({formatRelative(date, new Date())})</span>
    </>
  );
}
