// Shared e2e helpers: a signed-in page, an API client with the same session, screenshots.
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { type APIRequestContext, type Page, test as base, expect } from "@playwright/test";

export const DEV_LOGIN = { login: "test@attune.local", password: "TestPass123!" };
const SHOTS = resolve(import.meta.dirname, "..", "test-output", "screenshots");

interface Session {
  access_token: string;
  refresh_token: string;
  user: { id: number; login: string; display_name?: string | null };
}

async function login(request: APIRequestContext): Promise<Session> {
  const response = await request.post("/auth/login", { data: DEV_LOGIN });
  expect(response.status(), await response.text()).toBe(200);
  return (await response.json()).data as Session;
}

/** Save a full-page screenshot as test-output/screenshots/<name>.png. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: resolve(SHOTS, `${name}.png`), fullPage: true });
}

/** A unique name for entities a test creates (tests share one server). */
export function unique(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

export const test = base.extend<{ session: Session; signedIn: Page; api: APIRequestContext }>({
  session: async ({ request }, use) => {
    await use(await login(request));
  },
  // A page whose localStorage already holds the session (the UI's own persisted form).
  signedIn: async ({ page, session }, use) => {
    const state = { state: { accessToken: session.access_token, refreshToken: session.refresh_token, user: session.user }, version: 0 };
    await page.addInitScript((value) => {
      localStorage.setItem("attune.session", value);
    }, JSON.stringify(state));
    await use(page);
  },
  // The REST API with the dev identity's token, for arranging data a test needs.
  api: async ({ playwright, baseURL, session }, use) => {
    const context = await playwright.request.newContext({
      baseURL,
      extraHTTPHeaders: { Authorization: `Bearer ${session.access_token}` },
    });
    await use(context);
    await context.dispose();
  },
});

export { expect };
