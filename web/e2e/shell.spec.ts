import { DEV_LOGIN, expect, shot, test } from "./fixtures";

test("signing in through the form lands on the page asked for, signing out returns to login", async ({ page }) => {
  await page.goto("/executions");
  await expect(page).toHaveURL(/\/login\?next=%2Fexecutions/);
  await shot(page, "login");
  await page.getByLabel("Login").fill(DEV_LOGIN.login);
  await page.getByLabel("Password").fill("wrong password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await page.getByLabel("Password").fill(DEV_LOGIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/executions$/);
  await expect(page.getByTestId("live-status")).toHaveAttribute("data-connected", "true");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
});

test("every section of the navigation opens and the back button returns", async ({ signedIn: page }) => {
  await page.goto("/");
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const name of ["Executions", "Actions", "Rules", "Packs"]) {
    await nav.getByRole("link", { name }).click();
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  }
  await page.goBack();
  await expect(page).toHaveURL(/\/rules$/);
});

test("dark mode is remembered across reloads", async ({ signedIn: page }) => {
  await page.goto("/");
  await page.getByRole("button", { name: "Switch to dark mode" }).click();
  await expect(page.locator("html")).toHaveClass(/dark/);
  await page.reload();
  await expect(page.locator("html")).toHaveClass(/dark/);
  await page.getByRole("button", { name: "Switch to light mode" }).click();
  await expect(page.locator("html")).not.toHaveClass(/dark/);
});
