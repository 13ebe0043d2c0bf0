/** A polite progress message; screen readers announce it without interrupting. */
export function Loading({ label }: { label: string }) {
  return (
    <p role="status" className="loading">
      {label}
    </p>
  );
}
