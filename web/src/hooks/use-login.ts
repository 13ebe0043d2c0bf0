import { useLogin as useBffLogin } from "@oidc-bff/client/react-query";

/** Starts a login that comes back to the page the person is on (the client package's useLogin). */
export function useLogin(): () => void {
  const login = useBffLogin();
  return () => login();
}
