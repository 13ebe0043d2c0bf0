import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

import { errors, type default as Provider } from "oidc-provider";

import { clientAddress } from "./client-address.ts";
import { PageError, readForm, sendHtml } from "./http.ts";
import { createLoginThrottle, type LoginThrottle, waitInWords } from "./login-throttle.ts";
import type { UserDirectory } from "./users.ts";
import { consentPage, errorPage, INVALID_CREDENTIALS_MESSAGE, loginPage, STYLESHEET_PATH } from "./views.ts";

/**
 * Our end of oidc-provider's "interactions": the login and consent pages.
 *
 * When an authorization request needs the person (no session yet, or scopes not
 * consented to), oidc-provider saves the request as an Interaction, sets a
 * cookie naming it, and redirects to `/interaction/<uid>`. We show the page the
 * interaction's `prompt` asks for, and report the outcome with
 * `provider.interactionFinished()`, which redirects (303) back to the
 * authorization endpoint to carry on.
 *
 *   GET  /interaction/:uid          login page (prompt "login") or consent page (prompt "consent")
 *   POST /interaction/:uid/login    username + password  → login result
 *   POST /interaction/:uid/confirm  "Allow"              → consent result (a saved Grant)
 *   POST /interaction/:uid/abort    "Deny" / "Cancel"    → access_denied back to the client
 */

const stylesheet = readFileSync(new URL("./assets/idp.css", import.meta.url));

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|confirm|abort))?$/;

type Interaction = Awaited<ReturnType<Provider["interactionDetails"]>>;

export interface InteractionDeps {
  provider: Provider;
  users: UserDirectory;
  /** Limits password guessing; one per IdP. */
  throttle?: LoginThrottle;
}

export function createInteractionHandler({
  provider,
  users,
  throttle = createLoginThrottle(),
}: InteractionDeps) {
  const issuerOrigin = new URL(provider.issuer).origin;

  /** The interaction named by the cookie, which must be the one named in the URL. */
  async function loadInteraction(req: IncomingMessage, res: ServerResponse, uid: string) {
    const interaction = await provider.interactionDetails(req, res);
    if (interaction.uid !== uid) {
      throw new PageError(400, "Sign-in expired", "This sign-in page is out of date. Go back and try again.");
    }
    return interaction;
  }

  async function clientName(interaction: Interaction): Promise<string> {
    const client = await provider.Client.find(String(interaction.params.client_id));
    return client?.clientName ?? String(interaction.params.client_id);
  }

  /** Every scope an earlier consent already allowed (OpenID scopes and API scopes). */
  async function grantedScopes(grantId: string | undefined): Promise<Set<string>> {
    const grant = grantId ? await provider.Grant.find(grantId) : undefined;
    if (!grant) return new Set();
    const resources = Object.keys(grant.resources ?? {});
    const scopes = [grant.getOIDCScope(), ...resources.map((resource) => grant.getResourceScope(resource))];
    return new Set(scopes.join(" ").split(" ").filter(Boolean));
  }

  function expectPrompt(interaction: Interaction, name: "login" | "consent") {
    if (interaction.prompt.name !== name) {
      throw new PageError(400, "Sign-in out of step", "This step does not apply now. Go back and try again.");
    }
  }

  async function show(req: IncomingMessage, res: ServerResponse, uid: string) {
    const interaction = await loadInteraction(req, res, uid);
    const name = await clientName(interaction);

    if (interaction.prompt.name === "login") {
      const hint = typeof interaction.params.login_hint === "string" ? interaction.params.login_hint : "";
      sendHtml(res, 200, loginPage({ uid, clientName: name, username: hint }));
      return;
    }

    if (interaction.prompt.name === "consent") {
      const accountId = interaction.session?.accountId;
      const user = accountId ? users.findBySub(accountId) : undefined;
      const missing = missingConsent(interaction);
      const requested = [...missing.oidcScopes, ...Object.values(missing.resourceScopes).flat()];
      const granted = await grantedScopes(interaction.grantId);
      const asked = String(interaction.params.scope ?? "").split(" ");
      sendHtml(
        res,
        200,
        consentPage({
          uid,
          clientName: name,
          userName: user ? `${user.claims.name ?? user.username} (${user.username})` : "unknown",
          requestedScopes: [...new Set(requested)],
          alreadyAllowedScopes: asked.filter((scope) => granted.has(scope) && !requested.includes(scope)),
        }),
      );
      return;
    }

    throw new PageError(400, "Unsupported step", `The step "${interaction.prompt.name}" is not supported.`);
  }

  async function login(req: IncomingMessage, res: ServerResponse, uid: string) {
    const interaction = await loadInteraction(req, res, uid);
    expectPrompt(interaction, "login");
    const form = await readForm(req);
    const username = form.get("username") ?? "";
    const address = clientAddress(req);

    const wait = throttle.refusalSeconds(username, address);
    if (wait > 0) {
      const page = loginPage({
        uid,
        clientName: await clientName(interaction),
        username,
        error: `Too many failed sign-in attempts from here. Try again in ${waitInWords(wait)}.`,
      });
      res.setHeader("retry-after", String(wait));
      sendHtml(res, 429, page);
      return;
    }

    // An account that many addresses got wrong is slowed down, never closed:
    // the wait comes before the check, so that a guesser cannot learn the
    // answer early (a right password answered at once would give it away).
    const delay = throttle.delayMs(username);
    if (delay > 0) await sleep(delay);
    if (res.destroyed) return; // the guesser gave up waiting: nothing to check, nothing to answer

    const user = await users.authenticate(username, form.get("password") ?? "");
    if (user) throttle.recordSuccess(username, address);
    else throttle.recordFailure(username, address);

    if (!user) {
      // Same message, same status and (see users.ts) same time for an unknown
      // username and a wrong password.
      const page = loginPage({
        uid,
        clientName: await clientName(interaction),
        username,
        error: INVALID_CREDENTIALS_MESSAGE,
      });
      sendHtml(res, 400, page);
      return;
    }

    // 303 back to the authorization endpoint (never 307: that would re-send the password there).
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: user.sub, amr: ["pwd"], remember: true } },
      { mergeWithLastSubmission: false },
    );
  }

  async function confirm(req: IncomingMessage, res: ServerResponse, uid: string) {
    const interaction = await loadInteraction(req, res, uid);
    expectPrompt(interaction, "consent");
    await readForm(req);
    const accountId = interaction.session?.accountId;
    if (!accountId) throw new PageError(400, "Not signed in", "Sign in first, then allow access.");

    // A Grant records what this person allowed this client. Extend the existing
    // one (an earlier consent) or start a new one, with exactly what was missing.
    const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
    const grant =
      existing ?? new provider.Grant({ accountId, clientId: String(interaction.params.client_id) });
    const missing = missingConsent(interaction);
    if (missing.oidcScopes.length > 0) grant.addOIDCScope(missing.oidcScopes.join(" "));
    if (missing.oidcClaims.length > 0) grant.addOIDCClaims(missing.oidcClaims);
    for (const [resource, scopes] of Object.entries(missing.resourceScopes)) {
      grant.addResourceScope(resource, scopes.join(" "));
    }
    const grantId = await grant.save();

    await provider.interactionFinished(
      req,
      res,
      { consent: existing ? {} : { grantId } },
      { mergeWithLastSubmission: true },
    );
  }

  async function abort(req: IncomingMessage, res: ServerResponse, uid: string) {
    await loadInteraction(req, res, uid);
    await readForm(req);
    await provider.interactionFinished(
      req,
      res,
      { error: "access_denied", error_description: "End-User aborted interaction" },
      { mergeWithLastSubmission: false },
    );
  }

  async function route(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? "/", issuerOrigin).pathname;
    const method = req.method ?? "GET";

    if (path === STYLESHEET_PATH) {
      if (method !== "GET" && method !== "HEAD") throw methodNotAllowed(res, "GET, HEAD");
      res.setHeader("Content-Type", "text/css; charset=utf-8");
      res.setHeader("Cache-Control", "public, max-age=3600");
      res.setHeader("Content-Length", stylesheet.length);
      res.end(method === "HEAD" ? undefined : stylesheet);
      return;
    }

    const match = ROUTE.exec(path);
    if (!match) throw new PageError(404, "Page not found", "There is no page at this address.");
    const uid = match[1] as string;
    const action = match[2];

    if (!action) {
      if (method !== "GET" && method !== "HEAD") throw methodNotAllowed(res, "GET, HEAD");
      return show(req, res, uid);
    }
    if (method !== "POST") throw methodNotAllowed(res, "POST");
    // Cookies alone do not prove the form was ours: the interaction cookie is
    // SameSite=Lax, and Lax still flows between sites on the same host (other
    // ports of 127.0.0.1). Browsers send Origin on every POST; it must be ours.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== issuerOrigin) {
      throw new PageError(403, "Form refused", "This form was not sent from the sign-in page.");
    }
    if (action === "login") return login(req, res, uid);
    if (action === "confirm") return confirm(req, res, uid);
    return abort(req, res, uid);
  }

  /** Handles one request under /interaction/, always answering with a page (never a stack trace). */
  return async function handleInteraction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await route(req, res);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof PageError) {
        sendHtml(res, error.status, errorPage({ title: error.title, message: error.message }));
      } else if (error instanceof errors.SessionNotFound) {
        // No interaction cookie, or the interaction expired (10 minutes) or was already finished.
        const page = errorPage({
          title: "Sign-in expired",
          message:
            "This sign-in request has expired or was already completed. Go back to the application and sign in again.",
          code: error.message,
        });
        sendHtml(res, 400, page);
      } else if (error instanceof errors.OIDCProviderError) {
        sendHtml(
          res,
          error.statusCode,
          errorPage({ title: "Sign-in failed", message: error.error_description ?? "", code: error.message }),
        );
      } else {
        console.error("idp: unexpected error on an interaction page", error);
        sendHtml(res, 500, errorPage({ title: "Something went wrong", message: "Please try again later." }));
      }
    }
  };
}

function methodNotAllowed(res: ServerResponse, allow: string): PageError {
  res.setHeader("Allow", allow);
  return new PageError(405, "Method not allowed", "This page cannot be used that way.");
}

interface MissingConsent {
  oidcScopes: string[];
  oidcClaims: string[];
  resourceScopes: Record<string, string[]>;
}

/** What the consent prompt says is not granted yet (oidc-provider's "op_scopes_missing" etc. checks). */
function missingConsent(interaction: Interaction): MissingConsent {
  const details = interaction.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  return {
    oidcScopes: details.missingOIDCScope ?? [],
    oidcClaims: details.missingOIDCClaims ?? [],
    resourceScopes: details.missingResourceScopes ?? {},
  };
}
