import { Link } from "react-router";
import { useDocumentTitle } from "../../hooks/use-document-title.ts";

export function NotFoundPage() {
  useDocumentTitle("Page not found");
  return (
    <>
      <h1>Page not found</h1>
      <p>There is no page at this address.</p>
      <p>
        <Link to="/">Go to the home page</Link>
      </p>
    </>
  );
}

/** Shown when a page throws while rendering: better a plain message than a blank screen. */
export function RouteErrorPage() {
  useDocumentTitle("Something went wrong");
  return (
    <>
      <h1>Something went wrong</h1>
      <p>This page could not be shown. Reloading may help.</p>
      <p>
        <Link to="/">Go to the home page</Link>
      </p>
    </>
  );
}
