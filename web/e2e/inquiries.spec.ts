// Inquiries: a workflow asks a question (core.ask), the operator answers it in the UI with the
// form generated from response_schema, and the workflow goes on.
import { expect, shot, test, unique } from "./fixtures";

test("respond to an inquiry through the UI and see the workflow continue", async ({ signedIn: page, api }) => {
  const pack = unique("askpack");
  expect((await api.post("/api/v1/packs", { data: { ref: pack, label: pack, version: "1.0.0" } })).status()).toBe(201);
  const prompt = `Deploy ${pack} to production?`;
  const workflow = await api.post("/api/v1/workflows", {
    data: {
      ref: `${pack}.deploy`,
      pack_ref: pack,
      label: "Deploy with approval",
      version: "1.0.0",
      definition: {
        tasks: [
          {
            name: "approve",
            action: "core.ask",
            input: {
              prompt,
              timeout: 3600,
              response_schema: {
                approved: { type: "boolean", required: true, description: "Go ahead?" },
                reason: { type: "string", description: "Why" },
                level: { type: "string", enum: ["low", "high"], default: "low" },
              },
            },
            next: [{ when: "{{ succeeded() and result().response.approved }}", do: "announce" }],
          },
          { name: "announce", action: "core.echo", input: { message: "approved: {{ task.approve.result.response.reason }}" } },
        ],
      },
    },
  });
  expect(workflow.status(), await workflow.text()).toBe(201);
  const started = await api.post("/api/v1/executions/execute", { data: { action_ref: `${pack}.deploy`, parameters: {} } });
  expect(started.status(), await started.text()).toBe(201);
  const workflowId = (await started.json()).data.id as number;

  // The question appears in the pending list.
  await page.goto("/inquiries?status=pending");
  const row = page.getByRole("row", { name: new RegExp(prompt.replace(/[?]/g, "\\?")) });
  await expect(row).toBeVisible({ timeout: 30_000 });
  await shot(page, "inquiries");
  await row.click();
  await expect(page).toHaveURL(/\/inquiries\/\d+$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Inquiry #");
  await expect(page.getByText("anyone signed in")).toBeVisible();
  await expect(page.getByText(/\(in (59|60) min\)/)).toBeVisible();

  // The form comes from response_schema: a required yes/no is an explicit choice.
  await page.getByRole("button", { name: "Send response" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "approved is required" })).toBeVisible();
  await page.getByLabel("approved").selectOption("true");
  await page.getByLabel("reason").fill("tests are green");
  await expect(page.getByLabel("level")).toBeVisible();
  await shot(page, "inquiry-detail");
  await page.getByRole("button", { name: "Send response" }).click();
  await expect(page.getByRole("heading", { name: "Response" })).toBeVisible();
  await expect(page.getByRole("main").getByText("responded").first()).toBeVisible();
  await expect(page.getByText('"tests are green"')).toBeVisible();

  // The workflow goes on: the next task runs with the answer.
  await expect
    .poll(async () => (await (await api.get(`/api/v1/executions/${workflowId}`)).json()).data.status, { timeout: 30_000 })
    .toBe("completed");
  const children = (await (await api.get(`/api/v1/executions?parent=${workflowId}`)).json()).items as { id: number; action_ref: string }[];
  const announce = children.find((c) => c.action_ref === "core.echo");
  expect(announce).toBeDefined();
  const echoed = (await (await api.get(`/api/v1/executions/${announce!.id}`)).json()).data;
  expect(echoed.result.stdout).toBe("approved: tests are green\n");

  // From the inquiry, the execution that asked is one click away.
  await page.getByRole("link", { name: /^execution #\d+$/ }).click();
  await expect(page).toHaveURL(/\/executions\/\d+$/);
});
