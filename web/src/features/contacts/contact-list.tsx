import type { Contact } from "@oidc-bff/shared";
import { ErrorAlert } from "../../components/error-alert.tsx";
import { describeError } from "../../lib/errors.ts";
import { useDeleteContact } from "./api.ts";

export function ContactList({ contacts }: { contacts: Contact[] }) {
  const remove = useDeleteContact();

  return (
    <section className="contacts">
      {remove.isError ? <ErrorAlert view={describeError(remove.error)} /> : null}
      {/* Announces the outcome, since the deleted row (and the focused button) simply vanish. */}
      <p role="status" className="visually-hidden">
        {remove.isSuccess ? "Contact deleted." : ""}
      </p>
      {contacts.length === 0 ? (
        <p>No contacts yet.</p>
      ) : (
        <ul aria-label="Contacts" className="contact-list">
          {contacts.map((contact) => (
            <li key={contact.id} className="contact">
              <div className="contact-details">
                <span className="contact-name">{contact.name}</span>
                <span className="contact-email">{contact.email}</span>
                {contact.group ? <span className="contact-group">{contact.group}</span> : null}
              </div>
              <button
                type="button"
                className="button button-secondary"
                onClick={() => remove.mutate(contact.id)}
                disabled={remove.isPending && remove.variables === contact.id}
              >
                Delete<span className="visually-hidden"> {contact.name}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
