// Rules as an operator builds them: a rule on a webhook trigger made through the form (pickers,
// conditions checked live by the server, template action params), the webhook enabled on the
// trigger page and fired from outside, the execution it caused found from the rule; the
// enable/disable switch in the list.
import { expect, shot, test, unique } from "./fixtures";

test("create a rule on a webhook trigger through the UI, fire the webhook, see the execution", async ({ signedIn: page, api, request }) => {
  const pack = unique("rulepack");
  expect((await api.post("/api/v1/packs", { data: { ref: pack, label: pack, version: "1.0.0" } })).status()).toBe(201);
  const action = await api.post("/api/v1/actions", {
    data: {
      ref: `${pack}.notify`,
      pack_ref: pack,
      label: "Notify",
      description: "Prints what it is told",
      entrypoint: 'echo "got $msg x$count"',
      runtime_ref: "core.shell",
      param_schema: { msg: { type: "string", required: true }, count: { type: "integer", default: 1 } },
    },
  });
  expect(action.status(), await action.text()).toBe(201);
  const trigger = await api.post("/api/v1/triggers", {
    data: { ref: `${pack}.hook`, pack_ref: pack, label: "Hook", out_schema: { msg: { type: "string" }, n: { type: "integer" } } },
  });
  expect(trigger.status(), await trigger.text()).toBe(201);

  await page.goto("/rules");
  await page.getByRole("link", { name: "New rule" }).click();
  await expect(page).toHaveURL(/\/rules\/new$/);
  // whole labels (with the required marker): the list, whose switches name rules of packs like
  // "evpack…", may still be on screen while the form's chunk loads
  await page.getByLabel(/^Pack( \*)?$/).selectOption(pack);
  await page.getByLabel(/^Name( \*)?$/).fill("on_hook");
  await page.getByLabel(/^Description( \*)?$/).fill("Notify on every go");
  await page.getByLabel(/^Trigger( \*)?$/).fill(`${pack}.hook`);
  await expect(page.getByText(`payload.msg`)).toBeVisible();

  // An expression the server refuses, then field conditions it accepts.
  await page.getByRole("radio", { name: "Expression" }).check();
  await page.getByLabel("Condition expression").fill("{{ (event.payload.msg }}");
  await expect(page.getByRole("alert").filter({ hasText: 'Unbalanced "}"' })).toBeVisible();
  await page.getByLabel("Condition expression").fill("event.payload.msg ==");
  await expect(page.getByRole("alert").filter({ hasText: "conditions.expression" })).toBeVisible();
  await page.getByLabel("Condition expression").fill("{{ event.payload.msg.startswith('go') }}");
  await expect(page.getByText("The server accepts these conditions.")).toBeVisible();
  await page.getByRole("radio", { name: "Field conditions" }).check();
  await page.getByLabel("Condition 1 field").fill("payload.msg");
  await page.getByLabel("Condition 1 operator").selectOption("startswith");
  await page.getByLabel("Condition 1 value").fill("go");
  await expect(page.getByText("The server accepts these conditions.")).toBeVisible();

  // The action, and its parameters from its schema; values are templates.
  await page.getByLabel("Action").fill(`${pack}.notify`);
  await expect(page.locator("p", { hasText: "Prints what it is told" })).toBeVisible();
  await page.getByRole("button", { name: "Create rule" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "msg is required" }).first()).toBeVisible();
  await page.getByLabel("msg").fill("{{ event.payload.msg }}");
  await page.getByLabel("count").fill("{{ event.payload.n }}");
  await shot(page, "rule-edit");
  await page.getByRole("button", { name: "Create rule" }).click();
  await expect(page).toHaveURL(new RegExp(`/rules/${pack}\\.on_hook$`));
  await expect(page.getByRole("heading", { name: `${pack}.on_hook`, level: 1 })).toBeVisible();
  await expect(page.getByText("startswith")).toBeVisible();
  const rule = (await (await api.get(`/api/v1/rules/${pack}.on_hook`)).json()).data;
  expect(rule).toMatchObject({
    enabled: true,
    trigger_ref: `${pack}.hook`,
    action_ref: `${pack}.notify`,
    conditions: [{ field: "payload.msg", operator: "startswith", value: "go" }],
    action_params: { msg: "{{ event.payload.msg }}", count: "{{ event.payload.n }}" },
  });

  // Enable the trigger's webhook from its page and fire it from outside.
  await page.getByRole("link", { name: `${pack}.hook` }).click();
  await page.getByRole("button", { name: "Enable webhook" }).click();
  const url = await page.getByRole("textbox", { name: "Webhook URL" }).inputValue();
  expect(url).toMatch(/\/api\/v1\/webhooks\/wh_[0-9a-f]{32}$/);
  const skipped = await request.post(url, { data: { payload: { msg: "stop", n: 1 } } });
  expect(skipped.status(), await skipped.text()).toBe(200);
  const fired = await request.post(url, { data: { payload: { msg: "go team", n: 3 } } });
  expect(fired.status(), await fired.text()).toBe(200);

  const executions = async () =>
    (await (await api.get(`/api/v1/executions?rule_ref=${pack}.on_hook`)).json()).items as { id: number; status: string }[];
  await expect.poll(async () => (await executions()).map((e) => e.status), { timeout: 30_000 }).toEqual(["completed"]);
  const [execution] = await executions();
  const detail = (await (await api.get(`/api/v1/executions/${execution.id}`)).json()).data;
  expect(detail.result.stdout).toBe("got go team x3\n");

  // The execution shows up from the rule's page.
  await page.goto(`/rules/${pack}.on_hook`);
  await page.getByRole("main").getByRole("link", { name: "Executions", exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/executions\\?rule_ref=${pack}\\.on_hook`));
  await expect(page.getByRole("main").getByText(`${pack}.notify`).first()).toBeVisible();
});

test("rules list: search, disable and enable with the switch; edit keeps the conditions", async ({ signedIn: page, api }) => {
  const pack = unique("togglepack");
  expect((await api.post("/api/v1/packs", { data: { ref: pack, label: pack, version: "1.0.0" } })).status()).toBe(201);
  const created = await api.post("/api/v1/rules", {
    data: {
      ref: `${pack}.tick`,
      pack_ref: pack,
      label: "Tick",
      trigger_ref: "core.webhook",
      action_ref: "core.noop",
      conditions: { expression: "{{ event.payload.x == 1 }}" },
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  await page.goto(`/rules?q=${pack}`);
  const toggle = page.getByRole("switch", { name: `Rule ${pack}.tick enabled` });
  await expect(toggle).toHaveAttribute("aria-checked", "true");
  await shot(page, "rules");
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-checked", "false");
  await expect.poll(async () => (await (await api.get(`/api/v1/rules/${pack}.tick`)).json()).data.enabled).toBe(false);
  await page.getByLabel("State").selectOption("enabled");
  await expect(page.getByText("No rule matches this search.")).toBeVisible();
  await page.getByLabel("State").selectOption("disabled");
  await toggle.click();
  await expect.poll(async () => (await (await api.get(`/api/v1/rules/${pack}.tick`)).json()).data.enabled).toBe(true);

  await page.goto(`/rules/${pack}.tick/edit`);
  await expect(page.getByRole("radio", { name: "Expression" })).toBeChecked();
  await expect(page.getByLabel("Condition expression")).toHaveValue("{{ event.payload.x == 1 }}");
  await page.getByLabel("Label").fill("Tick tock");
  await page.getByRole("button", { name: "Save rule" }).click();
  await expect(page).toHaveURL(new RegExp(`/rules/${pack}\\.tick$`));
  await expect(page.getByText("Tick tock").first()).toBeVisible();
});
