import { useBffClient } from "@oidc-bff/client/react-query";
import type { ErrorView } from "../lib/errors.ts";

/**
 * The session lacks a scope the person can grant: a new login asks the IdP
 * for just that scope (it shows a consent page for it) and comes back here.
 */
export function ConsentAlert({ view }: { view: Extract<ErrorView, { kind: "consent" }> }) {
  const bff = useBffClient();
  return (
    <div role="alert" className="alert alert-info">
      <p className="alert-title">{view.message}</p>
      <p>{view.detail}</p>
      <button type="button" className="button" onClick={() => bff.login(undefined, { scopes: [view.scope] })}>
        {view.action}
      </button>
    </div>
  );
}
