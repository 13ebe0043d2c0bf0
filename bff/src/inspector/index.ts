/**
 * The flow inspector, assembled: a recorder with the step catalog when
 * `flowInspector` is on, the no-op recorder when it is off.
 */
import type { ResolvedBffConfig } from "../config.ts";
import type { BffLogger } from "../logger.ts";
import type { OidcClient } from "../oidc/client.ts";
import { createSealer } from "../session/seal.ts";
import { createEndedLogCookie } from "./ended-log-cookie.ts";
import {
  createFlowLog,
  createFlowLogStore,
  disabledFlowLog,
  type FlowLog,
  type FlowLogStore,
} from "./flow-log.ts";
import { createFlowSteps, type FlowContext } from "./steps.ts";

export function createInspector(
  config: ResolvedBffConfig,
  deps: { oidc: OidcClient; logger: BffLogger; now: () => number; logs?: FlowLogStore | undefined },
): FlowLog {
  if (!config.flowInspector) return disabledFlowLog;
  const logs =
    deps.logs ??
    createFlowLogStore({ now: deps.now, sessionLifetimeMs: config.sessionAbsoluteLifetimeSeconds * 1000 });
  const steps = createFlowSteps({
    clientId: config.clientId,
    clientAuthenticationMethod: config.clientAuthentication.method,
    redirectUri: config.redirectUri,
    refreshParameters: refreshParameters(config),
    idTokenSigningAlg: config.idTokenSigningAlg,
    endpoint: (name) => deps.oidc.knownEndpoint(name),
    offlineAccess: config.scopes.includes("offline_access"),
    now: deps.now,
  });
  // Sealed with the cookie secrets every other cookie of the BFF is sealed with.
  const endedLog = createEndedLogCookie(createSealer(config.cookieSecrets), deps.now);
  return createFlowLog(logs, steps, deps.logger, endedLog);
}

/**
 * What oidc/client.ts sends with every refresh besides the refresh token: the
 * API's resource indicator, or (Entra) the API's scopes with offline_access.
 * The two cannot be configured together (config.ts).
 */
function refreshParameters(config: ResolvedBffConfig): FlowContext["refreshParameters"] {
  if (config.resource) return { resource: config.resource };
  if (config.apiScopes.length === 0) return {};
  const offline = config.scopes.filter((scope) => scope === "offline_access");
  return { scope: [...config.apiScopes, ...offline].join(" ") };
}
