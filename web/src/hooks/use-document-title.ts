import { useEffect } from "react";
import { pageTitle } from "../lib/session.ts";

/** Names the page in the tab and for screen readers announcing the navigation. */
export function useDocumentTitle(page: string): void {
  useEffect(() => {
    document.title = pageTitle(page);
  }, [page]);
}
