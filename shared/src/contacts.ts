/** A contact as the API stores and returns it. */
export interface Contact {
  id: string;
  name: string;
  email: string;
  group: string | null;
  createdAt: string;
}

/** What `POST /contacts` accepts. */
export interface NewContact {
  name: string;
  email: string;
  group?: string | null;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: Record<string, string> };

export const CONTACT_LIMITS = { name: 100, email: 254, group: 50 } as const;

// Deliberately simple: one "@", something on both sides, no spaces. The
// server is the authority; the SPA runs the same check to explain early.
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** Checks an untrusted value (a request body, a form) and returns a clean NewContact or field errors. */
export function parseNewContact(input: unknown): Validation<NewContact> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { ok: false, errors: { body: "Expected a JSON object with name and email." } };
  }
  const raw = input as Record<string, unknown>;
  const errors: Record<string, string> = {};
  const name = typeof raw.name === "string" ? raw.name.trim() : "";
  const email = typeof raw.email === "string" ? raw.email.trim() : "";
  const group = typeof raw.group === "string" && raw.group.trim() !== "" ? raw.group.trim() : null;

  if (name === "") errors.name = "Name is required.";
  else if (name.length > CONTACT_LIMITS.name)
    errors.name = `Name is at most ${CONTACT_LIMITS.name} characters.`;
  if (email === "") errors.email = "Email is required.";
  else if (email.length > CONTACT_LIMITS.email || !EMAIL.test(email)) errors.email = "Email is not valid.";
  if (raw.group !== undefined && raw.group !== null && typeof raw.group !== "string") {
    errors.group = "Group must be text.";
  } else if (group !== null && group.length > CONTACT_LIMITS.group) {
    errors.group = `Group is at most ${CONTACT_LIMITS.group} characters.`;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { name, email, group } };
}
