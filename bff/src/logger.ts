/**
 * Where the BFF writes what operators need to know. Messages are plain strings
 * built by the BFF itself, never objects: an error object from the OAuth layer
 * can carry a token response in its `cause`, and a logger that serialises
 * objects would write it out. Use `describeError` to log an error.
 */
export interface BffLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const consoleLogger: BffLogger = {
  info: (message) => console.log(message),
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};

/** A logger that drops everything (tests that assert on their own output). */
export const silentLogger: BffLogger = { info() {}, warn() {}, error() {} };

/**
 * An error as one safe line: its name, its `code` when it has one, and its
 * message — never its `cause`, which may hold a token endpoint response.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return `non-error thrown: ${typeof error}`;
  const code = (error as { code?: unknown }).code;
  return `${error.name}${typeof code === "string" ? ` [${code}]` : ""}: ${error.message}`;
}
