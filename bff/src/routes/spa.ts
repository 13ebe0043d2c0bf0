/**
 * Serves a built SPA (`spaDir`) from the BFF's own origin, so the browser's
 * calls to /bff and /api are same-origin and the session cookie can be
 * SameSite=Strict. Files are served as they are; any other GET that looks like
 * a page gets index.html, and the SPA's router takes it from there.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import { Readable } from "node:stream";

import { Hono } from "hono";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
  ".webmanifest": "application/manifest+json",
};

/**
 * The page may load script, style, images and data from our origin only, and
 * nothing may frame it. An injected `<script>` or inline handler does not run,
 * and even if script ran it would find no token to steal.
 */
export const SPA_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

async function fileIn(root: string, urlPath: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const path = resolve(root, `.${decoded}`);
  // Never outside the SPA directory, whatever the path says.
  if (path !== root && !path.startsWith(root + sep)) return undefined;
  const info = await stat(path).catch(() => undefined);
  return info?.isFile() ? path : undefined;
}

export function spaRoutes(spaDir: string): Hono {
  const root = resolve(spaDir);
  const routes = new Hono();

  routes.on(["GET", "HEAD"], "*", async (c) => {
    const urlPath = new URL(c.req.url).pathname;
    let file = await fileIn(root, urlPath);
    // A path with a file extension is a missing asset; anything else is a page of the SPA.
    if (!file && extname(urlPath) === "") file = join(root, "index.html");
    if (!file) return c.notFound();

    const type = CONTENT_TYPES[extname(file)] ?? "application/octet-stream";
    c.header("content-type", type);
    // Vite puts a content hash in every asset name under /assets: those never change.
    c.header(
      "cache-control",
      urlPath.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
    );
    if (type.startsWith("text/html")) c.header("content-security-policy", SPA_CSP);
    if (c.req.method === "HEAD") return c.body(null, 200);
    return c.body(Readable.toWeb(createReadStream(file)) as ReadableStream, 200);
  });

  return routes;
}
