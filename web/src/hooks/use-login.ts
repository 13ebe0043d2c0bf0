import { useLocation } from "react-router";
import { loginUrl } from "../lib/bff-client.ts";
import { pathWithSearch } from "../lib/session.ts";

/**
 * Starts a login that comes back to the page the person is on. A full page
 * navigation, not a fetch: the BFF answers with a redirect to the IdP.
 */
export function useLogin(): () => void {
  const location = useLocation();
  return () => window.location.assign(loginUrl(pathWithSearch(location)));
}
