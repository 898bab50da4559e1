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
