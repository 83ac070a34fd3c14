// Packs, actions, triggers and sensors as an operator uses them: browse and search, create a
// pack, edit its configuration against conf_schema, run an action from its dialog.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect, shot, test, unique } from "./fixtures";

test("packs: list and search, create a pack, edit its config through the conf_schema form", async ({ signedIn: page, api }) => {
  await page.goto("/packs");
  await expect(page.getByRole("heading", { name: "Packs", level: 1 })).toBeVisible();
  await expect(page.getByRole("row", { name: /core/ }).first()).toBeVisible();
  await shot(page, "packs");

  // Create a pack through the dialog: it opens on its own page.
  const ref = unique("webpack");
  await page.getByRole("button", { name: "New pack" }).click();
  const dialog = page.getByRole("dialog", { name: "New pack" });
  await dialog.getByLabel("Ref").fill(ref);
  await dialog.getByLabel("Label").fill("Web pack");
  await dialog.getByRole("button", { name: "Create pack" }).click();
  await expect(page).toHaveURL(new RegExp(`/packs/${ref}$`));
  await expect(page.getByRole("heading", { name: "Web pack", level: 1 })).toBeVisible();
  await expect(page.getByText("This pack has no actions.")).toBeVisible();

  // Search narrows the list (and is in the URL).
  await page.goto(`/packs?q=${ref}`);
  await expect(page.getByRole("row", { name: new RegExp(ref) })).toBeVisible();
  await expect(page.getByRole("row", { name: /^core\b/ })).toHaveCount(0);

  // A pack with a conf_schema: its config form comes from it; secrets are password fields.
  const configured = unique("confpack");
  const created = await api.post("/api/v1/packs", {
    data: {
      ref: configured,
      label: "Configured",
      version: "1.0.0",
      conf_schema: {
        host: { type: "string", required: true, description: "Where to connect" },
        port: { type: "integer", default: 443, minimum: 1 },
        token: { type: "string", secret: true },
        verbose: { type: "boolean" },
      },
      config: { host: "old.example.com" },
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  await page.goto(`/packs/${configured}`);
  await expect(page.getByLabel("host")).toHaveValue("old.example.com");
  await expect(page.getByLabel("token", { exact: true })).toHaveAttribute("type", "password");
  await page.getByLabel("host").fill("");
  await page.getByLabel("host").blur();
  await page.getByRole("button", { name: "Save configuration" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "host is required" })).toBeVisible();
  await page.getByLabel("host").fill("new.example.com");
  await page.getByLabel("port").fill("abc");
  await page.getByLabel("port").blur();
  await expect(page.getByText("port must be a whole number")).toBeVisible();
  await page.getByLabel("port").fill("8443");
  await expect(page.getByText("port must be a whole number")).toHaveCount(0);
  await page.getByLabel("token", { exact: true }).fill("s3cret");
  await page.getByLabel("verbose").check();
  await page.getByRole("button", { name: "Save configuration" }).click();
  await expect(page.getByText("Configuration saved.")).toBeVisible();
  await expect
    .poll(async () => (await (await api.get(`/api/v1/packs/${configured}`)).json()).data.config)
    .toMatchObject({ host: "new.example.com", port: 8443, verbose: true });
  await shot(page, "pack-detail");

  // Component tabs each have their URL.
  await page.goto("/packs/core?tab=triggers");
  await expect(page.getByRole("tab", { name: "Triggers", selected: true })).toBeVisible();
  await expect(page.getByRole("row", { name: /core\.webhook/ })).toBeVisible();
});

test("actions: search, detail with parameters, run from the dialog and land on the execution", async ({ signedIn: page, api }) => {
  await page.goto("/actions");
  await expect(page.getByRole("link", { name: "New workflow" })).toHaveAttribute("href", "/actions/workflows/new");
  await page.getByLabel("Search actions").fill("http_request");
  await expect(page).toHaveURL(/q=http_request/);
  await expect(page.getByRole("row", { name: /core\.http_request/ })).toBeVisible();
  await expect(page.getByRole("row", { name: /core\.echo/ })).toHaveCount(0);
  await page.getByLabel("Search actions").fill("");
  await expect(page.getByRole("row", { name: /core\.echo/ })).toBeVisible();
  await shot(page, "actions");

  // Secrets of a param_schema are password fields in the run dialog.
  await page.goto("/actions/core.http_request?run=1");
  const httpDialog = page.getByRole("dialog", { name: "Run core.http_request" });
  await expect(httpDialog.getByLabel("auth_password", { exact: true })).toHaveAttribute("type", "password");
  await expect(httpDialog.getByLabel("method")).toBeVisible();
  await httpDialog.getByRole("button", { name: "Run action" }).click();
  await expect(httpDialog.getByText("url is required")).toBeVisible();
  await httpDialog.getByRole("button", { name: "Cancel" }).click();

  // An ad-hoc action with typed parameters: run it from the dialog.
  const pack = unique("runpack");
  expect((await api.post("/api/v1/packs", { data: { ref: pack, label: pack, version: "1.0.0" } })).status()).toBe(201);
  const ref = `${pack}.greet`;
  const action = await api.post("/api/v1/actions", {
    data: {
      ref,
      pack_ref: pack,
      label: "Greet",
      description: "Says hello a few times",
      entrypoint: 'for i in $(seq "$times"); do echo "hello $who"; done',
      runtime_ref: "core.shell",
      param_schema: {
        who: { type: "string", required: true, description: "Whom to greet" },
        times: { type: "integer", default: 1, minimum: 1 },
        loud: { type: "boolean" },
      },
    },
  });
  expect(action.status(), await action.text()).toBe(201);
  await page.goto(`/actions/${ref}`);
  await expect(page.getByRole("heading", { name: ref, level: 1 })).toBeVisible();
  const params = page.getByRole("table").filter({ hasText: "Whom to greet" });
  await expect(params.getByRole("row", { name: /times\s+integer\s+1/ })).toBeVisible();
  await shot(page, "action-detail");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page).toHaveURL(/\?run=1$/);
  const dialog = page.getByRole("dialog", { name: `Run ${ref}` });
  await dialog.getByLabel("who").fill("operator");
  await dialog.getByLabel("times").fill("2");
  await dialog.getByRole("button", { name: "Run action" }).click();
  await expect(page).toHaveURL(/\/executions\/\d+$/);
  const id = Number(page.url().split("/").pop());
  await expect
    .poll(async () => (await (await api.get(`/api/v1/executions/${id}`)).json()).data.status, { timeout: 30_000 })
    .toBe("completed");
  const execution = (await (await api.get(`/api/v1/executions/${id}`)).json()).data;
  expect(execution.action_ref).toBe(ref);
  expect(execution.result.stdout).toBe("hello operator\nhello operator\n");
});

test("triggers and sensors: lists, detail, create a trigger with its webhook on, copy its URL", async ({ signedIn: page, api, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.goto("/triggers");
  await expect(page.getByRole("row", { name: /core\.intervaltimer/ })).toBeVisible();
  await shot(page, "triggers");

  const pack = unique("trigpack");
  expect((await api.post("/api/v1/packs", { data: { ref: pack, label: pack, version: "1.0.0" } })).status()).toBe(201);
  await page.getByRole("link", { name: "New trigger" }).click();
  await page.getByLabel("Pack").selectOption(pack);
  await page.getByLabel("Name").fill("deployed");
  await page.getByLabel("Description").fill("A deployment finished");
  await page.getByLabel("Payload schema").fill("{oops");
  await page.getByRole("button", { name: "Create trigger" }).click();
  await expect(page.getByRole("alert")).toContainText("Payload schema is not valid JSON");
  await page.getByLabel("Payload schema").fill('{"service": {"type": "string", "description": "What was deployed"}}');
  await page.getByLabel("Enable its webhook").check();
  await page.getByRole("button", { name: "Create trigger" }).click();
  await expect(page).toHaveURL(new RegExp(`/triggers/${pack}\\.deployed$`));
  await expect(page.getByText("What was deployed")).toBeVisible();
  const url = page.getByRole("textbox", { name: "Webhook URL" });
  await expect(url).toHaveValue(/\/api\/v1\/webhooks\/wh_[0-9a-f]{32}$/);
  const first = await url.inputValue();
  await page.getByRole("button", { name: "Copy webhook URL" }).click();
  await expect(page.getByRole("button", { name: "Copy webhook URL" })).toContainText("Copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(first);
  await page.getByRole("button", { name: "Regenerate key" }).click();
  await expect(url).not.toHaveValue(first);
  await expect(url).toHaveValue(/wh_[0-9a-f]{32}$/);
  await shot(page, "trigger-detail");
  await page.getByRole("button", { name: "Disable webhook" }).click();
  await expect(page.getByRole("button", { name: "Enable webhook" })).toBeVisible();
  await expect(url).toHaveCount(0);
  const stored = (await (await api.get(`/api/v1/triggers/${pack}.deployed`)).json()).data;
  expect(stored.webhook_enabled).toBe(false);

  await page.goto("/sensors");
  await expect(page.getByRole("heading", { name: "Sensors", level: 1 })).toBeVisible();
  await expect(page.getByRole("table", { name: "Sensors" }).or(page.getByText("No sensors yet."))).toBeVisible();
  await shot(page, "sensors");
});

test("install a pack by uploading a .tar.gz, browse its components, watch its sensor's log", async ({ signedIn: page, api }) => {
  const archive = join(mkdtempSync(join(tmpdir(), "attune-pack-")), "webupload.tar.gz");
  execFileSync("tar", ["-czf", archive, "-C", resolve(import.meta.dirname, "packs"), "webupload"]);

  await page.goto("/packs");
  await page.getByRole("button", { name: "Install pack" }).click();
  const dialog = page.getByRole("dialog", { name: "Install pack" });
  await expect(dialog.getByLabel("Source")).toBeVisible();
  await dialog.getByRole("tab", { name: "Upload .tar.gz" }).click();
  await expect(page).toHaveURL(/source=upload/);
  await dialog.getByLabel("Pack archive").setInputFiles(archive);
  await dialog.getByLabel("Replace an installed pack (force)").check();
  await dialog.getByRole("button", { name: "Upload and install" }).click();
  await expect(page).toHaveURL(/\/packs\/webupload$/);
  await expect(page.getByRole("heading", { name: "Web upload", level: 1 })).toBeVisible();
  await expect(page.getByText("version 1.2.0")).toBeVisible();
  await expect(page.getByLabel("greeting")).toHaveAttribute("placeholder", "default: hello");
  await expect(page.getByLabel("api_key", { exact: true })).toHaveAttribute("type", "password");
  await expect(page.getByRole("row", { name: /webupload\.say/ })).toBeVisible();
  await page.getByRole("tab", { name: "Sensors" }).click();
  await expect(page).toHaveURL(/tab=sensors/);
  await expect(page.getByRole("row", { name: /webupload\.greeter/ })).toBeVisible();

  // The uploaded action's secret parameter is a password field in its run dialog.
  await page.goto("/actions/webupload.say?run=1");
  const run = page.getByRole("dialog", { name: "Run webupload.say" });
  await expect(run.getByLabel("token", { exact: true })).toHaveAttribute("type", "password");
  await expect(page.getByRole("cell", { name: /token/ }).getByText("secret")).toBeVisible();

  // A rule on its trigger makes the sensor run: its log shows on its page; disable it there.
  const rule = await api.post("/api/v1/rules", {
    data: { ref: "webupload.on_greeting", pack_ref: "webupload", label: "On greeting", trigger_ref: "webupload.greeting", action_ref: "core.noop" },
  });
  expect(rule.status(), await rule.text()).toBe(201);
  await page.goto("/sensors?q=greeter");
  await page.getByRole("link", { name: "webupload.greeter" }).click();
  await expect(page.getByRole("heading", { name: "webupload.greeter", level: 1 })).toBeVisible();
  await expect(page.getByLabel("Sensor log")).toContainText("greeter is listening", { timeout: 30_000 });
  const process = page.locator("section").filter({ has: page.getByRole("heading", { name: "Process" }) });
  await expect(process.getByText("running", { exact: true })).toBeVisible();
  await shot(page, "sensor-detail");
  const toggle = page.getByRole("switch", { name: "Sensor webupload.greeter enabled" });
  await expect(toggle).toHaveAttribute("aria-checked", "true");
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-checked", "false");
  await expect.poll(async () => (await (await api.get("/api/v1/sensors/webupload.greeter")).json()).data.enabled).toBe(false);
  await expect(process.getByText("stopped", { exact: true })).toBeVisible({ timeout: 30_000 });
});
