import { CONTACT_LIMITS, parseNewContact } from "@oidc-bff/shared";
import { type ChangeEvent, type FormEvent, useId, useRef, useState } from "react";
import { ErrorAlert } from "../../components/error-alert.tsx";
import { describeError, fieldErrorsFrom } from "../../lib/errors.ts";
import { useAddContact } from "./api.ts";

type FieldName = "name" | "email" | "group";
const EMPTY: Record<FieldName, string> = { name: "", email: "", group: "" };
const FIELD_ORDER: FieldName[] = ["name", "email", "group"];

export function ContactForm() {
  const id = useId();
  const headingId = `${id}-heading`;
  const [values, setValues] = useState(EMPTY);
  const [errors, setErrors] = useState<Partial<Record<FieldName, string>>>({});
  const inputs = useRef<Partial<Record<FieldName, HTMLInputElement | null>>>({});
  const add = useAddContact();

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    // The same check the API runs, so mistakes are explained before a round trip.
    const parsed = parseNewContact(values);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      const first = FIELD_ORDER.find((field) => parsed.errors[field]);
      if (first) inputs.current[first]?.focus();
      return;
    }
    setErrors({});
    add.mutate(parsed.value, {
      onSuccess: () => {
        setValues(EMPTY);
        inputs.current.name?.focus();
      },
      // The API is the authority: show its verdict next to the fields it concerns.
      onError: (error) => {
        const fromServer = fieldErrorsFrom(error);
        if (fromServer) setErrors(fromServer);
      },
    });
  };

  const field = (name: FieldName) => ({
    id: `${id}-${name}`,
    name,
    value: values[name],
    maxLength: CONTACT_LIMITS[name],
    autoComplete: "off",
    "aria-invalid": errors[name] ? true : undefined,
    "aria-describedby": errors[name] ? `${id}-${name}-error` : undefined,
    ref: (element: HTMLInputElement | null) => {
      inputs.current[name] = element;
    },
    onChange: (event: ChangeEvent<HTMLInputElement>) =>
      setValues((current) => ({ ...current, [name]: event.target.value })),
  });

  const fieldError = (name: FieldName) =>
    errors[name] ? (
      <p id={`${id}-${name}-error`} className="field-error">
        {errors[name]}
      </p>
    ) : null;

  return (
    <section className="add-contact">
      <h2 id={headingId}>Add a contact</h2>
      <form aria-labelledby={headingId} onSubmit={onSubmit} noValidate>
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input type="text" required {...field("name")} />
          {fieldError("name")}
        </div>
        <div className="field">
          <label htmlFor={`${id}-email`}>Email</label>
          <input type="email" required {...field("email")} />
          {fieldError("email")}
        </div>
        <div className="field">
          <label htmlFor={`${id}-group`}>Group</label>
          <input
            type="text"
            {...field("group")}
            aria-describedby={[`${id}-group-hint`, errors.group ? `${id}-group-error` : ""].join(" ").trim()}
          />
          <p id={`${id}-group-hint`} className="field-hint">
            Optional, for example family or work.
          </p>
          {fieldError("group")}
        </div>
        {add.isError ? <ErrorAlert view={describeError(add.error)} /> : null}
        <p role="status" className="visually-hidden">
          {add.isSuccess ? "Contact added." : ""}
        </p>
        <button type="submit" className="button" disabled={add.isPending}>
          Add contact
        </button>
      </form>
    </section>
  );
}
