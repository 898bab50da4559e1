import { test, expect, request as pwRequest, Page, Locator, TestInfo } from "@playwright/test";
import { expectAccessible, keepScreenshot, signedIn, waitForHydration } from "./helpers";
import { baseURL } from "../playwright.config";

type Row = { name: string; state: string; rotation_lambda: string };

async function secrets(page: Page): Promise<Row[]> {
  return (await page.request.get("/export/secrets.json")).json();
}

async function open(page: Page, name: string) {
  await page.goto(`/secret/${name}`);
  await waitForHydration(page);
}

/** Types the name when the dialog asks for it, then confirms. */
async function confirmDialog(page: Page) {
  const dialog = page.getByRole("dialog");
  await expect(dialog.locator("ol.effects")).toBeVisible();
  const typed = dialog.getByLabel(/Type .* to confirm/);
  if (await typed.count()) {
    const name = (await dialog.locator("code").first().innerText()).trim();
    await typed.fill(name);
  }
  await dialog.locator("button.danger").click();
}

/** Opens `label`'s dialog on `row` and confirms it (axe-checked when `axe` is given). */
async function act(page: Page, row: Locator, label: RegExp, testInfo: TestInfo, axe?: string) {
  await waitForHydration(page);
  await row.getByRole("button", { name: label }).click();
  await expect(page.getByRole("dialog").locator("ol.effects")).toBeVisible();
  if (axe) await expectAccessible(page, testInfo, axe);
  await confirmDialog(page);
}

test.describe("actions", () => {
  test("an operator restores a deleted secret through the dialog", async ({ browser }, testInfo) => {
    const page = await signedIn(browser, "operator");
    const row = (await secrets(page)).find((r) => r.state === "deleting" && !r.name.startsWith("prod/"))!;
    await open(page, row.name);
    await page.getByRole("button", { name: "Restore" }).click();
    const dialog = page.getByRole("dialog", { name: `Restore ${row.name}` });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByRole("listitem").first()).toContainText(`The scheduled deletion of ${row.name} is cancelled`);
    await expectAccessible(page, testInfo, "restore-dialog");
    await keepScreenshot(page, testInfo, "restore-dialog");
    await dialog.getByRole("button", { name: "Restore" }).click();
    await expect(page.getByTestId("action-done")).toContainText("Restored");
    await expect(page.locator(".detail-head .state")).not.toHaveText("deleting");
    // It is on the audit trail, before and after.
    await page.goto(`/audit?action=secret.restore&target=${encodeURIComponent(row.name)}`);
    await expect(page.getByTestId("audit").locator("tbody tr")).toHaveCount(2);
    await page.context().close();
  });

  test("a production rollback asks for the name, and Escape closes without acting", async ({ browser }, testInfo) => {
    const page = await signedIn(browser, "operator");
    const rows = await secrets(page);
    let name = "";
    for (const r of rows.filter((r) => r.name.startsWith("prod/") && r.state !== "deleting")) {
      await open(page, r.name);
      if (await page.getByRole("button", { name: "Roll back" }).count()) {
        name = r.name;
        break;
      }
    }
    expect(name).not.toBe("");
    await page.getByRole("button", { name: "Roll back" }).click();
    let dialog = page.getByRole("dialog");
    await expect(dialog.getByText("AWSCURRENT moves from version")).toBeVisible();
    await page.keyboard.press("Escape");
    await expect(dialog).toHaveCount(0);

    await page.getByRole("button", { name: "Roll back" }).click();
    dialog = page.getByRole("dialog");
    const confirm = dialog.getByRole("button", { name: "Roll back" });
    await expect(confirm).toBeDisabled();
    await dialog.getByLabel(/Type .* to confirm/).fill(name.slice(0, -1));
    await expect(confirm).toBeDisabled();
    await dialog.getByLabel(/Type .* to confirm/).fill(name);
    await expect(confirm).toBeEnabled();
    await expectAccessible(page, testInfo, "rollback-dialog");
    await confirm.click();
    await expect(page.getByTestId("action-done")).toContainText("Rolled back");
    await page.context().close();
  });

  test("a rollback can go to a version the operator picks", async ({ browser }, testInfo) => {
    const page = await signedIn(browser, "operator");
    // The seed keeps a third labelled version on some secrets (`v2-migration`).
    let name = "";
    for (const r of (await secrets(page)).filter((r) => !r.name.startsWith("prod/") && r.state !== "deleting")) {
      if ((await (await page.request.get(`/secret/${r.name}`)).text()).includes("v2-migration")) {
        name = r.name;
        break;
      }
    }
    expect(name).not.toBe("");
    await open(page, name);
    await page.getByRole("button", { name: "Roll back" }).click();
    const dialog = page.getByRole("dialog");
    const picker = dialog.getByLabel("Roll back to");
    await expect(picker).toBeVisible();
    const options = await picker.locator("option").allInnerTexts();
    expect(options[0]).toContain("AWSPREVIOUS");
    const target = options.findIndex((o) => o.includes("v2-migration"));
    expect(target).toBeGreaterThan(0);
    const version = options[target].split(" ")[0];
    await picker.selectOption({ index: target });
    await expect(dialog.getByRole("listitem").first()).toContainText(`to version ${version}`);
    await expect(picker).toBeFocused();
    await expectAccessible(page, testInfo, "rollback-picker");
    await dialog.getByRole("button", { name: "Roll back" }).click();
    await expect(page.getByTestId("action-done")).toContainText("Rolled back");
    const current = page.getByTestId("versions").locator("tbody tr").filter({ hasText: "AWSCURRENT" });
    await expect(current).toContainText(version);
    await page.context().close();
  });

  test("on-call rotates an overdue secret that then succeeds, cancels a failing one and brings it back, and rolls one back", async ({ browser }, testInfo) => {
    const page = await signedIn(browser, "operator");
    await page.goto("/oncall?refresh=0");
    await waitForHydration(page);
    const queue = page.getByTestId("oncall");
    const rowOf = (name: string) => queue.locator("tbody tr").filter({ has: page.getByRole("rowheader", { name }) });

    // An overdue rotation whose Lambda works: rotate now, and it leaves the queue.
    const ok = queue.locator("tr[data-problem=rotation-overdue]").filter({ hasText: "-ok-" }).first();
    const okName = (await ok.getByRole("rowheader").getByRole("link").innerText()).trim();
    await act(page, ok, /^Rotate now/, testInfo, "oncall-dialog");
    await expect(page.getByTestId("action-done")).toContainText("Rotation started");
    // The rotation is followed on the server; the queue drops it once the
    // new version is AWSCURRENT, and the outcome replaces the banner.
    await expect(page.getByTestId("action-done")).toHaveAttribute("data-outcome", "promoted", { timeout: 30_000 });
    await expect(async () => {
      await page.getByRole("button", { name: "Refresh now" }).click();
      await expect(rowOf(okName)).toHaveCount(0, { timeout: 1000 });
    }).toPass({ timeout: 45_000 });

    // A rotation whose Lambda always fails: cancel it. The dialog says that
    // AWSPENDING stays; the row stays in the queue (still failed).
    await waitForHydration(page);
    const broken = queue.locator("tr[data-problem=rotation-failed]").filter({ hasText: "-broken-" }).first();
    const brokenName = (await broken.getByRole("rowheader").getByRole("link").innerText()).trim();
    await broken.getByRole("button", { name: /^Cancel rotation/ }).click();
    await expect(page.getByRole("dialog").locator("ol.effects")).toContainText("AWSPENDING stays on version");
    await confirmDialog(page);
    await expect(page.getByTestId("action-done")).toContainText("Rotation cancelled");
    await expect(rowOf(brokenName)).toHaveCount(1);
    // Clear pending version: AWSPENDING goes, and with it the failure.
    await waitForHydration(page);
    await act(page, rowOf(brokenName), /^Clear pending version/, testInfo, "clear-pending-dialog");
    await expect(page.getByTestId("action-done")).toContainText("AWSPENDING removed");
    await expect(rowOf(brokenName)).toHaveCount(0);
    // Turn rotation back on, from the secret's page, without rotating at once.
    await open(page, brokenName);
    await expect(page.getByRole("button", { name: "Rotate now" })).toBeVisible();
    await page.getByRole("button", { name: "Turn rotation back on" }).click();
    const dialog = page.getByRole("dialog");
    await expect(dialog.locator("ol.effects")).toContainText("turned on again with the Lambda");
    await expect(dialog.getByLabel(/Rotate at once/)).not.toBeChecked();
    await expectAccessible(page, testInfo, "enable-rotation-dialog");
    await confirmDialog(page);
    await expect(page.getByTestId("action-done")).toContainText("Automatic rotation is on again");
    await expect(page.locator("dt", { hasText: /^Rotation$/ }).locator("xpath=following-sibling::dd[1]")).toHaveText("enabled");

    // Another one's AWSCURRENT goes back to the version before it.
    await page.goto("/oncall?refresh=0");
    await waitForHydration(page);
    const back = queue.locator("tbody tr").filter({ has: page.getByRole("button", { name: /^Roll back/ }) }).first();
    const backName = (await back.getByRole("rowheader").getByRole("link").innerText()).trim();
    await act(page, back, /^Roll back/, testInfo);
    await expect(page.getByTestId("action-done")).toContainText("Rolled back");
    await page.goto(`/audit?action=secret.rollback&target=${encodeURIComponent(backName)}`);
    await expect(page.getByTestId("audit").locator("tbody tr")).toHaveCount(2);

    // Each is on the trail, requested and done.
    for (const action of ["secret.cancel-rotation", "secret.clear-pending", "secret.enable-rotation"]) {
      await page.goto(`/audit?action=${action}&target=${encodeURIComponent(brokenName)}`);
      await expect(page.getByTestId("audit").locator("tbody tr")).toHaveCount(2);
    }
    await page.context().close();
  });

  test("on-call retries a failed rotation whose Lambda was fixed, and it is promoted on the first try", async ({ browser }, testInfo) => {
    const page = await signedIn(browser, "operator");
    await page.goto("/oncall?refresh=0");
    await waitForHydration(page);
    const queue = page.getByTestId("oncall");
    // Stuck after its Lambda timed out; the Lambda works now.
    const row = queue.locator("tr[data-problem=rotation-failed]").filter({ hasText: "-ok-" }).first();
    const name = (await row.getByRole("rowheader").getByRole("link").innerText()).trim();
    // The pending version is in the row's closed "What happened" details: read its text.
    const pending = ((await row.locator("code.vid").textContent()) ?? "").trim();
    await row.getByRole("button", { name: /^Retry rotation/ }).click();
    await expect(page.getByRole("dialog").getByRole("listitem").first()).toContainText(`AWSPENDING is removed from version ${pending}`);
    await confirmDialog(page);
    const progress = page.getByTestId("rotation-progress");
    await expect(progress).toHaveAttribute("data-stage", "promoted", { timeout: 30_000 });
    await expect(page.getByTestId("action-done")).toHaveAttribute("data-outcome", "promoted");
    await expect(page.getByTestId("action-done")).toContainText("Rotation finished.");
    await expectAccessible(page, testInfo, "retry-promoted");
    await page.goto("/oncall?refresh=0");
    await expect(queue.locator("tbody tr").filter({ has: page.getByRole("rowheader", { name }) })).toHaveCount(0);
    // The version it left is deprecated: the secret's page lists it only on request.
    await open(page, name);
    await expect(page.getByTestId("versions")).not.toContainText(pending);
    await page.context().close();
  });

  test("on-call retries a failed rotation; a retry that fails again stays in the queue with its attempt; the next is promoted", async ({ browser }, testInfo) => {
    // Many pages in a row: on a loaded 2-core machine it has run close to the default 60 s.
    test.slow();
    const page = await signedIn(browser, "operator");
    await page.goto("/oncall?refresh=0");
    await waitForHydration(page);
    const queue = page.getByTestId("oncall");
    // A Lambda that fails its next invocation and works after that; the
    // seed left AWSPENDING on a version from an earlier failure.
    const first = queue.locator("tr[data-problem=rotation-failed]").filter({ hasText: "-flaky-" }).first();
    const name = (await first.getByRole("rowheader").getByRole("link").innerText()).trim();
    const rowOf = () => queue.locator("tbody tr").filter({ has: page.getByRole("rowheader", { name }) });
    const progress = page.getByTestId("rotation-progress");
    const banner = page.getByTestId("action-done");

    // Rotate now is not offered over the leftover AWSPENDING: Secrets
    // Manager would refuse it. Retry rotation is.
    await expect(rowOf().getByRole("button", { name: /^Rotate now/ })).toHaveCount(0);
    await rowOf().getByRole("button", { name: /^Retry rotation/ }).click();
    const dialog = page.getByRole("dialog");
    await expect(dialog.getByRole("listitem").first()).toContainText("AWSPENDING is removed from version");
    await expect(dialog.getByRole("listitem").first()).toContainText("deprecated");
    await expectAccessible(page, testInfo, "retry-dialog");
    await keepScreenshot(page, testInfo, "retry-dialog");
    await confirmDialog(page);
    await expect(progress.getByRole("heading")).toHaveText(`Rotation of ${name}`);
    await expect(progress.getByRole("listitem").first()).toContainText("created with AWSPENDING");
    // The server follows it and CloudTrail's RotationFailed ends it; the
    // outcome replaces the "started" banner.
    await expect(progress).toHaveAttribute("data-stage", "failed", { timeout: 30_000 });
    await expect(banner).toHaveAttribute("data-outcome", "failed");
    await expect(banner).toContainText("Rotation failed.");
    await expect(banner).not.toContainText("Rotation started");
    await expect(progress.getByRole("listitem").last()).toContainText("failed at setSecret: Task timed out");
    await expect(progress.getByRole("listitem").last()).toContainText("The database or service refused");
    await expectAccessible(page, testInfo, "rotation-failed-progress");
    await keepScreenshot(page, testInfo, "rotation-failed-progress");

    // The failed retry stays in the queue, however young its AWSPENDING.
    await page.goto("/oncall?refresh=0");
    await waitForHydration(page);
    await expect(rowOf()).toHaveAttribute("data-problem", "rotation-failed");
    expect(Number(await rowOf().getAttribute("data-attempt"))).toBeGreaterThanOrEqual(2);
    await expect(rowOf()).toContainText(/Retry failed at setSecret, attempt \d+/);
    await expect(rowOf()).toHaveAttribute("data-step", "setSecret");

    // Retry again: this time the Lambda works and the version is promoted.
    await act(page, rowOf(), /^Retry rotation/, testInfo);
    await expect(progress).toHaveAttribute("data-stage", "promoted", { timeout: 30_000 });
    await expect(banner).toHaveAttribute("data-outcome", "promoted");
    await expect(progress.getByRole("listitem").last()).toContainText("holds AWSCURRENT");
    await keepScreenshot(page, testInfo, "rotation-promoted-progress");
    await page.goto("/oncall?refresh=0");
    await expect(rowOf()).toHaveCount(0);
    // Both calls of each retry are on the trail.
    await page.goto(`/audit?action=secret.retry-rotation&target=${encodeURIComponent(name)}`);
    await expect(page.getByTestId("audit").locator("tbody tr").filter({ hasText: "called UpdateSecretVersionStage" })).toHaveCount(2);
    await expect(page.getByTestId("audit").locator("tbody tr").filter({ hasText: "called RotateSecret" })).toHaveCount(2);
    await page.context().close();
  });

  test("each failed step shows its own guidance on the queue and the secret's page", async ({ browser }, testInfo) => {
    const page = await signedIn(browser, "viewer");
    await page.goto("/oncall?refresh=0");
    await waitForHydration(page);
    const queue = page.getByTestId("oncall");
    const guidance: Record<string, RegExp> = {
      createSecret: /could not reach Secrets Manager/,
      setSecret: /refused the change or could not be reached/,
      testSecret: /new credentials do not work/,
      finishSecret: /Moving the labels was refused/,
    };
    for (const [step, says] of Object.entries(guidance)) {
      const row = queue.locator(`tr[data-problem=rotation-failed][data-step=${step}]`).first();
      await expect(row, `a row failed at ${step}`).toHaveCount(1);
      await row.getByText(`What to check for ${step}`).click();
      await expect(row.getByTestId("step-guidance")).toContainText(says);
      if (step === "testSecret") {
        const name = (await row.getByRole("rowheader").getByRole("link").innerText()).trim();
        await expectAccessible(page, testInfo, "oncall-steps");
        await open(page, name);
        const box = page.getByTestId("rotation-failure");
        await expect(box).toHaveAttribute("data-step", "testSecret");
        await expect(box.getByTestId("step-guidance")).toContainText(says);
        await expectAccessible(page, testInfo, "secret-failure-step");
        await page.goto("/oncall?refresh=0");
        await waitForHydration(page);
      }
    }
    await page.context().close();
  });

  test("a viewer gets no action controls, and a forged action is refused", async ({ browser }) => {
    const page = await signedIn(browser, "viewer");
    const row = (await secrets(page)).find((r) => r.state === "deleting")!;
    await open(page, row.name);
    await expect(page.getByRole("heading", { name: "Actions" })).toHaveCount(0);
    await expect(page.getByRole("button", { name: /Rotate now|Roll back|Restore|Cancel rotation/ })).toHaveCount(0);
    const cookie = (await page.context().cookies()).find((c) => c.name === "secretscope_session")!;
    const forged = await pwRequest.newContext({ baseURL });
    const res = await forged.post("/api/restore_secret", {
      headers: { Origin: baseURL, Cookie: `secretscope_session=${cookie.value}` },
      form: { id: row.name, seen: "{}", typed_name: row.name, token: "" },
    });
    expect(res.status()).toBe(403);
    await forged.dispose();
    await page.reload();
    await expect(page.locator(".detail-head .state")).toHaveText("deleting");
    await page.context().close();
  });
});
