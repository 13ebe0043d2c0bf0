import { useBffClient } from "@oidc-bff/client/react-query";

/**
 * Starts a login that comes back to the page the person is on. A full page
 * navigation, not a fetch: the BFF answers with a redirect to the IdP.
 */
export function useLogin(): () => void {
  const bff = useBffClient();
  return () => bff.login();
}
