import { apiMutation, apiQuery, apiQueryKey, useBffClient } from "@oidc-bff/client/react-query";
import type { Contact, NewContact } from "@oidc-bff/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

const CONTACTS = "/api/contacts";

/** The person's contacts, fetched only once the session is known to exist. */
export function useContacts(enabled: boolean) {
  return useQuery({ ...apiQuery<Contact[]>(useBffClient(), CONTACTS), enabled });
}

export function useAddContact() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: apiMutation<NewContact, Contact>(useBffClient(), (contact) => ({
      method: "POST",
      path: CONTACTS,
      body: contact,
    })),
    // Returning the promise keeps the mutation pending until the list shows the new contact.
    onSuccess: () => queryClient.invalidateQueries({ queryKey: apiQueryKey(CONTACTS) }),
  });
}

export function useDeleteContact() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: apiMutation<string, void>(useBffClient(), (id) => ({
      method: "DELETE",
      path: `${CONTACTS}/${encodeURIComponent(id)}`,
    })),
    // Also after a failure: a 404 means it is already gone, and the list should say so.
    onSettled: () => queryClient.invalidateQueries({ queryKey: apiQueryKey(CONTACTS) }),
  });
}
