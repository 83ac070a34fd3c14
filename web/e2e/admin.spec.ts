// Keys, artifacts, runtimes, workers, access control and the profile, as an operator uses them.
import { expect, shot, test, unique } from "./fixtures";

test("keys: create an encrypted key, reveal it on demand, edit and delete it", async ({ signedIn: page }) => {
  const ref = unique("e2e.token");
  await page.goto("/keys");
  await expect(page.getByRole("heading", { name: "Keys", level: 1 })).toBeVisible();
  await page.getByRole("button", { name: "New key" }).click();
  const dialog = page.getByRole("dialog", { name: "New key" });
  await dialog.getByLabel("Ref").fill(ref);
  await dialog.getByLabel("Value", { exact: true }).fill("s3cr3t-value");
  await dialog.getByLabel("Encrypted").check();
  await dialog.getByRole("button", { name: "Create key" }).click();
  await expect(dialog).toBeHidden();

  const row = page.getByRole("row").filter({ hasText: ref });
  await expect(row).toContainText("encrypted");
  await expect(row).not.toContainText("s3cr3t-value");
  await row.getByRole("button", { name: `Reveal value of ${ref}` }).click();
  await expect(page.getByTestId(`value-${ref}`)).toHaveText("s3cr3t-value");
  await shot(page, "keys");
  await row.getByRole("button", { name: `Hide value of ${ref}` }).click();
  await expect(page.getByTestId(`value-${ref}`)).toBeHidden();

  // edit: the form starts from the decrypted value
  await row.getByRole("button", { name: `Edit ${ref}` }).click();
  const edit = page.getByRole("dialog", { name: `Edit key ${ref}` });
  await expect(edit.getByLabel("Value", { exact: true })).toHaveValue("s3cr3t-value");
  await edit.getByLabel("Value", { exact: true }).fill("rotated");
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(edit).toBeHidden();
  await row.getByRole("button", { name: `Reveal value of ${ref}` }).click();
  await expect(page.getByTestId(`value-${ref}`)).toHaveText("rotated");

  // filters live in the URL
  await page.getByLabel("Owner type").selectOption("pack");
  await expect(page).toHaveURL(/owner_type=pack/);
  await expect(page.getByRole("row").filter({ hasText: ref })).toHaveCount(0);
  await page.getByRole("button", { name: "Clear filters" }).click();

  await page.getByRole("row").filter({ hasText: ref }).getByRole("button", { name: `Delete ${ref}` }).click();
  await page.getByRole("dialog", { name: "Delete key" }).getByRole("button", { name: "Delete key" }).click();
  await expect(page.getByRole("row").filter({ hasText: ref })).toHaveCount(0);
});

test("access control: create an identity with a role, sign in as it, it sees its roles", async ({ signedIn: page, browser }) => {
  const login = unique("operator");
  const password = "Operator-Pass-1";
  await page.goto("/access");
  await expect(page).toHaveURL(/\/access\/identities$/);
  await page.getByRole("button", { name: "New identity" }).click();
  const dialog = page.getByRole("dialog", { name: "New identity" });
  await dialog.getByLabel("Login").fill(login);
  await dialog.getByLabel("Display name").fill("Night Operator");
  await dialog.getByLabel("Password").fill(password);
  await dialog.getByRole("button", { name: "Create identity" }).click();
  await expect(dialog).toBeHidden();

  const row = page.getByRole("row").filter({ hasText: login });
  await expect(row).toContainText("core.viewer");
  await row.getByRole("button", { name: `Manage ${login}` }).click();
  await expect(page).toHaveURL(/identity=\d+/);
  const manage = page.getByRole("dialog", { name: `Identity ${login}` });
  await manage.getByLabel("Add a role").selectOption({ label: "core.executor (Executor)" });
  await manage.getByRole("button", { name: "Assign role" }).click();
  await expect(manage.getByRole("list", { name: "Assigned roles" })).toContainText("core.executor");
  await manage.getByRole("button", { name: "Close" }).click();
  await expect(row).toContainText("core.executor");
  await page.getByLabel("Search identities").fill(login);
  await expect(page.getByRole("row")).toHaveCount(2); // header + the identity
  await page.getByLabel("Search identities").fill("");
  await shot(page, "access-identities");

  // the new identity signs in through the form and sees who it is
  const context = await browser.newContext();
  const other = await context.newPage();
  await other.goto("/profile");
  await other.getByLabel("Login").fill(login);
  await other.getByLabel("Password").fill(password);
  await other.getByRole("button", { name: "Sign in" }).click();
  await expect(other).toHaveURL(/\/profile$/);
  await expect(other.getByRole("heading", { name: "Profile" })).toBeVisible();
  await expect(other.getByText(login, { exact: true })).toBeVisible();
  await expect(other.getByText("core.executor")).toBeVisible();
  await context.close();

  // freeze and unfreeze
  await row.getByRole("button", { name: `Freeze ${login}` }).click();
  await expect(row).toContainText("frozen");
  await row.getByRole("button", { name: `Unfreeze ${login}` }).click();
  await expect(row).toContainText("active");

  // assignments tab lists the identity's two roles
  await page.getByRole("navigation", { name: "Access control" }).getByRole("link", { name: "Assignments" }).click();
  await expect(page).toHaveURL(/\/access\/assignments$/);
  await page.getByLabel("Filter by identity").selectOption({ label: login });
  await expect(page).toHaveURL(/identity=\d+/);
  await expect(page.getByRole("row")).toHaveCount(3);
});

test("access control: create a permission set with grants, then edit it", async ({ signedIn: page }) => {
  const ref = `ops.${unique("readers")}`;
  await page.goto("/access/permission-sets");
  await expect(page.getByRole("navigation", { name: "Permission sets" })).toContainText("core.admin");
  await page.getByRole("button", { name: "New permission set" }).click();
  const dialog = page.getByRole("dialog", { name: "New permission set" });
  await dialog.getByLabel("Ref").fill(ref);
  await dialog.getByLabel("Label").fill("Key readers");
  await dialog.getByLabel("Resource of grant 1").selectOption("key");
  await dialog.getByRole("button", { name: "Add grant" }).click();
  await dialog.getByLabel("Resource of grant 2").selectOption("action");
  await dialog.getByRole("group", { name: "Grant 2" }).getByLabel("execute").check();
  await dialog.getByLabel("Pack of grant 2").fill("core");
  await dialog.getByRole("button", { name: "Create permission set" }).click();
  await expect(dialog).toBeHidden();
  await expect(page).toHaveURL(new RegExp(`set=${ref.replace(".", "\\.")}`));
  const grants = page.getByRole("table", { name: "Grants" });
  await expect(grants).toContainText("read on key");
  await expect(grants).toContainText("read, execute on action in pack core");

  await page.getByRole("button", { name: "Edit" }).click();
  const edit = page.getByRole("dialog", { name: `Edit ${ref}` });
  await edit.getByRole("button", { name: "Remove grant 2" }).click();
  await edit.getByRole("button", { name: "Save permission set" }).click();
  await expect(edit).toBeHidden();
  await expect(grants).not.toContainText("action");
  await page.goto("/access/permission-sets?set=core.editor");
  await expect(page.getByRole("table", { name: "Grants" })).toContainText("execution");
  await shot(page, "access-permission-sets");
});

test("profile: change the display name and the password, sign out", async ({ page, api }) => {
  const login = unique("self");
  const created = await api.post("/api/v1/identities", { data: { login, password: "First-Pass-123", roles: ["core.viewer"] } });
  expect(created.status(), await created.text()).toBe(201);
  await page.goto("/login");
  await page.getByLabel("Login").fill(login);
  await page.getByLabel("Password").fill("First-Pass-123");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/$/);
  await page.getByRole("link", { name: login }).click();
  await expect(page).toHaveURL(/\/profile$/);
  await page.getByLabel("Display name").fill("Shift Lead");
  await page.getByRole("button", { name: "Save display name" }).click();
  await expect(page.getByText("Display name saved.")).toBeVisible();
  await expect(page.getByRole("banner").getByRole("link", { name: "Shift Lead" })).toBeVisible();

  await page.getByLabel("Current password").fill("wrong-password");
  await page.getByLabel("New password", { exact: true }).fill("Second-Pass-456");
  await page.getByLabel("Repeat the new password").fill("Second-Pass-456");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("alert")).toContainText(/wrong/i);
  await page.getByLabel("Current password").fill("First-Pass-123");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Password changed.")).toBeVisible();
  await page.reload();
  await expect(page.getByText("Shift Lead").first()).toBeVisible();
  await shot(page, "profile");

  await page.getByRole("main").getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.getByLabel("Login").fill(login);
  await page.getByLabel("Password").fill("Second-Pass-456");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("banner").getByRole("link", { name: "Shift Lead" })).toBeVisible();
});

test("artifacts: filter, open, upload a new version and download it", async ({ signedIn: page, api }) => {
  const ref = unique("e2e.report");
  const created = await api.post("/api/v1/artifacts", { data: { ref, name: "Nightly report", type: "file_text", scope: "system" } });
  expect(created.status(), await created.text()).toBe(201);
  const id = (await created.json()).data.id;
  const first = await api.post(`/api/v1/artifacts/${id}/versions/upload`, {
    multipart: { file: { name: "report-v1.txt", mimeType: "text/plain", buffer: Buffer.from("first version\n") } },
  });
  expect(first.status(), await first.text()).toBe(201);

  await page.goto("/artifacts");
  await page.getByLabel("Type").selectOption("file_text");
  await expect(page).toHaveURL(/type=file_text/);
  await page.getByLabel("Ref").fill(ref);
  await expect(page).toHaveURL(/ref=/);
  await expect(page.getByRole("row").filter({ hasText: ref })).toHaveCount(1);
  await shot(page, "artifacts");
  await page.getByRole("row").filter({ hasText: ref }).click();
  await expect(page).toHaveURL(new RegExp(`/artifacts/${id}$`));
  await expect(page.getByRole("heading", { name: "Nightly report" })).toBeVisible();
  await expect(page.getByRole("table", { name: "Versions" })).toContainText("report-v1.txt");

  await page.getByLabel("File").setInputFiles({ name: "report-v2.txt", mimeType: "text/plain", buffer: Buffer.from("second version\n") });
  await page.getByRole("button", { name: "Upload new version" }).click();
  await expect(page.getByText("Uploaded report-v2.txt as a new version.")).toBeVisible();
  await expect(page.getByRole("table", { name: "Versions" })).toContainText("report-v2.txt");

  const pending = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download the newest version" }).click();
  const file = await pending;
  expect(file.suggestedFilename()).toBe("report-v2.txt");
  const stream = await file.createReadStream();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  expect(Buffer.concat(chunks).toString()).toBe("second version\n");

  const older = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download version 1" }).click();
  expect((await older).suggestedFilename()).toBe("report-v1.txt");
  await shot(page, "artifact-detail");
});

test("runtimes: list with versions, detail with availability", async ({ signedIn: page }) => {
  await page.goto("/runtimes");
  await expect(page.getByRole("row").filter({ hasText: "core.python" })).toBeVisible();
  await page.getByLabel("Search").fill("node");
  await expect(page).toHaveURL(/q=node/);
  await expect(page.getByRole("row").filter({ hasText: "core.python" })).toHaveCount(0);
  await page.getByLabel("Search").fill("");
  await shot(page, "runtimes");
  await page.getByRole("row").filter({ hasText: "core.python" }).click();
  await expect(page).toHaveURL(/\/runtimes\/core\.python$/);
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await expect(page.getByRole("table", { name: "Runtime versions" }).or(page.getByText("No versions declared."))).toBeVisible();
  await expect(page.getByText("Execution configuration")).toBeVisible();
  await shot(page, "runtime-detail");
});

test("workers: the embedded worker is active with a fresh heartbeat; cordon and uncordon it", async ({ signedIn: page }) => {
  await page.goto("/workers");
  const row = page.getByRole("row").filter({ hasText: "active" }).first();
  await expect(row).toBeVisible();
  await expect(row).toContainText("all runtimes");
  await expect(row).toContainText(/\d+ s ago|\d+ min/);
  await shot(page, "workers");
  const name = (await row.locator("[role=cell]").first().locator("span.font-medium").textContent())!.trim();
  await row.getByRole("button", { name: `Cordon ${name}` }).click();
  await expect(row).toContainText("cordoned");
  await row.getByRole("button", { name: `Uncordon ${name}` }).click();
  await expect(row).not.toContainText("cordoned");
  await page.getByLabel("Status").selectOption("error");
  await expect(page).toHaveURL(/status=error/);
  await expect(page.getByText("No worker matches these filters.")).toBeVisible();
});

test("admin pages fit a 1280 px laptop screen in dark mode", async ({ signedIn: page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto("/keys");
  await page.getByRole("button", { name: "Switch to dark mode" }).click();
  await expect(page.locator("html")).toHaveClass(/dark/);
  const pages: [string, string][] = [
    ["/keys", "Keys"],
    ["/artifacts", "Artifacts"],
    ["/runtimes", "Runtimes"],
    ["/workers", "Workers"],
    ["/access/identities", "Access control"],
    ["/access/permission-sets", "Access control"],
    ["/access/assignments", "Access control"],
    ["/profile", "Profile"],
  ];
  for (const [path, title] of pages) {
    await page.goto(path);
    await expect(page.getByRole("heading", { name: title, level: 1 })).toBeVisible();
    await expect(page.getByRole("status")).toHaveCount(0); // loaded
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${path} scrolls sideways`).toBeLessThanOrEqual(0);
  }
  await page.goto("/workers");
  await expect(page.getByRole("row").nth(1)).toBeVisible();
  await shot(page, "workers-dark-1280");
  await page.goto("/access/identities");
  await expect(page.getByRole("row").nth(1)).toBeVisible();
  await shot(page, "access-identities-dark-1280");
  await page.getByRole("button", { name: "Switch to light mode" }).click();
});
