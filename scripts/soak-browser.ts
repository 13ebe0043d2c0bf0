/**
 * The soak test's browser: the shared HTTP browser (http-browser.ts) pointed at
 * the system's addresses (BFF_PORT, IDP_PORT, API_PORT), and the development users it signs in as.
 */
import { HttpBrowser } from "./http-browser.ts";
import { addressesFromEnvironment } from "./system.ts";

export { SESSION_COOKIE } from "./http-browser.ts";

export const USERS = {
  alice: { username: "alice", password: "alice-dev-password" },
  bob: { username: "bob", password: "bob-dev-password" },
} as const;

export class SoakBrowser extends HttpBrowser {
  constructor({ bff, idp } = addressesFromEnvironment()) {
    super({ bff, idp });
  }
}
