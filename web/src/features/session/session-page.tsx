import { useSession } from "@oidc-bff/client/react-query";
import type { AuthenticatedSession } from "@oidc-bff/shared";
import { ErrorAlert } from "../../components/error-alert.tsx";
import { Loading } from "../../components/loading.tsx";
import { LoginAlert } from "../../components/login-alert.tsx";
import { useDocumentTitle } from "../../hooks/use-document-title.ts";
import { claimRows } from "../../lib/claims.ts";
import { describeError } from "../../lib/errors.ts";
import { parseIsoDate } from "../../lib/format.ts";
import { Timestamp } from "./timestamp.tsx";

export function SessionPage() {
  useDocumentTitle("Session");
  const session = useSession();
  return (
    <>
      <h1>Session</h1>
      {session.isPending ? <Loading label="Checking your session…" /> : null}
      {session.isError ? (
        <ErrorAlert view={describeError(session.error)} onRetry={() => void session.refetch()} />
      ) : null}
      {session.data && !session.data.authenticated ? (
        <LoginAlert message="You are not logged in." action="Log in" />
      ) : null}
      {session.data?.authenticated ? <SessionDetails session={session.data} /> : null}
    </>
  );
}

function SessionDetails({ session }: { session: AuthenticatedSession }) {
  const { user } = session;
  return (
    <>
      <p className="note">
        This is the BFF's view of your session. The browser never holds the tokens themselves: the BFF keeps
        them on the server side and the page only carries a session cookie that script cannot read.
      </p>
      <dl className="facts">
        <dt>Subject</dt>
        <dd>
          <code>{user.sub}</code>
        </dd>
        <dt>Name</dt>
        <dd>{user.name ?? <span className="muted">Not shared</span>}</dd>
        <dt>Email</dt>
        <dd>{user.email ?? <span className="muted">Not shared</span>}</dd>
        <dt>Scopes</dt>
        <dd>
          {session.scopes.length > 0 ? (
            <ul className="scopes">
              {session.scopes.map((scope) => (
                <li key={scope}>
                  <code>{scope}</code>
                </li>
              ))}
            </ul>
          ) : (
            <span className="muted">None</span>
          )}
        </dd>
        <dt>Access token expires</dt>
        <dd>
          <Moment iso={session.accessTokenExpiresAt} />
          <span className="field-hint"> The BFF refreshes it before then, without you noticing.</span>
        </dd>
        <dt>Session expires</dt>
        <dd>
          <Moment iso={session.expiresAt} />
        </dd>
      </dl>
      <ProfileTable session={session} />
      <ClaimsTable claims={session.idTokenClaims} />
    </>
  );
}

const SOURCE_LABELS = {
  id_token: "ID token",
  userinfo: "UserInfo endpoint",
  mapped: "mapped by the BFF",
} as const;

/** Who the person is, and where the BFF learned each fact (OpenID Connect Core §5.3). */
function ProfileTable({ session }: { session: AuthenticatedSession }) {
  const rows = claimRows(session.user);
  return (
    <table className="claims">
      <caption>Profile claims</caption>
      <thead>
        <tr>
          <th scope="col">Claim</th>
          <th scope="col">Value</th>
          <th scope="col">Source</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => {
          const source = session.claimSources?.[row.name];
          return (
            <tr key={row.name}>
              <th scope="row">
                <code>{row.name}</code>
              </th>
              <td>
                <span className="claim-value">{row.text}</span>
              </td>
              <td>{source ? SOURCE_LABELS[source] : <span className="muted">Unknown</span>}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Moment({ iso }: { iso: string }) {
  const date = parseIsoDate(iso);
  return date ? <Timestamp date={date} /> : <span>{iso}</span>;
}

function ClaimsTable({ claims }: { claims: Record<string, unknown> }) {
  const rows = claimRows(claims);
  return (
    <table className="claims">
      <caption>ID token claims</caption>
      <thead>
        <tr>
          <th scope="col">Claim</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.name}>
            <th scope="row">
              <code>{row.name}</code>
            </th>
            <td>
              <span className="claim-value">{row.text}</span>
              {row.date ? (
                <>
                  {" "}
                  <Timestamp date={row.date} />
                </>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
