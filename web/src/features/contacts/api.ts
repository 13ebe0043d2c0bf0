import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { addContact, deleteContact, listContacts } from "../../lib/bff-client.ts";

export const CONTACTS_QUERY_KEY = ["contacts"] as const;

/** The person's contacts, fetched only once the session is known to exist. */
export function useContacts(enabled: boolean) {
  return useQuery({ queryKey: CONTACTS_QUERY_KEY, queryFn: listContacts, enabled });
}

export function useAddContact() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: addContact,
    // Returning the promise keeps the mutation pending until the list shows the new contact.
    onSuccess: () => queryClient.invalidateQueries({ queryKey: CONTACTS_QUERY_KEY }),
  });
}

export function useDeleteContact() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: deleteContact,
    // Also after a failure: a 404 means it is already gone, and the list should say so.
    onSettled: () => queryClient.invalidateQueries({ queryKey: CONTACTS_QUERY_KEY }),
  });
}
