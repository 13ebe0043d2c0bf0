import type { ErrorView } from "../lib/errors.ts";
import { ConsentAlert } from "./consent-alert.tsx";
import { LoginAlert } from "./login-alert.tsx";

interface ErrorAlertProps {
  view: ErrorView;
  /** Offered only for errors worth retrying. */
  onRetry?: () => void;
}

/** Says what went wrong in words a person can act on, with the one action that can help. */
export function ErrorAlert({ view, onRetry }: ErrorAlertProps) {
  if (view.kind === "login") return <LoginAlert message={view.message} action={view.action} />;
  if (view.kind === "consent") return <ConsentAlert view={view} />;
  return (
    <div role="alert" className="alert alert-error">
      <p className="alert-title">{view.message}</p>
      {view.detail ? <p>{view.detail}</p> : null}
      {view.kind === "retry" && onRetry ? (
        <button type="button" className="button" onClick={onRetry}>
          {view.action}
        </button>
      ) : null}
    </div>
  );
}
