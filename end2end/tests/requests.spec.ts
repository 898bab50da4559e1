import { test, expect, Page } from "@playwright/test";
import { expectAccessible, keepScreenshot, signedIn, waitForHydration } from "./helpers";

const READER = "arn:aws:iam::123456789012:role/incident-reader";

/** A live secret whose access requests the demo's operator decides. */
async function decidedByOperator(page: Page): Promise<string> {
  const rows: { name: string; state: string }[] = await (await page.request.get("/export/secrets.json")).json();
  for (const r of rows.filter((r) => r.state !== "deleting" && !r.name.startsWith("prod/"))) {
    if ((await (await page.request.get(`/secret/${r.name}`)).text()).includes("operator (or an admin)")) return r.name;
  }
  throw new Error("no secret owned at example.com");
}

test.describe("access requests", () => {
  test("request, approve as owner, see it active, revoke", async ({ browser }, testInfo) => {
    const viewer = await signedIn(browser, "viewer");
    const name = await decidedByOperator(viewer);
    await viewer.goto(`/secret/${name}`);
    await waitForHydration(viewer);
    const access = viewer.getByTestId("access");
    await expect(access).toContainText("decided by operator (or an admin)");
    await access.locator("summary").click();
    const form = viewer.getByTestId("request-form");

    // Bad input: a clear error, and what was typed stays.
    await form.getByLabel("IAM principal that needs to read it").fill("arn:aws:iam::123:role/x");
    await form.getByLabel("Why (the owner reads this)").fill("Debugging INC-4242: the worker cannot connect");
    await form.getByRole("button", { name: "Request access" }).click();
    await expect(form.getByRole("alert")).toContainText("is not an IAM principal ARN");
    await expect(form.getByLabel("Why (the owner reads this)")).toHaveValue("Debugging INC-4242: the worker cannot connect");

    await form.getByLabel("IAM principal that needs to read it").fill(READER);
    await form.getByLabel("For how long").selectOption("1d");
    await expectAccessible(viewer, testInfo, "request-form");
    await form.getByRole("button", { name: "Request access" }).click();
    const made = viewer.getByTestId("request-made");
    await expect(made).toContainText("it is decided by operator");
    const id = (await made.innerText()).match(/Request (\d+)/)![1];

    // The owner decides, seeing the policy change first.
    const operator = await signedIn(browser, "operator");
    await operator.goto("/requests");
    await waitForHydration(operator);
    await expectAccessible(operator, testInfo, "requests-inbox");
    const row = operator.getByTestId("inbox").locator(`tr[data-id="${id}"]`);
    await expect(row).toContainText(READER);
    await row.getByRole("button", { name: `Approve request ${id}` }).click();
    const dialog = operator.getByRole("dialog", { name: `Approve request ${id} for ${name}` });
    // The decider sees the justification, the secret's ARN, account and region.
    await expect(dialog.getByTestId("request-why")).toHaveText("Debugging INC-4242: the worker cannot connect");
    await expect(dialog.getByTestId("request-facts")).toContainText(/account · region: \d{12} · [a-z]+-[a-z]+-\d/);
    const diff = dialog.getByTestId("policy-diff");
    await expect(diff).toContainText(`"Sid": "secretscope-access-${id}"`);
    await expect(diff).toContainText(READER);
    await dialog.getByLabel("Grant for").selectOption("8h");
    await expect(dialog.getByText("Access ends")).toContainText("(8 hours)");
    await expectAccessible(operator, testInfo, "approve-dialog");
    await keepScreenshot(operator, testInfo, "approve-dialog");
    await dialog.getByRole("button", { name: "Approve" }).click();
    await expect(operator.getByTestId("request-done")).toContainText(`Request ${id} approved: the statement is in the secret's resource policy`);

    // The requester sees it active, and gives it up early.
    await viewer.goto("/requests");
    await waitForHydration(viewer);
    const mine = viewer.getByTestId("mine").locator(`tr[data-id="${id}"]`);
    await expect(mine).toHaveAttribute("data-status", "active");
    await expect(mine).toContainText("active: ends");
    await mine.getByRole("button", { name: `Revoke request ${id}` }).click();
    const revoke = viewer.getByRole("dialog", { name: `Revoke request ${id} for ${name}` });
    await expectAccessible(viewer, testInfo, "revoke-dialog");
    await revoke.getByRole("button", { name: "Revoke now" }).click();
    await expect(viewer.getByTestId("request-done")).toContainText(`Request ${id} revoked`);
    await expect(viewer.getByTestId("mine").locator(`tr[data-id="${id}"]`)).toHaveAttribute("data-status", "revoked");

    // Each step is on the audit trail.
    await operator.goto(`/audit?target=${encodeURIComponent(name)}`);
    for (const action of ["access.request", "access.decision", "access.grant", "access.revoke"]) {
      await expect(operator.getByTestId("audit").getByRole("link", { name: action, exact: true }).first()).toBeVisible();
    }
    await viewer.context().close();
    await operator.context().close();
  });

  test("the requester cannot approve their own request, and the free form finds secrets", async ({ browser }, testInfo) => {
    const operator = await signedIn(browser, "operator");
    await operator.goto("/requests/new");
    await waitForHydration(operator);
    await expectAccessible(operator, testInfo, "requests-new");
    const name = await decidedByOperator(operator);
    const form = operator.getByTestId("request-form");
    await form.getByLabel("Secret (name or ARN)").fill(name);
    // Each match is offered by its ARN (a name can exist in several accounts),
    // labelled with its name, account and region; picking one fills the ARN in.
    const option = operator.locator("#req-secrets option").first();
    await expect(option).toHaveAttribute("value", /^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:/);
    await expect(option).toContainText(`${name} — `);
    await form.getByLabel("Secret (name or ARN)").fill((await option.getAttribute("value"))!);
    await form.getByLabel("IAM principal that needs to read it").fill("arn:aws:iam::123456789012:role/own-request");
    await form.getByLabel("Why (the owner reads this)").fill("Checking the grant flow for the runbook");
    await form.getByRole("button", { name: "Request access" }).click();
    await expect(operator.getByTestId("request-made")).toBeVisible();
    const id = (await operator.getByTestId("request-made").innerText()).match(/Request (\d+)/)![1];
    await operator.goto("/requests");
    await waitForHydration(operator);
    // Not in their inbox, and no approve button on their own request.
    await expect(operator.getByTestId("inbox").locator(`tr[data-id="${id}"]`)).toHaveCount(0);
    const own = operator.getByTestId("mine").locator(`tr[data-id="${id}"]`);
    await expect(own).toHaveAttribute("data-status", "pending");
    await expect(own.getByRole("button", { name: /Approve/ })).toHaveCount(0);
    // An admin sees it and may decide it.
    const admin = await signedIn(browser, "admin");
    await admin.goto("/requests");
    await expect(admin.getByTestId("inbox").locator(`tr[data-id="${id}"]`).getByRole("button", { name: `Approve request ${id}` })).toBeVisible();
    await operator.context().close();
    await admin.context().close();
  });

  test("a decider denies with a reason, which the requester reads", async ({ browser }, testInfo) => {
    const viewer = await signedIn(browser, "viewer");
    const name = await decidedByOperator(viewer);
    await viewer.goto(`/secret/${name}`);
    await waitForHydration(viewer);
    const access = viewer.getByTestId("access");
    await access.locator("summary").click();
    const form = viewer.getByTestId("request-form");
    await form.getByLabel("IAM principal that needs to read it").fill("arn:aws:iam::123456789012:role/denied-reader");
    await form.getByLabel("Why (the owner reads this)").fill("Want to look around in production");
    await form.getByRole("button", { name: "Request access" }).click();
    const id = (await viewer.getByTestId("request-made").innerText()).match(/Request (\d+)/)![1];

    const operator = await signedIn(browser, "operator");
    await operator.goto("/requests");
    await waitForHydration(operator);
    await operator.getByTestId("inbox").locator(`tr[data-id="${id}"]`).getByRole("button", { name: `Deny request ${id}` }).click();
    const dialog = operator.getByRole("dialog", { name: `Deny request ${id} for ${name}` });
    const deny = dialog.getByRole("button", { name: "Deny" });
    await expect(deny).toBeDisabled(); // a reason is required
    await dialog.getByLabel(/Why not/).fill("Read-only access comes through the runbook role");
    await expectAccessible(operator, testInfo, "deny-dialog");
    await deny.click();
    await expect(operator.getByTestId("request-done")).toContainText(`Request ${id} denied`);

    await viewer.goto("/requests");
    const mine = viewer.getByTestId("mine").locator(`tr[data-id="${id}"]`);
    await expect(mine).toHaveAttribute("data-status", "denied");
    await expect(mine).toContainText("Read-only access comes through the runbook role");
    await viewer.context().close();
    await operator.context().close();
  });
  test("a 2-day request, an approver who shortens it, and over the maximum refused with nothing saved", async ({ browser }, testInfo) => {
    const viewer = await signedIn(browser, "viewer");
    const name = await decidedByOperator(viewer);
    await viewer.goto(`/secret/${name}`);
    await waitForHydration(viewer);
    await viewer.getByTestId("access").locator("summary").click();
    const form = viewer.getByTestId("request-form");
    const principal = form.getByLabel("IAM principal that needs to read it");

    // Over the maximum (1 week here): the error says the maximum; nothing is saved.
    const tooLong = "arn:aws:iam::123456789012:role/too-long-reader";
    await principal.fill(tooLong);
    await form.getByLabel("Why (the owner reads this)").fill("Quarter-end reconciliation");
    await form.getByLabel("For how long").selectOption("other");
    await form.getByLabel("How many").fill("8");
    await form.getByLabel("Unit").selectOption("days");
    await form.getByRole("button", { name: "Request access" }).click();
    await expect(form.getByRole("alert")).toContainText("longer than the most access may last here (1 week)");

    // Two days: any number of hours or days, not only the quick picks.
    const reader = "arn:aws:iam::123456789012:role/two-day-reader";
    await principal.fill(reader);
    await form.getByLabel("How many").fill("2");
    await expectAccessible(viewer, testInfo, "request-form-other-duration");
    await form.getByRole("button", { name: "Request access" }).click();
    const made = viewer.getByTestId("request-made");
    await expect(made).toBeVisible();
    const id = (await made.innerText()).match(/Request (\d+)/)![1];
    await viewer.goto("/requests");
    await waitForHydration(viewer);
    const mine = viewer.getByTestId("mine");
    await expect(mine.locator(`tr[data-id="${id}"]`)).toContainText("2 days");
    await expect(mine).not.toContainText(tooLong);

    // The approver grants less than asked, never more.
    const operator = await signedIn(browser, "operator");
    await operator.goto("/requests");
    await waitForHydration(operator);
    await operator.getByTestId("inbox").locator(`tr[data-id="${id}"]`).getByRole("button", { name: `Approve request ${id}` }).click();
    const dialog = operator.getByRole("dialog", { name: `Approve request ${id} for ${name}` });
    await expect(dialog.getByText("Access ends")).toContainText("(2 days)");
    await dialog.getByLabel("Grant for").selectOption("other");
    await dialog.getByLabel("How many").fill("3");
    await expect(dialog.getByRole("alert")).toContainText("longer than was asked for (2 days)");
    await expect(dialog.getByRole("button", { name: "Approve" })).toBeDisabled();
    await dialog.getByLabel("How many").fill("36");
    await dialog.getByLabel("Unit").selectOption("hours");
    await expect(dialog.getByText("Access ends")).toContainText("(36 hours)");
    await expectAccessible(operator, testInfo, "approve-shorter");
    await dialog.getByRole("button", { name: "Approve" }).click();
    await expect(operator.getByTestId("request-done")).toContainText(`Request ${id} approved`);
    await viewer.goto("/requests");
    await expect(viewer.getByTestId("mine").locator(`tr[data-id="${id}"]`)).toContainText("36 hours");
    await viewer.context().close();
    await operator.context().close();
  });
});
