import { createBrowserRouter } from "react-router";
import { ContactsPage } from "../features/contacts/contacts-page.tsx";
import { NotFoundPage, RouteErrorPage } from "../features/errors/error-pages.tsx";
import { HomePage } from "../features/home/home-page.tsx";
import { InspectorPage } from "../features/inspector/inspector-page.tsx";
import { SessionPage } from "../features/session/session-page.tsx";
import { Layout } from "./layout.tsx";

// Declarative routes only: data comes from TanStack Query, not route loaders,
// so the session view and the contacts share one cache and one retry policy.
export function createRouter() {
  return createBrowserRouter([
    {
      element: <Layout />,
      children: [
        {
          // Inside the layout, so an unexpected error keeps the header and navigation.
          errorElement: <RouteErrorPage />,
          children: [
            { index: true, element: <HomePage /> },
            { path: "contacts", element: <ContactsPage /> },
            { path: "session", element: <SessionPage /> },
            { path: "inspector", element: <InspectorPage /> },
            { path: "*", element: <NotFoundPage /> },
          ],
        },
      ],
    },
  ]);
}
