import { useSession } from "@oidc-bff/client/react-query";
import { ErrorAlert } from "../../components/error-alert.tsx";
import { Loading } from "../../components/loading.tsx";
import { useDocumentTitle } from "../../hooks/use-document-title.ts";
import { describeError } from "../../lib/errors.ts";
import { displayName } from "../../lib/session.ts";

export function HomePage() {
  useDocumentTitle("Home");
  const session = useSession();

  if (session.data?.authenticated) {
    return (
      <>
        <h1>Welcome, {displayName(session.data.user)}</h1>
        <p>
          You are logged in. Your contacts come from a protected API: the BFF calls it for you with an access
          token it keeps on the server. Open Contacts to add or delete some, or Session to see what the BFF
          knows about your login.
        </p>
      </>
    );
  }

  return (
    <>
      <h1>Welcome</h1>
      {session.isPending ? <Loading label="Checking your session…" /> : null}
      {session.isError ? (
        <ErrorAlert view={describeError(session.error)} onRetry={() => void session.refetch()} />
      ) : null}
      {session.data ? (
        <p>
          This app shows the backend-for-frontend pattern for OpenID Connect. It lists your contacts from a
          protected API and shows what your session holds, while the browser never sees a token: the BFF keeps
          them on the server and the page only has a cookie it cannot read. Log in to begin.
        </p>
      ) : null}
    </>
  );
}
