import type { APIRequestContext } from "@playwright/test";
import { expect, shot, test, unique } from "./fixtures";

test.describe.configure({ timeout: 180_000 });

/** A pack with a trigger and a rule running core.echo with a parameter from the event payload. */
async function ruleOnTrigger(api: APIRequestContext) {
  const pack = unique("evpack");
  const post = async (path: string, data: Record<string, unknown>) => {
    const response = await api.post(path, { data });
    expect(response.status(), `${path}: ${await response.text()}`).toBe(201);
    return (await response.json()).data;
  };
  await post("/api/v1/packs", { ref: pack, label: "E2E events", version: "1.0.0" });
  await post("/api/v1/triggers", { ref: `${pack}.ping`, pack_ref: pack, label: "Ping" });
  await post("/api/v1/rules", {
    ref: `${pack}.on_ping`,
    pack_ref: pack,
    label: "On ping",
    trigger_ref: `${pack}.ping`,
    action_ref: "core.echo",
    action_params: { message: "{{ event.payload.word }}" },
  });
  const fire = async (word: string) => (await post("/api/v1/events", { trigger_ref: `${pack}.ping`, payload: { word } })) as { id: number };
  return { pack, trigger: `${pack}.ping`, rule: `${pack}.on_ping`, fire };
}

test("the dashboard shows the figures of its time range, kept in the URL", async ({ signedIn: page, api }) => {
  const done = await api.post("/api/v1/executions/execute", { data: { action_ref: "core.noop" } });
  expect(done.status()).toBe(201);
  const failing = await api.post("/api/v1/executions/execute", { data: { action_ref: "core.local", parameters: { cmd: "exit 3" } } });
  expect(failing.status()).toBe(201);
  const failedId = (await failing.json()).data.id;
  await expect
    .poll(async () => (await (await api.get(`/api/v1/executions/${failedId}`)).json()).data.status, { timeout: 90_000 })
    .toBe("failed");

  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  const range = page.getByRole("group", { name: "Time range" });
  await expect(range.getByRole("button", { name: "24h" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByRole("figure", { name: "Executions by status" })).toBeVisible();
  await expect(page.getByRole("figure", { name: "Executions, events and enforcements over time" }).locator("svg").first()).toBeVisible();
  await expect(page.getByTestId("failure-rate")).toHaveText(/%$/);
  await expect(page.getByRole("figure", { name: "Workers by status" })).toBeVisible();
  const failures = page.getByRole("region", { name: "Recent failures" }).or(page.locator("section", { hasText: "Recent failures" }));
  await expect(failures.getByRole("link", { name: `#${failedId}` })).toBeVisible();
  await shot(page, "dashboard");

  await range.getByRole("button", { name: "7d" }).click();
  await expect(page).toHaveURL(/range=7d/);
  await page.reload();
  await expect(page.getByRole("group", { name: "Time range" }).getByRole("button", { name: "7d" })).toHaveAttribute("aria-pressed", "true");
  await page.goBack();
  await expect(page.getByRole("group", { name: "Time range" }).getByRole("button", { name: "24h" })).toHaveAttribute("aria-pressed", "true");

  // a status in the legend opens the filtered executions list
  await page.getByRole("figure", { name: "Executions by status" }).getByRole("link", { name: /failed/ }).click();
  await expect(page).toHaveURL(/\/executions\?status=failed/);
  await expect(page.getByRole("table", { name: "Executions" }).getByRole("row", { name: new RegExp(`#${failedId}\\b`) })).toBeVisible();
});

test("events and enforcements link both ways down to the execution", async ({ signedIn: page, api }) => {
  const { trigger, rule, fire } = await ruleOnTrigger(api);
  const word = unique("word");
  const event = await fire(word);
  await fire(unique("other"));

  await page.goto(`/events?trigger_ref=${encodeURIComponent(trigger)}`);
  await expect(page.getByLabel("Trigger")).toHaveValue(trigger);
  const events = page.getByRole("table", { name: "Events" });
  await expect(events.getByRole("row")).toHaveCount(3); // header + two events
  await shot(page, "events");
  await events.getByRole("row", { name: new RegExp(`#${event.id}\\b`) }).click();
  await expect(page.getByRole("heading", { level: 1, name: `Event #${event.id}` })).toBeVisible();
  await expect(page.getByLabel("Payload", { exact: true })).toContainText(word);
  const enforcementRow = page.getByRole("table", { name: "Enforcements of this event" }).getByRole("row").nth(1);
  await expect(enforcementRow).toContainText(rule);
  await enforcementRow.click();

  await expect(page.getByRole("heading", { level: 1, name: /Enforcement #\d+/ })).toBeVisible();
  await expect(page.getByLabel("Resolved parameters", { exact: true })).toContainText(word);
  const executions = page.getByRole("table", { name: "Executions of this enforcement" });
  await expect(executions.getByRole("row").nth(1)).toContainText("completed", { timeout: 90_000 });
  const enforcementUrl = page.url();
  await executions.getByRole("row").nth(1).click();
  await expect(page.getByTestId("execution-status")).toHaveText("completed");
  await expect(page.getByLabel("stdout log")).toContainText(word);
  // back up the chain: execution -> enforcement -> event
  await page.getByRole("link", { name: /^#\d+$/ }).filter({ hasText: enforcementUrl.split("/").pop()! }).first().click();
  await expect(page).toHaveURL(enforcementUrl);
  await page.getByRole("link", { name: `event #${event.id}` }).click();
  await expect(page).toHaveURL(new RegExp(`/events/${event.id}$`));

  await page.goto(`/enforcements?rule_ref=${encodeURIComponent(rule)}`);
  const list = page.getByRole("table", { name: "Enforcements" });
  await expect(list.getByRole("row")).toHaveCount(3);
  await page.getByLabel("Status").selectOption("disabled");
  await expect(page).toHaveURL(/status=disabled/);
  await expect(page.getByText("No enforcement matches these filters")).toBeVisible();
  await page.goBack();
  await expect(list.getByRole("row")).toHaveCount(3);
  await page.getByLabel("Status").selectOption("processed");
  await expect(list.getByRole("row")).toHaveCount(3);
  await shot(page, "enforcements");
});

test("events and enforcements lists refresh live, at most about once a second", async ({ signedIn: page, api }) => {
  const reads: Record<string, number> = { events: 0, enforcements: 0 };
  page.on("request", (request) => {
    const path = new URL(request.url()).pathname;
    if (path === "/api/v1/events") reads.events += 1;
    if (path === "/api/v1/enforcements") reads.enforcements += 1;
  });
  for (const key of ["events", "enforcements"] as const) {
    // a trigger and rule of its own: the other list's burst matched the other rule
    const { trigger, rule, fire } = await ruleOnTrigger(api);
    const filter = key === "events" ? `trigger_ref=${encodeURIComponent(trigger)}` : `rule_ref=${encodeURIComponent(rule)}`;
    await page.goto(`/${key}?${filter}`);
    await expect(page.getByText(/No (event|enforcement) matches these filters/)).toBeVisible();
    await expect(page.getByTestId("live-status")).toHaveText("live");
    const before = reads[key];
    const started = Date.now();
    // a burst of 15 events (each matched by the rule): the list shows them without a reload
    for (let i = 0; i < 15; i += 1) await fire(unique(`burst${i}-`));
    const table = page.getByRole("table", { name: key === "events" ? "Events" : "Enforcements" });
    await expect(table.getByRole("row")).toHaveCount(16, { timeout: 60_000 });
    const seconds = (Date.now() - started) / 1000;
    // one read per second of the burst at most (plus the one in flight), not one per event
    expect(reads[key] - before).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
    expect(reads[key] - before).toBeLessThan(15);
  }
});
