// Dark mode on every main page: a screenshot of each (test-output/screenshots/dark-*.png) and a
// contrast check of every visible text against the background it is drawn on (WCAG ratio).
import type { Page } from "@playwright/test";
import { expect, shot, test } from "./fixtures";

test.describe.configure({ timeout: 240_000 });

const PAGES: [string, string, string][] = [
  ["dashboard", "/", "Dashboard"],
  ["executions", "/executions", "Executions"],
  ["actions", "/actions", "Actions"],
  ["action", "/actions/core.echo", "core.echo"],
  ["rules", "/rules", "Rules"],
  ["triggers", "/triggers", "Triggers"],
  ["events", "/events", "Events"],
  ["enforcements", "/enforcements", "Enforcements"],
  ["sensors", "/sensors", "Sensors"],
  ["inquiries", "/inquiries", "Inquiries"],
  ["packs", "/packs", "Packs"],
  ["pack", "/packs/core", "core"],
  ["keys", "/keys", "Keys"],
  ["artifacts", "/artifacts", "Artifacts"],
  ["runtimes", "/runtimes", "Runtimes"],
  ["workers", "/workers", "Workers"],
  ["access", "/access", "Access control"],
  ["profile", "/profile", "Profile"],
  ["workflow-builder", "/actions/workflows/new", "New workflow"],
];

/** Texts whose contrast with their background is below `minimum`, as "text: ratio (fg on bg)". */
async function lowContrast(page: Page, minimum: number): Promise<string[]> {
  return page.evaluate((min) => {
    // colours come as oklch(...) too: a 1x1 canvas turns any CSS colour into RGBA
    const ctx = document.createElement("canvas").getContext("2d", { willReadFrequently: true })!;
    const rgba = (css: string) => {
      ctx.clearRect(0, 0, 1, 1);
      ctx.fillStyle = "rgba(0, 0, 0, 0)";
      ctx.fillStyle = css;
      ctx.fillRect(0, 0, 1, 1);
      const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
      return [r, g, b, a / 255];
    };
    const luminance = ([r, g, b]: number[]) => {
      const c = [r, g, b].map((v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    };
    const background = (el: Element | null): number[] => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgba(getComputedStyle(e).backgroundColor);
        if ((c[3] ?? 1) > 0.5) return c;
      }
      return [255, 255, 255, 1];
    };
    const bad: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent?.trim();
      const el = node.parentElement;
      if (!text || !el || el.closest("svg, [aria-hidden=true], .react-flow__minimap")) continue;
      const style = getComputedStyle(el);
      const rect = el.getBoundingClientRect();
      if (style.visibility === "hidden" || style.display === "none" || rect.width === 0 || Number(style.opacity) < 0.6) continue;
      if (el.closest("[disabled], [aria-disabled=true]")) continue; // disabled controls may be dim
      const fg = rgba(style.color);
      const bg = background(el);
      const [a, b] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      if (ratio < min) bad.push(`${text.slice(0, 40)}: ${ratio.toFixed(2)} (${style.color} on rgb(${bg.slice(0, 3).join(", ")}))`);
    }
    return [...new Set(bad)];
  }, minimum);
}

test("every main page is readable in dark mode", async ({ signedIn: page }) => {
  await page.addInitScript(() => localStorage.setItem("attune.theme", "dark"));
  const problems: string[] = [];
  for (const [name, path, heading] of PAGES) {
    await page.goto(path);
    await expect(page.getByRole("heading", { level: 1, name: heading }).first()).toBeVisible();
    await expect(page.locator("html")).toHaveClass(/dark/);
    await page.waitForLoadState("networkidle").catch(() => undefined);
    await shot(page, `dark-${name}`);
    for (const line of await lowContrast(page, Number(process.env.CONTRAST_MIN ?? 3))) problems.push(`${name}: ${line}`);
  }
  expect(problems, problems.join("\n")).toEqual([]);
});
