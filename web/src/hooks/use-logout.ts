import { useMutation, useQueryClient } from "@tanstack/react-query";
import { logout } from "../lib/bff-client.ts";
import { isUnauthenticated } from "../lib/errors.ts";

/**
 * Ends the session at the BFF, then follows its redirect through the IdP's
 * end-session endpoint so the person is logged out there too.
 */
export function useLogout() {
  const queryClient = useQueryClient();
  const leave = (to: string) => {
    // Nothing of this session (contacts, claims) may outlive it in memory.
    queryClient.clear();
    window.location.assign(to);
  };
  return useMutation({
    mutationFn: logout,
    onSuccess: ({ redirectTo }) => leave(redirectTo),
    onError: (error) => {
      // The session had already ended at the BFF: there is nothing left to log out of.
      if (isUnauthenticated(error)) leave("/");
    },
  });
}
