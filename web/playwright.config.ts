// End-to-end tests: a real `attune up` (fresh SQLite data directory, development identity)
// driven through Debian's Chromium by playwright-core; no browser is downloaded.
// Screenshots of the main pages land in test-output/screenshots/.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { defineConfig } from "@playwright/test";

// Chosen once in the main process; the test workers inherit them.
process.env.ATTUNE_E2E_PORT ??= String(20_000 + Math.floor(Math.random() * 20_000));
process.env.ATTUNE_E2E_DATA ??= mkdtempSync(join(tmpdir(), "attune-e2e-"));
const port = process.env.ATTUNE_E2E_PORT;
const baseURL = `http://127.0.0.1:${port}`;
const attune = resolve(import.meta.dirname, "..", ".venv", "bin", "attune");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-output/playwright",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 2,
  // No retries: a test that fails under load waits for the wrong thing (see docs/web-ui.md, Tests).
  retries: 0,
  reporter: [["list"], ["html", { outputFolder: "test-output/report", open: "never" }]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    viewport: { width: 1440, height: 900 },
    launchOptions: {
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
      ],
    },
  },
  projects: [{ name: "chromium", use: { browserName: "chromium" } }],
  webServer: {
    command: `${attune} up --host 127.0.0.1 --port ${port}`,
    url: `${baseURL}/health`,
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      ATTUNE_ENV: "development",
      ATTUNE__DATA_DIR: process.env.ATTUNE_E2E_DATA,
      HOME: process.env.ATTUNE_E2E_DATA,
    },
  },
});
