/**
 * The browser side of the BFF, for any front end. See docs/reuse.md.
 * React apps with TanStack Query also get hooks from `@oidc-bff/client/react-query`.
 */
export { type BffClient, type BffClientOptions, createBffClient } from "./bff-client.ts";
export { BffError, errorFrom, genericProblem, isInsufficientScope, isUnauthenticated } from "./bff-error.ts";
export { type LoginOptions, loginUrl, safeReturnTo } from "./login-url.ts";
