export { createIdp, type Idp, type IdpDeps } from "./app.ts";
export {
  API_SCOPES,
  assertProductionReady,
  CONTACTS_API_CLIENT_ID,
  DEV_API_AUDIENCE,
  DEV_CONTACTS_API_SECRET,
  DEV_ISSUER,
  DEV_REPORTING_SERVICE_SECRET,
  DEV_WEB_BFF_BACKCHANNEL_LOGOUT_URI,
  DEV_WEB_BFF_POST_LOGOUT_REDIRECT_URIS,
  DEV_WEB_BFF_REDIRECT_URIS,
  DEV_WEB_BFF_SECRET,
  type DevelopmentIdpOptions,
  developmentIdpConfig,
  type IdpApiResource,
  type IdpClient,
  type IdpConfig,
  type IdpGrantType,
  type IdpMode,
  type IdpTtls,
} from "./config.ts";
export { IDP_ERROR_CODES, IdpError, type IdpErrorCode } from "./errors.ts";
export { hashPassword, verifyPassword } from "./password.ts";
export { IDP_COOKIE_NAMES } from "./provider-config.ts";
export { DEV_USERS_FILE, type IdpUser, loadUsersFile, type UserClaims } from "./users.ts";
export { INVALID_CREDENTIALS_MESSAGE } from "./views.ts";
