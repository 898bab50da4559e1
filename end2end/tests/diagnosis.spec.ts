import { test, expect, Page } from "@playwright/test";
import { expectAccessible, keepScreenshot, signedIn, waitForHydration } from "./helpers";
import { baseURL } from "../playwright.config";

type Row = { name: string; arn: string; state: string; rotation_lambda: string };

async function secrets(page: Page): Promise<Row[]> {
  return (await page.request.get("/export/secrets.json")).json();
}

/** The diagnosis the server makes of `id` (a name or ARN). */
async function diagnosisOf(page: Page, id: string) {
  const res = await page.request.post("/api/get_diagnosis", {
    form: { id },
    headers: { Origin: baseURL },
  });
  expect(res.status()).toBe(200);
  return res.json();
}

test.describe("rotation diagnosis", () => {
  test("on-call sees failures grouped into incidents, opens one and reads its cause and fix", async ({ page }, testInfo) => {
    await page.goto("/oncall?refresh=0");
    await waitForHydration(page);
    const incidents = page.getByTestId("incidents");
    await expect(incidents).toBeVisible();
    // The background pass may still be diagnosing the last few: refresh until it is done.
    for (let i = 0; i < 30 && (await incidents.getByText("still being diagnosed").count()); i++) {
      await page.waitForTimeout(2000);
      await page.getByRole("button", { name: "Refresh now" }).click();
    }
    await expect(incidents.getByText("still being diagnosed")).toHaveCount(0);
    const items = incidents.locator("li.cause-group");
    const n = await items.count();
    expect(n).toBeGreaterThan(1);
    const counts = await items.evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-count"))));
    const queued = await page.locator('[data-testid="oncall"] tbody tr').count();
    // Every failure (and overdue rotation with a cause) is in one incident; shared causes are grouped.
    expect(counts.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(queued);
    expect(n).toBeLessThan(counts.reduce((a, b) => a + b, 0));
    expect(counts[0]).toBeGreaterThanOrEqual(counts[n - 1]);
    // A named cause with its fix.
    const named = items.filter({ has: page.locator("p.fix") }).first();
    await expect(named.locator("summary")).toContainText("secret");
    await expectAccessible(page, testInfo, "oncall-incidents");
    await keepScreenshot(page, testInfo, "oncall-incidents");

    await named.locator("summary").click();
    const link = named.locator("details li a").first();
    await expect(link).toBeVisible();
    await link.click();
    await waitForHydration(page);
    const panel = page.getByTestId("diagnosis");
    await expect(panel.getByRole("heading", { name: /Why the rotation fails|Rotation checks/ })).toBeVisible();
    const failed = panel.locator('li.check[data-status="failed"]').first();
    await expect(failed).toBeVisible();
    await expect(failed.locator("p.fix")).toContainText("Fix:");
    await expect(panel.getByTestId("strategy")).toBeVisible();
    await expectAccessible(page, testInfo, "secret-diagnosis");
    await keepScreenshot(page, testInfo, "secret-diagnosis");
  });

  test("cause: finds the secrets whose diagnosis found that cause", async ({ page }) => {
    await page.goto("/secrets?q=cause%3Aany");
    await waitForHydration(page);
    const rows = page.locator("table.inventory tbody tr");
    await expect(rows.first()).toBeVisible();
    await page.goto("/secrets?q=cause%3Anetwrk");
    await expect(page.getByText(/did you mean network/)).toBeVisible();
  });

  test("Roll back on a single-user secret warns and says what to do instead", async ({ browser }, testInfo) => {
    const page = await signedIn(browser, "operator");
    const candidates = (await secrets(page)).filter(
      (r) => r.state === "ok" && (r.rotation_lambda || "").includes("-ok-"),
    );
    let name = "";
    for (const r of candidates.slice(0, 40)) {
      const d = await diagnosisOf(page, r.arn);
      if (d.diagnosis.strategy.kind !== "SingleUser") continue;
      await page.goto(`/secret/${r.name}`);
      await waitForHydration(page);
      if (await page.getByRole("button", { name: "Roll back" }).count()) {
        name = r.name;
        break;
      }
    }
    expect(name).not.toBe("");
    await expect(page.getByTestId("strategy")).toHaveAttribute("data-strategy", "SingleUser");
    await page.getByRole("button", { name: "Roll back" }).click();
    const dialog = page.getByRole("dialog");
    const warning = dialog.getByTestId("rollback-warning");
    await expect(warning).toContainText("Single-user rotation");
    await expect(warning).toContainText("retry the rotation");
    await expectAccessible(page, testInfo, "rollback-single-user");
    await keepScreenshot(page, testInfo, "rollback-single-user");
    await page.keyboard.press("Escape");
    await expect(dialog).toHaveCount(0);
    await page.context().close();
  });
});
