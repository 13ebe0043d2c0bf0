/** The BFF's routes, as the SPA and the tests call them. */
export const BFF_ROUTES = {
  login: "/bff/login",
  callback: "/bff/callback",
  session: "/bff/session",
  logout: "/bff/logout",
  backchannelLogout: "/bff/backchannel-logout",
} as const;

/** Prefix under which the BFF proxies to the API. */
export const API_PREFIX = "/api";

/** The anti-CSRF header every `/api/*` call and state-changing `/bff/*` call must carry. */
export const CSRF_HEADER = "x-csrf";
export const CSRF_HEADER_VALUE = "1";

/** The scopes of the contacts API. */
export const SCOPES = {
  read: "contacts:read",
  write: "contacts:write",
  stats: "contacts:stats",
} as const;
