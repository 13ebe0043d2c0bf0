import type { IncomingMessage } from "node:http";

import type Provider from "oidc-provider";
import type { Configuration, CookiesSetOptions, KoaContextWithOIDC } from "oidc-provider";

import { clientAddress } from "./client-address.ts";
import { createFailureWindow, type FailureWindow } from "./login-throttle.ts";
import type { UserDirectory } from "./users.ts";
import { deviceCodeEntryPage, deviceConfirmPage, deviceConnectedPage, deviceDeniedPage } from "./views.ts";

/**
 * The device authorization grant (RFC 8628), the person's side: oidc-provider
 * runs the protocol, this module gives it our pages.
 *
 *   GET  /device                  code entry page                   (userCodeInputSource)
 *   POST /device  user_code       "Connect this device?" page       (userCodeConfirmSource)
 *   POST /device  confirm=yes     → our login and consent pages (/interaction/<uid>), which come
 *                                   back to GET /device/<uid>        → "Device connected" (successSource)
 *   POST /device  abort=yes       → the device is told access_denied → "Device not connected"
 *
 * Meanwhile the device polls the token endpoint (RFC 8628 §3.4) and gets
 * `authorization_pending` until the person has allowed or denied.
 */

type DeviceFlowFeature = NonNullable<NonNullable<Configuration["features"]>["deviceFlow"]>;

/** The longest user code we put back into a page (a real one is 9 characters). */
const MAX_USER_CODE_LENGTH = 32;

// `verification_uri_complete` (RFC 8628 §3.3.1) carries the code in the query.
// oidc-provider answers it with a self-submitting form (a script); our pages
// have no scripts, so the code moves from the URL into the entry field
// instead, and the person checks it and presses Continue.
const codesFromQuery = new WeakMap<IncomingMessage, string>();

/** Call before oidc-provider sees `GET <verification_uri>?user_code=…`. */
export function takeUserCodeFromQuery(req: IncomingMessage): void {
  const url = new URL(req.url ?? "/", "http://idp.invalid");
  const code = url.searchParams.get("user_code");
  if (code === null) return;
  codesFromQuery.set(req, code.slice(0, MAX_USER_CODE_LENGTH));
  url.searchParams.delete("user_code");
  req.url = `${url.pathname}${url.search}`;
}

// Code entries that named no device code (a typo, or a guess), marked by the
// entry page so that the guessing limit below can count them.
const wrongCodeEntries = new WeakSet<IncomingMessage>();

/**
 * RFC 8628 §5.1: a user code has only about 34.5 bits, so guessing must be
 * rate-limited. Wrong codes are counted per client address; past the limit,
 * `POST <verification_uri>` is refused before oidc-provider looks the code up,
 * so a right guess reads exactly like a wrong one (and cannot deny or approve
 * someone's device either). Ten guesses per address within a code's lifetime
 * keep the odds of hitting one live code below 2^-31 per address.
 */
export function createUserCodeThrottle(
  options: { limit?: number; windowMs?: number; now?: () => number } = {},
) {
  return createFailureWindow({
    limit: options.limit ?? 10,
    windowMs: options.windowMs ?? 10 * 60 * 1000,
    ...(options.now ? { now: options.now } : {}),
  });
}

/** Registers the guessing limit in front of oidc-provider's device code entry (`POST /device`). */
export function limitUserCodeGuessing(
  provider: Provider,
  throttle: FailureWindow = createUserCodeThrottle(),
) {
  const entryPath = provider.pathFor("code_verification");
  provider.use(async (ctx, next) => {
    if (ctx.method !== "POST" || ctx.path !== entryPath) return next();
    const address = clientAddress(ctx.req);
    const wait = throttle.waitSeconds(address);
    if (wait > 0) {
      ctx.set("Retry-After", String(wait));
      const page = deviceCodeEntryPage({
        action: entryPath,
        // No form secret without oidc-provider's session: reloading the page gives a fresh form.
        xsrf: "",
        error: `Too many wrong codes. Wait ${Math.ceil(wait / 60)} minute(s), then reload this page and try again.`,
      });
      sendPage(ctx, 429, page);
      return;
    }
    await next();
    if (wrongCodeEntries.has(ctx.req)) throttle.recordFailure(address);
  });
}

/** oidc-provider's anti-CSRF value for the device forms, kept in its session. */
function xsrfValue(ctx: KoaContextWithOIDC): string {
  const secret = ctx.oidc.session?.state?.secret;
  return typeof secret === "string" ? secret : "";
}

function sendPage(
  ctx: Pick<KoaContextWithOIDC, "status" | "type" | "set" | "body">,
  status: number,
  html: string,
): void {
  ctx.status = status;
  ctx.type = "html";
  ctx.set("Cache-Control", "no-store");
  ctx.body = html;
}

/** What to tell the person after a failed code entry. oidc-provider names its re-render errors. */
function entryErrorMessage(error: Error, oauthError: string | undefined): string {
  switch (error.name) {
    case "NoCodeError":
      return "Enter the code that your device shows.";
    case "NotFoundError":
      return "That code is not valid. Check it against the code on your device and try again.";
    case "ExpiredError":
      return "That code has expired. Start again on your device to get a new one.";
    case "AlreadyUsedError":
      return "That code has already been used. Start again on your device to get a new one.";
    default:
      // invalid_request: the form's anti-CSRF value was missing or stale (a second tab, a reload).
      return oauthError === "invalid_request"
        ? "This page was out of date. Enter the code again."
        : "Something went wrong. Start again on your device.";
  }
}

export interface DeviceFlowDeps {
  users: UserDirectory;
  /** oidc-provider's `ttl.Session` and `cookies.long`: what a session it stores gets. */
  sessionTtlSeconds: number;
  sessionCookieOptions: CookiesSetOptions;
}

/**
 * oidc-provider re-renders the code entry page on an error (a stale form, an unknown
 * `/device/<uid>`) with a fresh anti-CSRF value in the session, but after its own step
 * that stores sessions has run. A person without a session (none yet, or theirs
 * expired) has one that was never stored, and oidc-provider then fails (500) trying
 * to update it. Storing it here, with its cookie, gives them a working form instead.
 */
async function storeNewSession(ctx: KoaContextWithOIDC, deps: DeviceFlowDeps): Promise<void> {
  const session = ctx.oidc.session;
  if (!session || typeof session.exp === "number") return;
  await session.save(deps.sessionTtlSeconds);
  ctx.oidc.cookies.set(ctx.oidc.provider.cookieName("session"), session.jti, deps.sessionCookieOptions);
}

/** oidc-provider's `features.deviceFlow`: our pages and the user code format. */
export function deviceFlowFeature(deps: DeviceFlowDeps): DeviceFlowFeature {
  const { users } = deps;
  return {
    enabled: true,
    // RFC 8628 §6.1: 8 characters from 20 consonants (no vowels, so no words, and
    // no look-alike characters): about 34.5 bits, and a code lives 10 minutes.
    charset: "base-20",
    mask: "****-****",

    async userCodeInputSource(ctx, _form, out, error) {
      if (error) await storeNewSession(ctx, deps);
      // A denial (Deny on the confirmation page, or Cancel / Deny during sign-in)
      // arrives as oidc-provider's AbortedError.
      if (error?.name === "AbortedError") {
        sendPage(ctx, 200, deviceDeniedPage());
        return;
      }
      if (error?.name === "NotFoundError") wrongCodeEntries.add(ctx.req);
      const failedCode = (error as { userCode?: unknown } | undefined)?.userCode;
      const userCode = typeof failedCode === "string" ? failedCode : codesFromQuery.get(ctx.req);
      const page = deviceCodeEntryPage({
        action: ctx.oidc.urlFor("code_verification"),
        xsrf: xsrfValue(ctx),
        ...(userCode ? { userCode: userCode.slice(0, MAX_USER_CODE_LENGTH) } : {}),
        ...(error ? { error: entryErrorMessage(error, out?.error) } : {}),
      });
      // Re-render errors come with status 200; a refused code is a 400, like a refused password.
      sendPage(ctx, error ? Math.max(ctx.status, 400) : 200, page);
    },

    userCodeConfirmSource(ctx, form, client, deviceInfo, userCode) {
      const accountId = ctx.oidc.session?.accountId;
      const user = accountId ? users.findBySub(accountId) : undefined;
      const asked = String(ctx.oidc.deviceCode?.params?.scope ?? "")
        .split(" ")
        .filter(Boolean);
      const ip = (deviceInfo as { ip?: unknown }).ip;
      sendPage(
        ctx,
        200,
        deviceConfirmPage({
          providerForm: form,
          clientName: client.clientName ?? client.clientId,
          userCode,
          requestedScopes: [...new Set(asked)],
          ...(user ? { userName: `${user.claims.name ?? user.username} (${user.username})` } : {}),
          ...(typeof ip === "string" && ip ? { requestedFrom: ip } : {}),
        }),
      );
    },

    successSource(ctx) {
      const client = ctx.oidc.client;
      sendPage(ctx, 200, deviceConnectedPage({ clientName: client?.clientName ?? client?.clientId ?? "" }));
    },
  };
}
