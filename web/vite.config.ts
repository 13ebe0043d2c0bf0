import { fileURLToPath } from "node:url";
import { localSystem, VITE_PORT } from "@oidc-bff/shared";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The BFF every request goes to in development (on BFF_PORT, as `pnpm dev` starts it).
// Vite forwards /bff and /api with the Host header unchanged (localhost:5173), so the
// BFF builds its redirect URI and cookies for the origin the browser actually sees.
const toBff = { target: localSystem(process.env).bff, changeOrigin: false };

export default defineConfig({
  // The system scripts start Vite from the repository root with --config.
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [react()],
  server: {
    host: "localhost",
    port: VITE_PORT,
    strictPort: true,
    proxy: { "/bff/": toBff, "/api/": toBff },
  },
  preview: {
    host: "localhost",
    port: VITE_PORT,
    strictPort: true,
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // The BFF serves the build with a strict CSP (script-src 'self', style-src 'self'):
    // every asset stays a file on our origin, never a data: URI or an injected helper.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
