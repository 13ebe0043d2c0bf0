/**
 * The soak test's browser: the shared HTTP browser (http-browser.ts) pointed at
 * the system's default addresses, and the development users it signs in as.
 */
import { HttpBrowser } from "./http-browser.ts";
import { ADDRESSES } from "./system.ts";

export { SESSION_COOKIE } from "./http-browser.ts";

export const USERS = {
  alice: { username: "alice", password: "alice-dev-password" },
  bob: { username: "bob", password: "bob-dev-password" },
} as const;

export class SoakBrowser extends HttpBrowser {
  constructor() {
    super({ bff: ADDRESSES.bff, idp: ADDRESSES.idp });
  }
}
