import { test, expect, request as pwRequest, Browser, Page } from "@playwright/test";
import { expectAccessible, keepScreenshot, waitForHydration } from "./helpers";
import { baseURL } from "../playwright.config";

type Row = { name: string; state: string; rotation_lambda: string };

async function signedIn(browser: Browser, name: string): Promise<Page> {
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await page.goto("/login");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Password").fill(`demo-${name}-password`);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
  return page;
}

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

  test("on-call rotates an overdue secret that then succeeds, and cancels a rotation that keeps failing", async ({ browser }, testInfo) => {
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
    // Requested and done, on the trail.
    await page.goto(`/audit?action=secret.cancel-rotation&target=${encodeURIComponent(brokenName)}`);
    await expect(page.getByTestId("audit").locator("tbody tr")).toHaveCount(2);
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
