import { test, expect, request as pwRequest, Page } from "@playwright/test";
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

  test("on-call rotates an overdue secret that then succeeds, cancels a rotation that keeps failing, and rolls one back", async ({ browser }, testInfo) => {
    const page = await signedIn(browser, "operator");
    await page.goto("/oncall?refresh=0");
    await waitForHydration(page);
    const queue = page.getByTestId("oncall");
    const rowOf = (name: string) => queue.locator("tbody tr").filter({ has: page.getByRole("rowheader", { name }) });
    const act = async (row: import("@playwright/test").Locator, label: RegExp, testInfoLabel?: string) => {
      await row.getByRole("button", { name: label }).click();
      const dialog = page.getByRole("dialog");
      await expect(dialog.getByRole("list")).toBeVisible();
      const typed = dialog.getByLabel(/Type .* to confirm/);
      if (await typed.count()) {
        const name = (await dialog.locator("code").first().innerText()).trim();
        await typed.fill(name);
      }
      if (testInfoLabel) await expectAccessible(page, testInfo, testInfoLabel);
      await dialog.locator("button.danger").click();
    };

    // An overdue rotation whose Lambda works: rotate now, and it leaves the queue.
    const ok = queue.locator("tr[data-problem=rotation-overdue]").filter({ hasText: "-ok-" }).first();
    const okName = (await ok.getByRole("rowheader").getByRole("link").innerText()).trim();
    await act(ok, /^Rotate now/, "oncall-dialog");
    await expect(page.getByTestId("action-done")).toContainText("Rotation started");
    // The rotation is followed on the server; the queue drops it once the
    // new version is AWSCURRENT.
    await expect(async () => {
      await page.getByRole("button", { name: "Refresh now" }).click();
      await expect(rowOf(okName)).toHaveCount(0, { timeout: 1000 });
    }).toPass({ timeout: 45_000 });

    // A rotation whose Lambda always fails: cancel it.
    const broken = queue.locator("tr[data-problem=rotation-failed]").filter({ hasText: "-broken-" }).first();
    const brokenName = (await broken.getByRole("rowheader").getByRole("link").innerText()).trim();
    await act(broken, /^Cancel rotation/);
    await expect(page.getByTestId("action-done")).toContainText("Rotation cancelled");

    // Another one's AWSCURRENT goes back to the version before it.
    await waitForHydration(page);
    const back = queue.locator("tbody tr").filter({ has: page.getByRole("button", { name: /^Roll back/ }) }).first();
    const backName = (await back.getByRole("rowheader").getByRole("link").innerText()).trim();
    await act(back, /^Roll back/);
    await expect(page.getByTestId("action-done")).toContainText("Rolled back");

    // Each is on the trail, requested and done.
    for (const [action, target] of [["secret.cancel-rotation", brokenName], ["secret.rollback", backName]]) {
      await page.goto(`/audit?action=${action}&target=${encodeURIComponent(target)}`);
      await expect(page.getByTestId("audit").locator("tbody tr")).toHaveCount(2);
    }
    await page.context().close();
  });

  test("on-call retries a failed rotation, watches it fail, retries again and sees it promoted", async ({ browser }, testInfo) => {
    const page = await signedIn(browser, "operator");
    await page.goto("/oncall?refresh=0");
    await waitForHydration(page);
    const queue = page.getByTestId("oncall");
    // A Lambda that fails its next invocation and works after that.
    const row = () => queue.locator("tr[data-problem=rotation-failed]").filter({ hasText: "-flaky-" }).first();
    const name = (await row().getByRole("rowheader").getByRole("link").innerText()).trim();
    const rowOf = () => queue.locator("tbody tr").filter({ has: page.getByRole("rowheader", { name }) });
    const rotate = async () => {
      await waitForHydration(page);
      await rowOf().getByRole("button", { name: /^Rotate now/ }).click();
      const dialog = page.getByRole("dialog");
      await expect(dialog.getByRole("list")).toBeVisible();
      const typed = dialog.getByLabel(/Type .* to confirm/);
      if (await typed.count()) await typed.fill(name);
      await dialog.locator("button.danger").click();
    };
    const progress = page.getByTestId("rotation-progress");

    await rotate();
    await expect(page.getByTestId("action-done")).toContainText("Rotation started");
    await expect(progress.getByRole("heading")).toHaveText(`Rotation of ${name}`);
    await expect(progress.getByRole("listitem").first()).toContainText("created with AWSPENDING");
    // The server follows it and CloudTrail's RotationFailed ends it.
    await expect(progress).toHaveAttribute("data-stage", "failed", { timeout: 30_000 });
    await expect(progress.getByRole("listitem").last()).toContainText("failed at setSecret: Task timed out");
    await expectAccessible(page, testInfo, "rotation-failed-progress");
    await keepScreenshot(page, testInfo, "rotation-failed-progress");
    // The new AWSPENDING is within its grace, so the queue does not list it
    // yet: the progress links to the secret, where the retry is.
    await progress.getByRole("link", { name: `Open ${name} to retry or cancel the rotation` }).click();
    await waitForHydration(page);
    await expect(page.getByRole("heading", { level: 1 })).toContainText(name);
    await page.getByRole("button", { name: "Rotate now" }).click();
    const dialog = page.getByRole("dialog");
    await expect(dialog.getByRole("list")).toBeVisible();
    await dialog.getByRole("button", { name: "Rotate now" }).click();

    // The retry works: promoted, the page shows it, and the queue no longer has it.
    await expect(progress).toHaveAttribute("data-stage", "promoted", { timeout: 30_000 });
    await expect(progress.getByRole("listitem").last()).toContainText("holds AWSCURRENT");
    await keepScreenshot(page, testInfo, "rotation-promoted-progress");
    const version = (await progress.getByRole("listitem").last().innerText()).match(/version (\S+) holds AWSCURRENT/)![1];
    await progress.getByRole("button", { name: "Reload to see the new state" }).click();
    await expect(page.getByText(version).first()).toBeVisible();
    await page.goto("/oncall?refresh=0");
    await expect(rowOf()).toHaveCount(0);
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
