/// <reference types="vitest/config" />
import { fileURLToPath } from "node:url";
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the UI on :5173 and forwards the API to an `attune up` on :8080.
const api = process.env.ATTUNE_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  server: {
    proxy: {
      "/api": api,
      "/auth": api,
      "/health": api,
      "/webhooks": api,
      "/ws": { target: api.replace(/^http/, "ws"), ws: true },
    },
  },
  // The manifest lets scripts/size.mjs measure what the first page loads (npm run size).
  build: { outDir: "dist", sourcemap: false, chunkSizeWarningLimit: 1500, manifest: true },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
