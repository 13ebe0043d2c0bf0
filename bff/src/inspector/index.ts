/**
 * The flow inspector, assembled: a recorder with the step catalog when
 * `flowInspector` is on, the no-op recorder when it is off.
 */
import type { ResolvedBffConfig } from "../config.ts";
import type { BffLogger } from "../logger.ts";
import type { OidcClient } from "../oidc/client.ts";
import {
  createFlowLog,
  createFlowLogStore,
  disabledFlowLog,
  type FlowLog,
  type FlowLogStore,
} from "./flow-log.ts";
import { createFlowSteps } from "./steps.ts";

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
    redirectUri: config.redirectUri,
    resource: config.resource,
    idTokenSigningAlg: config.idTokenSigningAlg,
    endpoint: (name) => deps.oidc.knownEndpoint(name),
    now: deps.now,
  });
  return createFlowLog(logs, steps, deps.logger);
}
