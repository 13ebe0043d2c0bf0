import { BffClientProvider } from "@oidc-bff/client/react-query";
import { QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RouterProvider } from "react-router/dom";
import { createQueryClient } from "./app/query-client.ts";
import { createRouter } from "./app/router.tsx";
import { bff } from "./lib/bff-client.ts";
import "./styles.css";

const container = document.getElementById("root");
if (!container) throw new Error("index.html has no #root element");

// Created once, outside React: re-creating either on a render would drop its state.
const queryClient = createQueryClient();
const router = createRouter();

createRoot(container).render(
  <StrictMode>
    <BffClientProvider client={bff}>
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </BffClientProvider>
  </StrictMode>,
);
