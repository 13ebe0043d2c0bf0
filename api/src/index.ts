export type { Principal } from "@oidc-bff/resource-server";
export { type Api, type ApiConfig, type ApiDeps, createApi, type TokenValidation } from "./app.ts";
export { API_ERROR_CODES, ApiError, type ApiErrorCode, REALM } from "./errors.ts";
export type { ContactStats } from "./store/contacts-store.ts";
