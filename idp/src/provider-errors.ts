import type Provider from "oidc-provider";

import { errorPage } from "./views.ts";

/**
 * The last safety net in front of oidc-provider. Its own error handlers answer
 * protocol errors (as JSON, or through `renderError` as a page), but an error
 * thrown outside them (in our middleware, or in oidc-provider's bookkeeping
 * after a handler) reaches Koa, which answers a bare "Internal Server Error"
 * and first removes every header already set: the Content-Security-Policy and
 * the other security headers with them. Caught here instead, it gets the same
 * kind of answer as any other error: a page for a browser, an OAuth error
 * document for a client, never the error itself or its stack.
 *
 * Registered before any other middleware (`provider.use` runs in order).
 */
export function catchUnexpectedErrors(provider: Provider): void {
  provider.use(async function catchUnexpected(ctx, next) {
    try {
      await next();
    } catch (error) {
      const status = clientErrorStatus(error);
      if (status === 500) console.error("idp: unexpected error", error);
      if (ctx.headerSent || !ctx.writable) {
        ctx.req.socket.destroy();
        return;
      }
      ctx.status = status;
      ctx.set("Cache-Control", "no-store");
      const code = status === 500 ? "server_error" : "invalid_request";
      const description =
        status === 500
          ? "Something went wrong on our side. Please try again later."
          : "The request is not valid.";
      if (ctx.accepts("json", "html") === "html") {
        ctx.type = "html";
        ctx.body = errorPage({
          title: status === 500 ? "Something went wrong" : "This request cannot be completed",
          message: description,
          code,
        });
      } else {
        ctx.body = { error: code, error_description: description };
      }
    }
  });
}

/** A 4xx that an error says it may show (Koa's and oidc-provider's `expose`), else 500. */
function clientErrorStatus(error: unknown): number {
  if (typeof error !== "object" || error === null) return 500;
  const { status, statusCode, expose } = error as {
    status?: unknown;
    statusCode?: unknown;
    expose?: unknown;
  };
  const code = typeof statusCode === "number" ? statusCode : status;
  return expose === true && typeof code === "number" && code >= 400 && code < 500 ? code : 500;
}
