import { test, expect, request as pwRequest } from "@playwright/test";
import { expectAccessible, keepScreenshot } from "./helpers";
import { baseURL } from "../playwright.config";

// Signed in as admin (global setup).
test.describe("audit trail", () => {
  test("an admin reads the trail, filters it by a link, and downloads it as CSV", async ({ page }, testInfo) => {
    await page.goto("/audit");
    await expect(page.getByRole("heading", { name: "Audit trail", level: 1 })).toBeVisible();
    const table = page.getByTestId("audit");
    await expect(table).toBeVisible();
    // The global setup's sign-in is on it.
    await expect(table.getByRole("row").filter({ hasText: "login" }).first()).toBeVisible();
    await expect(page.getByTestId("audit-reach")).toHaveCount(0);
    await expectAccessible(page, testInfo, "audit");
    await keepScreenshot(page, testInfo, "audit");

    // Filter through the form: the URL carries the filter.
    await page.getByLabel("Action").selectOption("login");
    await page.getByLabel("Actor").fill("admin");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect(page).toHaveURL(/\/audit\?actor=admin&action=login/);
    const actions = await table.locator("tbody tr td:nth-child(3)").allInnerTexts();
    expect(actions.length).toBeGreaterThan(0);
    expect(new Set(actions)).toEqual(new Set(["login"]));
    await expect(page.getByLabel("Action")).toHaveValue("login");

    // The CSV holds the same records.
    const href = await page.getByRole("link", { name: "Download CSV" }).getAttribute("href");
    expect(href).toBe("/export/audit.csv?actor=admin&action=login");
    const res = await page.request.get(href!);
    expect(res.status()).toBe(200);
    const lines = (await res.text()).trim().split("\r\n");
    expect(lines[0]).toBe("id,time,actor,client,action,target,outcome,detail,request_id");
    expect(lines.length - 1).toBe(actions.length);

    // The export was itself recorded.
    await page.goto("/audit?action=audit.export");
    await expect(table.locator("tbody tr").first()).toContainText("actor=admin action=login");
  });

  test("a filter that does not parse says why and keeps what was typed", async ({ page }, testInfo) => {
    await page.goto("/audit");
    await page.getByLabel("From").fill("last tuesday");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect(page.getByRole("alert")).toContainText('From: "last tuesday" is not a time');
    await expect(page.getByLabel("From")).toHaveValue("last tuesday");
    await expectAccessible(page, testInfo, "audit-error");
    await page.goto("/audit?target=no-such-target-anywhere");
    await expect(page.getByTestId("audit-empty")).toContainText("Nothing in the trail matches these filters");
  });

  test("a scoped user sees their own records and their secrets' only", async ({ browser }, testInfo) => {
    const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
    const page = await context.newPage();
    await page.goto("/login");
    await page.getByLabel("Name").fill("payments");
    await page.getByLabel("Password").fill("demo-payments-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
    // A refused request of theirs lands in the trail.
    const forged = await pwRequest.newContext({ baseURL });
    const cookie = (await context.cookies()).find((c) => c.name === "secretscope_session")!;
    await forged.post("/api/get_secret", {
      headers: { Origin: baseURL, Cookie: `secretscope_session=${cookie.value}` },
      form: { id: "dev/shared/feature-flags", deprecated: "false" },
    });
    await forged.dispose();
    await page.getByRole("link", { name: "Audit" }).click();
    await expect(page.getByTestId("audit-reach")).toContainText("Admins see the whole trail");
    const actors = await page.getByTestId("audit").locator("tbody tr td:nth-child(2)").allInnerTexts();
    expect(actors.length).toBeGreaterThan(0);
    expect(new Set(actors)).toEqual(new Set(["payments"]));
    await expectAccessible(page, testInfo, "audit-scoped");
    await context.close();
  });
});
