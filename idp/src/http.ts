import type { IncomingMessage, ServerResponse } from "node:http";

import { BodyTooLargeError } from "./body-limit.ts";

/**
 * Headers on every IdP response, pages and JSON alike.
 *
 * - `frame-ancestors 'none'` + `X-Frame-Options: DENY`: the login, consent and
 *   logout pages can never be framed (clickjacking; OAuth 2.0 Security BCP §4.16).
 * - `default-src 'none'` with `style-src 'self'`: one external stylesheet, no
 *   inline scripts or styles. `script-src 'self'` is there (we serve no scripts)
 *   so that oidc-provider can append the hash of the one auto-submitting script
 *   it generates for `form_post` responses; it only ever adds that exact hash.
 * - No `form-action`: browsers apply it to the redirects after a form POST too,
 *   and our forms end in a redirect to the client's registered redirect URI.
 * - `Referrer-Policy: same-origin`: nothing about the IdP's URLs leaks to the
 *   client, while our own form POSTs keep a real `Origin` header (checked).
 */
export function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader(
    "Content-Security-Policy",
    "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'",
  );
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "same-origin");
}

/** Sends a page that no cache may keep (it may show personal data or a one-time form). */
export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "text/html; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("Content-Length", Buffer.byteLength(html));
  res.end(html);
}

/** An HTTP-level failure of one of our own pages, rendered as an error page. */
export class PageError extends Error {
  override name = "PageError";
  readonly status: number;
  readonly title: string;

  constructor(status: number, title: string, message: string) {
    super(message);
    this.status = status;
    this.title = title;
  }
}

/**
 * Reads an `application/x-www-form-urlencoded` body (what a plain HTML form sends).
 * Its size is capped for every route by `limitRequestBody` (body-limit.ts).
 */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new PageError(415, "Unsupported form", "This form must be sent as an HTML form.");
  }
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      throw new PageError(413, "Form too large", "The form sent too much data.");
    }
    throw error;
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}
