/**
 * Cookie secrets nobody should seal production sessions with. Whoever knows
 * the secret can forge a session cookie (CWE-321: a hard-coded iron-session
 * password made cookies forgeable in react-awesome-query-builder#1330), and a
 * secret printed in documentation or marked as a placeholder is known to
 * everyone who read it. Development and test modes accept them, so that the
 * examples keep working on a laptop.
 */

/** Secrets this repository publishes for copying (docs/reuse.md, examples/my-app). */
const PUBLISHED_COOKIE_SECRETS = new Set(["a-test-only-cookie-secret-of-32-characters-or-more"]);

/** Words that say "replace me": the development defaults of the IdP use them too (`…-change-me`). */
const PLACEHOLDER = /change-?me|replace-?me|not-a-secret|placeholder|example|dev-secret/i;

/** A random secret of 32+ characters has far more variety than this; "aaaa…" or "abab…" is typed, not generated. */
const MIN_DISTINCT_CHARACTERS = 8;

/** Why a secret must not be used in production, or undefined when nothing is known against it. */
export function whyCookieSecretIsKnown(secret: string): string | undefined {
  if (PUBLISHED_COOKIE_SECRETS.has(secret)) return "is published in this project's documentation";
  if (PLACEHOLDER.test(secret)) return "is a placeholder, not a secret";
  if (new Set(secret).size < MIN_DISTINCT_CHARACTERS) return "is too regular to be random";
  return undefined;
}
