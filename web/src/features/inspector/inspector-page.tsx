import { useSession } from "@oidc-bff/client/react-query";

import { ErrorAlert } from "../../components/error-alert.tsx";
import { Loading } from "../../components/loading.tsx";
import { LoginAlert } from "../../components/login-alert.tsx";
import { useDocumentTitle } from "../../hooks/use-document-title.ts";
import { describeError } from "../../lib/errors.ts";
import { useClearFlowLog, useFlowLog } from "./api.ts";
import { Timeline } from "./timeline.tsx";

export function InspectorPage() {
  useDocumentTitle("Inspector");
  return (
    <>
      <h1>Inspector</h1>
      <p className="note">
        Every protocol step the BFF performed for this session, as a timeline of who sent what to whom. The
        BFF records a description of each step, never a token, a code or a secret: JWTs show their decoded
        header and claims only.
      </p>
      <InspectorContent />
    </>
  );
}

function InspectorContent() {
  const session = useSession();
  const log = useFlowLog(session.data, { refetchOnMount: "always" });
  const clear = useClearFlowLog();

  if (session.isPending) return <Loading label="Checking your session…" />;
  if (session.isError) {
    return <ErrorAlert view={describeError(session.error)} onRetry={() => void session.refetch()} />;
  }
  if (log.isError) return <ErrorAlert view={describeError(log.error)} onRetry={() => void log.refetch()} />;
  if (log.isPending) return <Loading label="Loading the protocol log…" />;
  if (log.data === "none") return <LoginAlert message="You are not logged in." action="Log in" />;
  if (log.data === "off") {
    return (
      <div className="alert alert-info">
        <p>The flow inspector is off on this BFF. It runs in development only (BFF_FLOW_INSPECTOR=on).</p>
      </div>
    );
  }

  const ended = log.data.session === "ended";
  return (
    <>
      {ended ? (
        <div className="alert alert-info">
          <p>
            You have logged out. This is the log of the session that ended, readable in this browser for a few
            minutes: its last steps (the logout, the revocation of the refresh token, the end-session request
            and the IdP's back-channel logout) happen after the session cookie is gone.
          </p>
        </div>
      ) : null}
      <div className="inspector-actions">
        <button
          type="button"
          className="button button-secondary"
          onClick={() => void log.refetch()}
          disabled={log.isFetching}
        >
          Refresh
        </button>
        {/* An ended session's log is read-only. */}
        {ended ? null : (
          <button
            type="button"
            className="button button-secondary"
            onClick={() => clear.mutate()}
            disabled={clear.isPending}
          >
            Clear the log
          </button>
        )}
      </div>
      {clear.isError ? <ErrorAlert view={describeError(clear.error)} /> : null}
      <Timeline log={log.data} />
    </>
  );
}
