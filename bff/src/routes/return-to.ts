/**
 * Where to send the browser after login: only a path on our own origin. An
 * open redirect here would let a link to our login page end on an attacker's
 * site, looking like it came from us. `//evil.example` and `/\evil.example`
 * are read by browsers as other hosts, so they are refused too.
 */
export const MAX_RETURN_TO_LENGTH = 1024;

export function safeReturnTo(value: string | undefined): string {
  if (value === undefined || value === "") return "/";
  // A page path is short; a very long one only makes the login cookie too big to be kept.
  if (value.length > MAX_RETURN_TO_LENGTH) return "/";
  if (!value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return "/";
  // Control characters and backslashes have no place in a path and confuse URL parsers.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is exactly what this looks for.
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return "/";
  // The parsed URL must stay on a placeholder origin: catches any trick the checks above missed.
  const base = "http://return-to.invalid";
  const url = URL.parse(value, base);
  if (!url || url.origin !== base) return "/";
  // Check the result too: dot segments can collapse into a new leading "//" ("/.//evil.example").
  const result = `${url.pathname}${url.search}${url.hash}`;
  if (result.startsWith("//") || result.startsWith("/\\")) return "/";
  return result;
}
