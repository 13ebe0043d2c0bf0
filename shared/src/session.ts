/**
 * What `GET /bff/session` answers. The SPA reads this and nothing else about
 * the login: it never holds a token, only this view of the session.
 */
export type SessionView = AnonymousSession | AuthenticatedSession;

export interface AnonymousSession {
  authenticated: false;
}

export interface AuthenticatedSession {
  authenticated: true;
  user: SessionUser;
  /** Scopes granted to the access token the BFF holds. */
  scopes: string[];
  /** When the BFF session ends at the latest (absolute lifetime), ISO 8601. */
  expiresAt: string;
  /** When the current access token expires, ISO 8601. The BFF refreshes it before then. */
  accessTokenExpiresAt: string;
  /** Claims of the ID token, decoded and validated by the BFF. Never the token itself. */
  idTokenClaims: Record<string, unknown>;
  /**
   * Where each claim of `user` came from: the ID token, the UserInfo endpoint
   * (OIDC Core §5.3), or the application's own `mapUserClaims` hook.
   */
  claimSources?: Record<string, ClaimSource>;
}

export type ClaimSource = "id_token" | "userinfo" | "mapped";

export interface SessionUser {
  sub: string;
  name?: string;
  email?: string;
  [claim: string]: unknown;
}
