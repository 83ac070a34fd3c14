import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { APIRequestContext } from "@playwright/test";
import { expect, shot, test, unique } from "./fixtures";

// Runs wait for the worker, which other tests on this 2-core machine keep busy.
test.describe.configure({ timeout: 180_000 });

async function execute(api: APIRequestContext, action_ref: string, parameters: Record<string, unknown> = {}) {
  const response = await api.post("/api/v1/executions/execute", { data: { action_ref, parameters } });
  expect(response.status(), await response.text()).toBe(201);
  return (await response.json()).data as { id: number };
}

async function waitEnded(api: APIRequestContext, id: number) {
  await expect
    .poll(async () => (await (await api.get(`/api/v1/executions/${id}`)).json()).data.status, { timeout: 120_000 })
    .toMatch(/completed|failed|cancelled|timeout|abandoned/);
}

test("an action runs and completes live on its detail page, with its output", async ({ signedIn: page, api }) => {
  const message = unique("hello-");
  const { id } = await execute(api, "core.local", { cmd: `sleep 3; echo ${message}` });
  await page.goto(`/executions/${id}`);
  await expect(page.getByRole("heading", { level: 1, name: `Execution #${id}` })).toBeVisible();
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = "same page"));
  const status = page.getByTestId("execution-status");
  await expect(status).toHaveText("completed", { timeout: 90_000 });
  await expect(page.getByLabel("stdout log")).toContainText(message);
  // no reload happened: the marker set after the first render is still there
  expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe("same page");
  await expect(page.getByLabel("Status history")).toContainText("running");
  await expect(page.getByRole("link", { name: "core.local" }).first()).toHaveAttribute("href", "/actions/core.local");
  await shot(page, "execution-detail");
});

test("a running action's output shows on its detail page before it ends, following the end", async ({ signedIn: page, api }) => {
  // The action prints 200 lines, then waits for the test to create the gate file.
  const dir = mkdtempSync(join(tmpdir(), "attune-e2e-gate-"));
  const gate = join(dir, "gate");
  const first = unique("first-");
  const pack = unique("logs");
  expect((await api.post("/api/v1/packs", { data: { ref: pack, label: pack, version: "1.0.0" } })).status()).toBe(201);
  const action = await api.post("/api/v1/actions", {
    data: {
      ref: `${pack}.gated`,
      pack_ref: pack,
      label: "Gated",
      runtime_ref: "core.shell",
      param_schema: { gate: { type: "string", required: true } },
      entrypoint: `echo ${first}; for i in $(seq 2 200); do echo "line $i"; done
for _ in $(seq 1200); do [ -e "$gate" ] && break; sleep 0.1; done
echo after-gate; seq 300`,
    },
  });
  expect(action.status(), await action.text()).toBe(201);
  try {
    const { id } = await execute(api, `${pack}.gated`, { gate });
    const reads: string[] = [];
    page.on("request", (request) => {
      if (request.url().includes(`/executions/${id}/logs/stdout`)) reads.push(new URL(request.url()).pathname);
    });
    await page.goto(`/executions/${id}`);
    const log = page.getByLabel("stdout log");
    await expect(log).toContainText(first, { timeout: 90_000 });
    await expect(log).toContainText("line 200");
    // still running: the process cannot end before the gate exists
    expect(existsSync(gate)).toBe(false);
    await expect(page.getByTestId("execution-status")).toHaveText("running");
    await expect(page.getByText("following…")).toBeVisible();
    // Other executions change meanwhile (as on a busy system): each notification refreshes the
    // page's execution queries (seen as a re-read of this execution), but not the log.
    await expect(page.getByTitle("Live updates connected")).toBeVisible();
    const refreshed = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/v1/executions/${id}`);
    await waitEnded(api, (await execute(api, "core.noop")).id);
    await refreshed;
    // followed over the SSE stream, not by re-reading the log again and again
    expect(reads.filter((path) => path.endsWith("/stream")).length).toBeGreaterThanOrEqual(1);
    expect(reads.filter((path) => !path.endsWith("/stream")).length).toBeLessThanOrEqual(1);
    // the view follows the end of the log
    const atBottom = () => log.evaluate((el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 2);
    await expect.poll(atBottom).toBe(true);
    await shot(page, "execution-detail-running-log");
    // the user scrolls up: new output no longer moves the view
    await log.evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event("scroll"));
    });
    writeFileSync(gate, "");
    await expect(page.getByTestId("execution-status")).toHaveText("completed", { timeout: 90_000 });
    await expect(log).toContainText("after-gate");
    expect(await log.evaluate((el) => el.scrollTop)).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("cancel and re-run ask for confirmation and act", async ({ signedIn: page, api }) => {
  const { id } = await execute(api, "core.sleep", { seconds: 60 });
  await page.goto(`/executions/${id}`);
  await page.getByRole("button", { name: "Cancel" }).click();
  const dialog = page.getByRole("dialog", { name: `Cancel execution #${id}?` });
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Cancel execution" }).click();
  await expect(page.getByTestId("execution-status")).toHaveText(/canceling|cancelled/, { timeout: 90_000 });
  await expect(page.getByTestId("execution-status")).toHaveText("cancelled", { timeout: 90_000 });

  await page.getByRole("button", { name: "Re-run" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Re-run" }).click();
  await expect(page).not.toHaveURL(new RegExp(`/executions/${id}$`));
  await expect(page.getByText(`Re-run of`)).toBeVisible();
  const rerunId = Number(page.url().split("/").pop());
  await page.getByRole("button", { name: "Cancel" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Cancel execution" }).click();
  await waitEnded(api, rerunId);
});

test("list filters live in the URL: they survive a reload and the back button", async ({ signedIn: page, api }) => {
  const marker = unique("m");
  const echo = await execute(api, "core.echo", { message: marker });
  const noop = await execute(api, "core.noop");
  await waitEnded(api, echo.id);
  await waitEnded(api, noop.id);

  await page.goto("/executions");
  const table = page.getByRole("table", { name: "Executions" });
  await expect(table.getByRole("row", { name: new RegExp(`#${echo.id}\\b`) })).toBeVisible();
  await expect(table.getByRole("row", { name: new RegExp(`#${noop.id}\\b`) })).toBeVisible();
  await shot(page, "executions");

  await page.getByLabel("Status").selectOption("completed");
  await expect(page).toHaveURL(/status=completed/);
  await page.getByLabel("Action").fill("core.echo");
  await page.getByLabel("Action").press("Enter");
  await expect(page).toHaveURL(/status=completed.*action_ref=core\.echo/);
  await expect(table.getByRole("row", { name: new RegExp(`#${echo.id}\\b`) })).toBeVisible();
  await expect(table.getByRole("row", { name: new RegExp(`#${noop.id}\\b`) })).toHaveCount(0);

  await page.reload();
  await expect(page.getByLabel("Action")).toHaveValue("core.echo");
  await expect(page.getByLabel("Status")).toHaveValue("completed");
  await expect(table.getByRole("row", { name: new RegExp(`#${echo.id}\\b`) })).toBeVisible();
  await expect(table.getByRole("row", { name: new RegExp(`#${noop.id}\\b`) })).toHaveCount(0);

  await page.goBack();
  await expect(page).not.toHaveURL(/action_ref/);
  await expect(page.getByLabel("Action")).toHaveValue("");
  await expect(page.getByLabel("Status")).toHaveValue("completed");
  await expect(table.getByRole("row", { name: new RegExp(`#${noop.id}\\b`) })).toBeVisible();

  // the box follows the URL, which updates asynchronously: click, then wait for the state
  await page.getByLabel("Top-level only").click();
  await expect(page.getByLabel("Top-level only")).toBeChecked();
  await expect(page).toHaveURL(/top_level_only=true/);
  await page.getByRole("button", { name: /Clear filters/ }).first().click();
  await expect(page).toHaveURL(/\/executions$/);
});

test("a new execution appears in the list live and its status changes without reload", async ({ signedIn: page, api }) => {
  await page.goto("/executions");
  await expect(page.getByTestId("executions-live")).toHaveText("updates live");
  const { id } = await execute(api, "core.local", { cmd: "sleep 2" });
  const row = page.getByRole("table", { name: "Executions" }).getByRole("row", { name: new RegExp(`#${id}\\b`) });
  await expect(row).toBeVisible();
  await expect(row).toContainText("completed", { timeout: 90_000 });
  await row.click();
  await expect(page).toHaveURL(new RegExp(`/executions/${id}$`));
});

test("a workflow execution lists its tasks, their executions and the conductor's reasons", async ({ signedIn: page, api }) => {
  const pack = unique("wfpack");
  const created = await api.post("/api/v1/packs", { data: { ref: pack, label: "E2E workflows", version: "1.0.0" } });
  expect(created.status(), await created.text()).toBe(201);
  const workflow = await api.post("/api/v1/workflows", {
    data: {
      ref: `${pack}.two`,
      pack_ref: pack,
      label: "Two",
      version: "1.0.0",
      definition: {
        tasks: [
          {
            name: "first",
            action: "core.noop",
            next: [
              { when: "{{ succeeded() }}", do: "second" },
              { when: "{{ failed() }}", do: "cleanup" },
            ],
          },
          { name: "second", action: "core.echo", input: { message: "second says hi" } },
          { name: "cleanup", action: "core.noop" },
        ],
      },
    },
  });
  expect(workflow.status(), await workflow.text()).toBe(201);
  const { id } = await execute(api, `${pack}.two`);
  await page.goto(`/executions/${id}`);
  await expect(page.getByTestId("execution-status")).toHaveText("completed", { timeout: 90_000 });
  const tasks = page.getByRole("list", { name: "Workflow tasks" });
  await expect(tasks.getByTestId("task-first")).toContainText("succeeded");
  await expect(tasks.getByTestId("task-second")).toContainText("succeeded");
  await expect(tasks.getByTestId("task-cleanup")).toContainText("not reached");
  const transitions = page.getByRole("list", { name: "Transitions of first" });
  await expect(transitions).toContainText("taken");
  await expect(transitions).toContainText("not taken");
  const children = page.getByRole("navigation", { name: "Child executions" });
  await expect(children.getByRole("link")).toHaveCount(2);
  await children.getByRole("link").last().click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Execution #");
  await expect(page.getByText("task second")).toBeVisible();
  await expect(page.getByLabel("stdout log")).toContainText("second says hi");
  await page.getByRole("link", { name: `#${id}` }).click();
  await expect(page).toHaveURL(new RegExp(`/executions/${id}$`));
  await shot(page, "execution-workflow");
});

test("scrolling the list loads the next pages (110 executions, pages of 100)", async ({ signedIn: page, api }) => {
  const ids: number[] = [];
  for (let batch = 0; batch < 11; batch++) {
    const created = await Promise.all(Array.from({ length: 10 }, () => execute(api, "core.noop")));
    ids.push(...created.map((c) => c.id));
  }
  ids.sort((a, b) => a - b);
  await page.goto("/executions?action_ref=core.noop");
  const table = page.getByRole("table", { name: "Executions" });
  await expect(table.getByRole("row", { name: new RegExp(`#${ids.at(-1)}\\b`) })).toBeVisible();
  await expect(page.getByText(/^100\+ shown/)).toBeVisible();
  const oldest = table.getByRole("row", { name: new RegExp(`#${ids[0]}\\b`) });
  await expect(async () => {
    await table.locator(".overflow-auto").evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await expect(oldest).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  // only a window of the rows is in the DOM
  expect(await table.getByRole("row").count()).toBeLessThan(60);
  await waitEnded(api, ids.at(-1)!);
});
