import type { ResolvedBffConfig } from "./config.ts";
import type { FlowLog } from "./inspector/flow-log.ts";
import type { BffLogger } from "./logger.ts";
import type { OidcClient } from "./oidc/client.ts";
import type { EndedSessions } from "./session/ended-sessions.ts";
import type { LoginTransactions } from "./session/login-transactions.ts";
import type { LogoutTickets } from "./session/logout-ticket.ts";
import type { Sessions } from "./session/sessions.ts";
import type { SessionStore } from "./session/store.ts";

/** Everything a route needs, built once by `createBff` and handed to each group of routes. */
export interface BffServices {
  config: ResolvedBffConfig;
  oidc: OidcClient;
  sessions: Sessions;
  /** Where ended sessions are recorded (back-channel logout writes to it directly). */
  ended: EndedSessions;
  /** The shared store itself: back-channel logout remembers logout tokens' `jti` in it. */
  store: SessionStore;
  logins: LoginTransactions;
  tickets: LogoutTickets;
  logger: BffLogger;
  /** Outgoing requests to the API. */
  fetch: typeof fetch;
  now: () => number;
  /** The flow inspector's per-session protocol log (a no-op unless `flowInspector` is on). */
  flow: FlowLog;
}
