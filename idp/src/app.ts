import type { IncomingMessage, RequestListener } from "node:http";

import Provider from "oidc-provider";
import { answerTooLargeBodiesWith413, limitRequestBody } from "./body-limit.ts";
import { assertProductionReady, type IdpConfig } from "./config.ts";
import { limitUserCodeGuessing, takeUserCodeFromQuery } from "./device-flow.ts";
import { IdpError } from "./errors.ts";
import { setSecurityHeaders } from "./http.ts";
import { createInteractionHandler } from "./interactions.ts";
import { loadOrCreateSigningKeys } from "./keys.ts";
import { providerConfiguration } from "./provider-config.ts";
import { catchUnexpectedErrors } from "./provider-errors.ts";
import { openSqliteStore } from "./store/sqlite-adapter.ts";
import { copyIssuedTokensTo } from "./token-log.ts";
import { createUserDirectory } from "./users.ts";

export interface Idp {
  /** The issuer identifier (equal to `config.issuer`). */
  issuer: string;
  /** The oidc-provider instance, for events (`provider.on("grant.revoked", …)`) and tests. */
  provider: Provider;
  /** A plain Node request handler: mount it on `http.createServer`, or drive it in-process. */
  listener: RequestListener;
  /** Closes the store. The caller owns (and closes) any HTTP server. */
  close(): Promise<void>;
}

/**
 * Builds the OpenID Provider. Never listens and never reads the environment:
 * `server.ts` does that, tests call this directly.
 *
 * @example
 * const idp = await createIdp(developmentIdpConfig({ storePath: ":memory:", keysPath: null, mode: "test" }));
 * http.createServer(idp.listener).listen(4000, "127.0.0.1");
 */
export interface IdpDeps {
  /** Outgoing requests (back-channel logout to clients). Default: globalThis.fetch. */
  fetch?: typeof fetch;
}

export async function createIdp(config: IdpConfig, deps: IdpDeps = {}): Promise<Idp> {
  if (config.mode === "production") await assertProductionReady(config);
  refuseClientsNamedLikeUsers(config);
  refuseInconsistentClients(config);

  const jwks = loadOrCreateSigningKeys(config.keysPath);
  const users = createUserDirectory(config.users);
  // Confidential clients only: they must authenticate to present a used token again.
  const confidential = new Set(config.clients.filter((client) => !client.public).map((c) => c.clientId));
  const store = openSqliteStore(config.storePath, () => Date.now(), {
    seconds: config.refreshTokenGraceSeconds,
    appliesTo: (clientId) => confidential.has(clientId),
  });

  let provider: Provider;
  try {
    provider = new Provider(
      config.issuer,
      providerConfiguration(config, {
        adapter: store.adapter,
        jwks,
        users,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      }),
    );
  } catch (error) {
    store.close();
    throw error;
  }

  provider.on("server_error", (_ctx, error) => {
    console.error("idp: server_error", error);
  });
  notifyClientsWhenGrantsAreRevoked(provider);
  provider.on("backchannel.error", (_ctx, error, client) => {
    console.error(`idp: back-channel logout to ${client.clientId} failed: ${error.message}`);
  });

  // First of our middleware, so that they see the others' answers and errors.
  answerTooLargeBodiesWith413(provider);
  catchUnexpectedErrors(provider);
  limitUserCodeGuessing(provider);
  includeSidInIdTokens(provider);
  // oidc-provider builds every URL it publishes (discovery, verification_uri, form actions)
  // from the request's host and protocol. Trusting "proxy" headers here only so that the
  // listener can set them from the issuer, below: a client-supplied Host cannot change the
  // metadata, and behind a TLS-terminating proxy the URLs keep the issuer's https (F10).
  provider.proxy = true;
  const issuerUrl = new URL(config.issuer);
  const handleProvider = provider.callback();
  const handleInteraction = createInteractionHandler({ provider, users });
  const tokenPath = provider.pathFor("token");
  const deviceVerificationPath = provider.pathFor("code_verification");

  const listener: RequestListener = (req, res) => {
    setSecurityHeaders(res);
    if (limitRequestBody(req, res)) return;
    pinOriginToIssuer(req, issuerUrl);
    const path = (req.url ?? "/").split("?")[0] ?? "/";

    // Our own pages: login, consent, and their stylesheet.
    if (path.startsWith("/interaction/")) {
      void handleInteraction(req, res);
      return;
    }

    // The device flow's verification_uri_complete: show the code in the entry page's field.
    if (req.method === "GET" && path === deviceVerificationPath) takeUserCodeFromQuery(req);

    // TEST AID ONLY (refused in production): copy issued tokens to a file.
    if (config.insecureTokenLogFile && req.method === "POST" && path === tokenPath) {
      copyIssuedTokensTo(config.insecureTokenLogFile, res);
    }

    // Everything else is the OpenID Provider itself: discovery, /auth, /token, /me, /jwks, /session/end, ...
    void handleProvider(req, res);
  };

  return {
    issuer: provider.issuer,
    provider,
    listener,
    async close() {
      store.close();
    },
  };
}

/**
 * The origin the IdP builds its URLs from is the issuer's, whatever the request
 * says: the client writes Host and X-Forwarded-* itself. X-Forwarded-For goes too,
 * so that the client's address stays the socket's (the user-code guessing limit
 * and the device confirmation page rely on it), exactly as without proxy trust.
 */
function pinOriginToIssuer(req: IncomingMessage, issuer: URL): void {
  req.headers["x-forwarded-host"] = issuer.host;
  req.headers["x-forwarded-proto"] = issuer.protocol.slice(0, -1);
  delete req.headers["x-forwarded-for"];
  delete req.headers.forwarded;
}

/**
 * OpenID Connect Back-Channel Logout 1.0 §2.1: an OP that publishes
 * `backchannel_logout_session_supported` (oidc-provider always does) also puts `sid`
 * in its ID tokens, so that a client can match a logout token naming the session.
 * oidc-provider does so for clients that require sid in logout tokens, as ours do
 * (see clientMetadata); this keeps sid in the ID tokens of every client with a
 * back-channel logout URI whatever that setting (F12).
 */
function includeSidInIdTokens(provider: Provider): void {
  const clientClass = provider.Client as unknown as { prototype: { backchannelLogoutUri?: string } };
  Object.defineProperty(clientClass.prototype, "includeSid", {
    value(this: { backchannelLogoutUri?: string }) {
      return Boolean(this.backchannelLogoutUri);
    },
  });
}

/**
 * oidc-provider sends back-channel logout tokens when a person logs out at the
 * IdP. A grant can also end without that: the client revokes its refresh token,
 * or a spent refresh token is replayed (reuse detection revokes the grant).
 * Then the client's other sessions for that person must end too, so the IdP
 * tells it, the same way.
 */
function notifyClientsWhenGrantsAreRevoked(provider: Provider): void {
  provider.on("grant.revoked", (ctx) => {
    const token = ctx.oidc.entities.RefreshToken ?? ctx.oidc.entities.AccessToken;
    const client = ctx.oidc.client;
    // During RP-initiated logout there is no token here, and oidc-provider notifies by itself.
    if (!token?.accountId || !client?.backchannelLogoutUri) return;
    const notify = client.backchannelLogout as (sub: string, sid?: string) => Promise<void>;
    notify.call(client, token.accountId).then(
      () => provider.emit("backchannel.success", ctx, client, token.accountId),
      (error: Error) => provider.emit("backchannel.error", ctx, error, client, token.accountId),
    );
  });
}

/**
 * A token a client gets for itself (client credentials) has `sub` = its
 * client id (RFC 9068 §2.2), and the API tells "no user" from "a user" by
 * exactly that. A client id equal to a user's `sub` would make the two
 * indistinguishable, so such a configuration does not start. (Clients are
 * registered statically only: there is no dynamic registration endpoint.)
 */
function refuseClientsNamedLikeUsers(config: IdpConfig): void {
  const subjects = new Set(config.users.map((user) => user.sub));
  const clashes = config.clients.filter((client) => subjects.has(client.clientId)).map((c) => c.clientId);
  if (clashes.length > 0) {
    throw new IdpError(
      "invalid_config",
      `Client ids must differ from every user's sub: ${clashes.join(", ")}.`,
    );
  }
}

/**
 * A client is either confidential (a secret, kept on a server) or public (no
 * secret: it runs on the person's machine). A public client with a secret
 * would suggest protection it does not have; one without a secret that is not
 * marked public is a forgotten secret. A public client cannot act as itself
 * (client credentials): anyone could.
 */
function refuseInconsistentClients(config: IdpConfig): void {
  const problems: string[] = [];
  for (const client of config.clients) {
    if (client.public && client.clientSecret !== undefined) {
      problems.push(`${client.clientId} is public and must not have a secret`);
    }
    const signsWithKey = client.tokenEndpointAuth?.method === "private_key_jwt";
    if (!client.public && !signsWithKey && !client.clientSecret) {
      problems.push(`${client.clientId} has no secret`);
    }
    if (signsWithKey && client.clientSecret !== undefined) {
      problems.push(`${client.clientId} uses private_key_jwt and must not have a secret`);
    }
    if (client.public && client.grantTypes?.includes("client_credentials")) {
      problems.push(`${client.clientId} is public and cannot use client_credentials`);
    }
  }
  if (problems.length > 0) {
    throw new IdpError("invalid_config", `Inconsistent clients: ${problems.join("; ")}.`);
  }
}
