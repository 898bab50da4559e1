import { test, expect } from "@playwright/test";
import { expectAccessible, signedIn } from "./helpers";

// A scoped user (the demo's `payments`: operator on prefix:prod/payments/)
// is told that every page shows part of the inventory, which part and who
// set it; and hears nothing of a source whose role only an admin can fix.

test.describe("a scoped user", () => {
  test("sees the scope notice with its scope on the pages that count", async ({ browser }, testInfo) => {
    const page = await signedIn(browser, "payments");
    for (const path of ["/", "/secrets", "/oncall?refresh=0"]) {
      await page.goto(path);
      const notice = page.getByTestId("scope-notice");
      await expect(notice, path).toContainText("Limited view");
      await expect(notice).toContainText("prefix:prod/payments/");
      await expect(notice).toContainText("an admin configured");
      await expect(notice).toContainText("not the whole organisation");
      await expectAccessible(page, testInfo, `scoped-${path.replace(/\W+/g, "-")}`);
    }
    // The overview's total is the scope's, and the notice stands beside it.
    await page.goto("/");
    const lead = await page.locator("p.lead").innerText();
    expect(Number(lead.match(/^(\d+) secrets;/)![1])).toBeLessThan(50);
    // No sources it cannot see counted as left out.
    await expect(page.getByTestId("total-note")).not.toContainText("legacy");
    await page.context().close();
  });

  test("is not shown the banner about the legacy account's role; an admin is", async ({ browser }) => {
    const page = await signedIn(browser, "payments");
    for (const path of ["/", "/secrets", "/oncall?refresh=0", "/requests"]) {
      await page.goto(path);
      await expect(page.getByTestId("failing-sources"), path).toHaveCount(0);
      const text = await page.locator("body").innerText();
      expect(text, path).not.toContain("legacy");
      expect(text, path).not.toContain("AssumeRole");
      expect(text, path).not.toContain("role/secretscope-read");
    }
    await page.context().close();
    const admin = await signedIn(browser, "admin");
    await expect(admin.getByTestId("failing-sources")).toContainText("legacy/ap-southeast-2");
    await expect(admin.getByTestId("scope-notice")).toHaveCount(0);
    await admin.context().close();
  });
});
