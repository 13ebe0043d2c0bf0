import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";

import type Provider from "oidc-provider";

import { errorPage } from "./views.ts";

/**
 * Request bodies: at most 16 KB on every route of the IdP, whoever reads them.
 *
 * Nothing the IdP accepts comes near it: a login or consent form is well under
 * 1 KB, a token request with a `private_key_jwt` assertion a few KB, a pushed
 * authorization request a few KB. oidc-provider reads the bodies of its own
 * routes with a fixed 56 KB cap of its own (not configurable) and answers 400
 * past it; the limit here is below it, so it is the one that applies, with 413.
 *
 * - A declared `Content-Length` over the limit is refused before a byte of the
 *   body is read.
 * - A body without a length (chunked) is counted as it is read; past the limit
 *   reading stops and the answer is 413.
 * - Either way the connection is closed after the answer, so the rest of the body
 *   is never received (Node would otherwise read and discard it to keep the
 *   connection alive). No route buffers more than the limit.
 */
export const BODY_LIMIT_BYTES = 16 * 1024;

const DESCRIPTION = `The request body is larger than ${BODY_LIMIT_BYTES / 1024} KB.`;
const TOO_LARGE_ERROR = { error: "invalid_request", error_description: DESCRIPTION };
const TOO_LARGE_PAGE = errorPage({
  title: "Request too large",
  message: DESCRIPTION,
  code: "invalid_request",
});

export class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
  readonly status = 413;
  readonly expose = true;

  constructor() {
    super(DESCRIPTION);
  }
}

const tooLarge = new WeakSet<IncomingMessage>();

/**
 * Call first for every request. Answers 413 at once (and returns true) for a
 * declared length over the limit; otherwise makes every reader of the body
 * (`for await (… of req)`, `req.iterator()`) stop with a `BodyTooLargeError`
 * once the limit is passed.
 */
export function limitRequestBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit = BODY_LIMIT_BYTES,
): boolean {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    tooLarge.add(req);
    res.statusCode = 413;
    res.setHeader("Connection", "close");
    res.setHeader("Cache-Control", "no-store");
    // A browser (a form) gets a page, a client an OAuth error document.
    if ((req.headers.accept ?? "").includes("text/html")) {
      res.setHeader("Content-Type", "text/html; charset=utf-8");
      res.end(TOO_LARGE_PAGE);
    } else {
      res.setHeader("Content-Type", "application/json; charset=utf-8");
      res.end(JSON.stringify(TOO_LARGE_ERROR));
    }
    return true;
  }

  // A body within its declared length is bounded by that length (Node's parser stops there).
  if (req.headers["transfer-encoding"] === undefined) return false;

  // A body without a length may go on for ever, also on routes that never read it
  // (which Node would read to its end, to keep the connection): the connection closes
  // after the answer, whatever it is. No client of the IdP sends chunked bodies.
  res.setHeader("Connection", "close");

  const counted = (source: AsyncIterable<unknown>) =>
    (async function* countBytes() {
      let size = 0;
      for await (const chunk of source) {
        size += Buffer.isBuffer(chunk) ? chunk.length : Buffer.byteLength(String(chunk));
        if (size > limit) {
          tooLarge.add(req);
          throw new BodyTooLargeError();
        }
        yield chunk;
      }
    })();
  // Never destroy the request when a reader stops early: that would take the
  // socket, and the 413 with it. The connection closes after the answer instead.
  const read = (options?: { destroyOnReturn?: boolean }) =>
    Readable.prototype.iterator.call(req, { ...options, destroyOnReturn: false });
  Object.assign(req, {
    iterator: (options?: { destroyOnReturn?: boolean }) => counted(read(options)),
    [Symbol.asyncIterator]: () => counted(read()),
  });
  return false;
}

/**
 * oidc-provider turns any failure to read a body into its own 400 invalid_request
 * ("failed to parse the request body"). For a body that went past the limit, the
 * answer becomes the 413 it is, in the same form (a page or an OAuth error).
 * Registered first: it sees the answer last.
 */
export function answerTooLargeBodiesWith413(provider: Provider): void {
  provider.use(async function tooLargeIs413(ctx, next) {
    try {
      await next();
    } finally {
      if (tooLarge.has(ctx.req)) {
        const page = ctx.response.is("html") !== false;
        ctx.status = 413;
        ctx.set("Cache-Control", "no-store");
        ctx.body = page ? TOO_LARGE_PAGE : TOO_LARGE_ERROR;
        if (page) ctx.type = "html";
      }
    }
  });
}
