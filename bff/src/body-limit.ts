/**
 * Request-body limits. No route reads more of a body than it can use, so one large
 * (or endless) upload cannot fill the memory of the process that serves every session.
 *
 * - The BFF's own routes (`/bff/*`, the SPA) take forms and small JSON: a logout token is a
 *   few kilobytes. More than BFF_ROUTE_MAX_BODY_BYTES is refused with 413 before the route
 *   runs; a body without Content-Length is counted as it arrives and refused at the limit.
 * - The proxy streams bodies to the API without holding them (api-proxy.ts): its limit
 *   (`apiMaxBodyBytes`) is checked against Content-Length up front and counted on the way
 *   through, and a body that grows past it is cut off and answered 413.
 */
import { type Readable, Transform } from "node:stream";

import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";

import { BffError, problemResponse } from "./errors.ts";

export const BFF_ROUTE_MAX_BODY_BYTES = 16 * 1024;

export const tooLarge = (maxBytes: number) =>
  new BffError("payload_too_large", `The request body is larger than ${maxBytes} bytes.`);

/** For the BFF's own routes. */
export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({ maxSize: maxBytes, onError: () => problemResponse(tooLarge(maxBytes)) });
}

/**
 * The body as a stream that fails once more than `maxBytes` have gone through;
 * `exceeded()` then says why the upload stopped.
 */
export function countedUpload(
  body: Readable,
  maxBytes: number,
): { stream: Readable; exceeded: () => boolean } {
  let seen = 0;
  let over = false;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.byteLength;
      if (seen > maxBytes) {
        over = true;
        done(tooLarge(maxBytes));
        return;
      }
      done(null, chunk);
    },
  });
  // Piped rather than pipelined: past the limit the counter fails and lets go of the request,
  // which is left open (not destroyed) so that the 413 can still be answered on it.
  body.on("error", (error) => counter.destroy(error));
  body.pipe(counter);
  return { stream: counter, exceeded: () => over };
}
