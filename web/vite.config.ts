import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The BFF every request goes to in development. Vite forwards /bff and /api
// with the Host header unchanged (localhost:5173), so the BFF builds its
// redirect URI and cookies for the origin the browser actually sees.
const BFF = "http://localhost:3000";
const toBff = { target: BFF, changeOrigin: false };

export default defineConfig({
  // The system scripts start Vite from the repository root with --config.
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [react()],
  server: {
    host: "localhost",
    port: 5173,
    strictPort: true,
    proxy: { "/bff/": toBff, "/api/": toBff },
  },
  preview: {
    host: "localhost",
    port: 5173,
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
