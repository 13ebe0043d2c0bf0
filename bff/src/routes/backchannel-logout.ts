/**
 * POST /bff/backchannel-logout: OpenID Connect Back-Channel Logout 1.0. The
 * IdP's server (not a browser) posts a signed logout token when the person
 * logs out at the IdP or their grant is revoked. Sessions live in cookies the
 * BFF cannot reach, so it records what ended in the store (the IdP session
 * `sid`, or every session of `sub` begun until now) and refuses those cookies
 * from then on, for as long as any of them could still be alive.
 */
import { BFF_ROUTES } from "@oidc-bff/shared";
import { Hono } from "hono";

import { describeError } from "../logger.ts";
import {
  createLogoutTokenVerifier,
  InvalidLogoutToken,
  LOGOUT_TOKEN_ACCEPTED_FOR_MS,
} from "../oidc/logout-token.ts";
import type { BffServices } from "../services.ts";
import type { Recorded } from "../session/ended-sessions.ts";

/**
 * A logout token's jti is remembered longer than such a token is accepted (by its `iat`, with or
 * without `exp`): a replay arrives either too late, or while its jti is still known.
 */
const TOKEN_ID_MEMORY_MS = Math.max(10 * 60 * 1000, LOGOUT_TOKEN_ACCEPTED_FOR_MS);
/** How far ahead of the IdP's clock ours may run (the verifier's tolerance for `iat`). */
const CLOCK_SKEW_MS = 30_000;

export function backchannelLogoutRoutes({
  config,
  oidc,
  ended,
  store,
  logger,
  fetch,
  now,
  flow,
}: BffServices): Hono {
  const routes = new Hono();
  const verifier = createLogoutTokenVerifier({
    signer: () => oidc.signer(),
    clientId: config.clientId,
    algorithm: config.idTokenSigningAlg,
    fetch,
    now,
  });
  // §2.8: answers are JSON errors with 400, never cached.
  const refuse = (description: string) =>
    Response.json(
      { error: "invalid_request", error_description: description },
      { status: 400, headers: { "cache-control": "no-store" } },
    );

  /**
   * Whether the store has seen this `jti` (`key` tells "received" from "done" apart), claiming
   * it if not; "unknown" when the store cannot say.
   */
  async function claim(key: string): Promise<boolean | "unknown"> {
    try {
      return await store.claimTokenId(key, now() + TOKEN_ID_MEMORY_MS);
    } catch (error) {
      logger.warn(
        `back-channel logout: the store cannot say whether this token was used (${describeError(error)})`,
      );
      return "unknown";
    }
  }

  routes.post(BFF_ROUTES.backchannelLogout, async (c) => {
    const type = c.req.header("content-type") ?? "";
    if (!type.startsWith("application/x-www-form-urlencoded")) return refuse("Expected a form-encoded body.");
    const tokens = new URLSearchParams(await c.req.text()).getAll("logout_token");
    // A parameter given twice is refused, never resolved by picking one (parameter pollution).
    if (tokens.length > 1) return refuse("logout_token is given more than once.");
    const token = tokens[0];
    if (!token) return refuse("logout_token is missing.");

    let claims: Awaited<ReturnType<typeof verifier.verify>>;
    try {
      claims = await verifier.verify(token);
    } catch (error) {
      logger.warn(`back-channel logout refused: ${describeError(error)}`);
      return refuse(
        error instanceof InvalidLogoutToken ? error.message : "The logout token could not be verified.",
      );
    }
    const named = { sub: claims.sub, idpSid: claims.sid };

    // Two marks per jti: "received" at once, "done" once the records are in the store. A token
    // received before but not done is the IdP's retry after a 503 (perhaps at another replica)
    // and is carried out; one done before is a replay, refused without touching anything (D8m).
    // (A retry that meets the store down again is queued once more; the IdP's next retry is then
    // refused, but this replica still writes the record when the store is back.)
    if ((await claim(claims.jti)) === false && (await claim(`done:${claims.jti}`)) === false) {
      flow.recordFor(named, (steps) => steps.backchannelLogout(token, "refused: already used"));
      return refuse("This logout token was already used.");
    }

    // Any session begun before now could still be alive until its absolute lifetime ends.
    const until = now() + config.sessionAbsoluteLifetimeSeconds * 1000;
    // A logout by person ends the sessions begun before the token was issued (with our clock
    // allowed to run ahead of the IdP's): a retry dates it as the first delivery did.
    const at = Math.min(now(), claims.issuedAt + CLOCK_SKEW_MS);
    // The verifier refuses a token that names neither.
    const recorded: Recorded = claims.sid
      ? await ended.markIdpSessionEnded(claims.sid, until)
      : await ended.markSubjectEnded(claims.sub as string, at, until);
    if (recorded === "queued") {
      logger.info(
        `back-channel logout: ended ${claims.sid ? "one IdP session" : "every session of one person"} here now, in the store once it is back`,
      );
      flow.recordFor(named, (steps) => steps.backchannelLogout(token, "queued: the store cannot be reached"));
      // Honoured by this process at once and written to the store when it is back, but not yet
      // safe from a crash: say so, so that an IdP that retries does, and its log shows it.
      return Response.json(
        {
          error: "temporarily_unavailable",
          error_description: "The session store cannot be reached; try again.",
        },
        { status: 503, headers: { "cache-control": "no-store", "retry-after": "2" } },
      );
    }
    await claim(`done:${claims.jti}`);
    logger.info(
      `back-channel logout: ended ${claims.sid ? "one IdP session" : "every session of one person"}`,
    );
    const what = claims.sid ? "ended this IdP session's sessions" : "ended every session of this person";
    flow.recordFor(named, (steps) => steps.backchannelLogout(token, what));
    c.header("cache-control", "no-store");
    return c.body(null, 200);
  });

  return routes;
}
