import { type AuthEnv, requireScope, requireUser } from "@oidc-bff/resource-server";
import { parseNewContact, SCOPES } from "@oidc-bff/shared";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError, problemResponse } from "./errors.ts";
import { methodNotAllowed } from "./http.ts";
import type { ContactsStore } from "./store/contacts-store.ts";

// A contact is a few hundred bytes; anything much larger is not one.
/** A contact is a few hundred bytes; every route of the API refuses more than this (app.ts). */
export const MAX_BODY_BYTES = 16 * 1024;

/** The caller's user id; `requireUser` ran before, so it is there. */
const owner = (c: Context<AuthEnv>): string => c.var.principal.user as string;

async function readJson(c: Context<AuthEnv>): Promise<unknown> {
  const type = c.req.header("content-type");
  if (type !== undefined && !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    throw new ApiError("invalid_request", "The body must be JSON (Content-Type: application/json).");
  }
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError("invalid_request", "The body is not valid JSON.");
  }
}

/**
 * `/contacts`: each person's own contacts. Every route needs a user's token
 * (never a client's own) and reaches only that user's rows.
 */
export function contactsRoutes(store: ContactsStore, authenticate: MiddlewareHandler<AuthEnv>) {
  const routes = new Hono<AuthEnv>();
  const read = [authenticate, requireScope(SCOPES.read), requireUser()] as const;
  const write = [authenticate, requireScope(SCOPES.write), requireUser()] as const;

  routes.get("/", ...read, (c) => c.json(store.list(owner(c))));

  routes.post(
    "/",
    ...write,
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () =>
        problemResponse(
          new ApiError("payload_too_large", `The body is larger than ${MAX_BODY_BYTES} bytes.`),
        ),
    }),
    async (c) => {
      const parsed = parseNewContact(await readJson(c));
      if (!parsed.ok) {
        const detail = Object.values(parsed.errors).join(" ");
        throw new ApiError("invalid_request", detail, { fields: parsed.errors });
      }
      const contact = store.add(owner(c), parsed.value);
      // A relative-path reference on purpose: resolved against the request URL it
      // stays right behind a proxy that mounts the API under a prefix (the BFF's /api).
      c.header("location", `contacts/${encodeURIComponent(contact.id)}`);
      return c.json(contact, 201);
    },
  );
  routes.all("/", methodNotAllowed(["GET", "POST"]));

  routes.get("/:id", ...read, (c) => {
    const contact = store.get(owner(c), c.req.param("id"));
    if (!contact) throw new ApiError("not_found", "No such contact.");
    return c.json(contact);
  });

  routes.delete("/:id", ...write, (c) => {
    // Someone else's id and an unknown id answer the same: ids are not an oracle.
    if (!store.remove(owner(c), c.req.param("id"))) throw new ApiError("not_found", "No such contact.");
    return c.body(null, 204);
  });
  routes.all("/:id", methodNotAllowed(["GET", "DELETE"]));

  return routes;
}
