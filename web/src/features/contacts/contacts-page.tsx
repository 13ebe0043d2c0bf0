import { useSession } from "@oidc-bff/client/react-query";
import { ErrorAlert } from "../../components/error-alert.tsx";
import { Loading } from "../../components/loading.tsx";
import { LoginAlert } from "../../components/login-alert.tsx";
import { useDocumentTitle } from "../../hooks/use-document-title.ts";
import { describeError } from "../../lib/errors.ts";
import { useContacts } from "./api.ts";
import { ContactForm } from "./contact-form.tsx";
import { ContactList } from "./contact-list.tsx";

export function ContactsPage() {
  useDocumentTitle("Contacts");
  return (
    <>
      <h1>Contacts</h1>
      <ContactsContent />
    </>
  );
}

function ContactsContent() {
  const session = useSession();
  const contacts = useContacts(session.data?.authenticated === true);
  const error = contacts.isError ? describeError(contacts.error) : null;

  // First: the API said the session is gone. This wins over the session view,
  // which the 401 also refreshes to anonymous, so the person learns why.
  if (error?.kind === "login") return <LoginAlert message={error.message} action={error.action} />;
  if (session.isPending) return <Loading label="Checking your session…" />;
  if (session.isError) {
    return <ErrorAlert view={describeError(session.error)} onRetry={() => void session.refetch()} />;
  }
  if (!session.data.authenticated) return <LoginAlert message="You are not logged in." action="Log in" />;

  return (
    <>
      {error ? <ErrorAlert view={error} onRetry={() => void contacts.refetch()} /> : null}
      {contacts.data ? (
        <>
          <ContactList contacts={contacts.data} />
          <ContactForm />
        </>
      ) : null}
      {contacts.isPending && !error ? <Loading label="Loading your contacts…" /> : null}
    </>
  );
}
