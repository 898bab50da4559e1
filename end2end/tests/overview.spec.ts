import { test, expect, Page } from "@playwright/test";
import { expectAccessible } from "./helpers";

// The overview's numbers reconciled: what each counts, said on the page;
// folder rows that add up to the total; one secret count on the header, the
// overview and /sources; the calendar's months.

const num = (s: string) => Number(s.replace(/[^\d]/g, ""));

async function total(page: Page): Promise<number> {
  const lead = await page.locator("p.lead").innerText();
  return Number(lead.match(/^(\d+) secrets;/)![1]);
}

async function noSideways(page: Page) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  expect(scroll, "the page does not scroll sideways").toBeLessThanOrEqual(client);
}

test.describe("overview", () => {
  test("says what failed, overdue and due count, and how they overlap", async ({ page }, testInfo) => {
    await page.goto("/");
    const defs = page.getByTestId("count-defs");
    await expect(defs.getByRole("heading")).toHaveText("What failed, overdue and due count");
    await expect(defs.locator("dt")).toHaveText([/^Failed \d+$/, /^Overdue \d+$/, /^Already due \d+$/]);
    await expect(defs.locator("dd").nth(0)).toContainText("AWSPENDING");
    await expect(defs.locator("dd").nth(1)).toContainText("counted as failed, not overdue");
    // The due ones split into failed, overdue and still within their window.
    const due = num(await defs.locator("dt").nth(2).innerText());
    const overlap = await page.getByTestId("due-overlap").innerText();
    const [, f, o, rest] = overlap.match(/Of these, (\d+) are also failed and (\d+) overdue; the other (\d+) are still within their window/)!;
    expect(Number(f) + Number(o) + Number(rest)).toBe(due);
    expect(Number(f)).toBeLessThanOrEqual(num(await defs.locator("dt").nth(0).innerText()));
    expect(Number(o)).toBeLessThanOrEqual(num(await defs.locator("dt").nth(1).innerText()));
    // The same figures as the rules table.
    const ruleRow = (title: string) => page.getByTestId("by-rule").locator("tbody tr").filter({ has: page.getByRole("rowheader", { name: title, exact: true }) });
    expect(num(await ruleRow("Rotation failed").locator("td.num").first().innerText())).toBe(num(await defs.locator("dt").nth(0).innerText()));
    expect(num(await ruleRow("Rotation overdue").locator("td.num").first().innerText())).toBe(num(await defs.locator("dt").nth(1).innerText()));
    await expectAccessible(page, testInfo, "overview-defs");
  });

  test("the folder rows and the secrets outside any folder add up to the total", async ({ page }) => {
    await page.goto("/");
    const n = await total(page);
    const rows = page.getByTestId("by-path").locator("tbody tr");
    const totals = await rows.evaluateAll((trs) => trs.map((tr) => Number((tr.querySelector("td.num") as HTMLElement).innerText)));
    expect(totals.reduce((a, b) => a + b, 0)).toBe(n);
    const outside = rows.filter({ has: page.getByRole("rowheader", { name: "outside any folder" }) });
    await expect(outside).toHaveCount(1);
    const outsideN = Number(await outside.locator("td.num").first().innerText());
    expect(outsideN).toBeGreaterThan(0);
    // Its number opens the list of exactly those secrets.
    await outside.locator("td.num a").first().click();
    await expect(page.getByTestId("result-count")).toContainText(` of ${outsideN} `);
    await expect(page.getByLabel("Search", { exact: true })).toHaveValue("-name:*/*");
  });

  test("the header, the overview and /sources count the same secrets, and say what they leave out", async ({ page }, testInfo) => {
    await page.goto("/");
    const n = await total(page);
    await expect(page.getByTestId("sync-status")).toContainText(`· ${n} secrets`);
    const note = page.getByTestId("total-note");
    await expect(note).toContainText("scheduled for deletion");
    await expect(note).toContainText("replicas in other regions are counted once");
    await expect(note).toContainText("Not counted: the secrets of legacy/ap-southeast-2");
    await page.goto("/sources");
    await expect(page.getByTestId("sources-summary")).toContainText(`· ${n} secrets`);
    // Each source's own count includes the replicas it lists.
    const perSource = await page
      .getByTestId("sources")
      .locator("tbody tr")
      .evaluateAll((trs) => trs.map((tr) => Number((tr.querySelectorAll("td")[5] as HTMLElement).innerText) || 0));
    const listed = perSource.reduce((a, b) => a + b, 0);
    const reconcile = await page.getByTestId("sources-reconcile").innerText();
    const [, l, s, r] = reconcile.match(/The sources listed (\d+) secrets: (\d+) secrets and (\d+) replicas/)!;
    expect(Number(l)).toBe(listed);
    expect(Number(s)).toBe(n);
    expect(Number(s) + Number(r)).toBe(listed);
    await expect(page.getByTestId("sources-reconcile")).toContainText("never read");
    await expectAccessible(page, testInfo, "sources-reconciled");
  });

  test("the rotation calendar names its months", async ({ page }, testInfo) => {
    await page.goto("/");
    const months = page.getByTestId("upcoming").getByTestId("month");
    expect(await months.count()).toBeGreaterThanOrEqual(1);
    for (const m of await months.allTextContents()) expect(m).toMatch(/^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)$/);
    // Today's month first; a second month starts on a 1st.
    const first = new Date(Date.parse((await page.getByTestId("upcoming").locator(":scope > a, :scope > g").first().getAttribute("aria-label"))!.slice(0, 10)));
    await expect(months.first()).toHaveText(first.toLocaleString("en", { month: "short", timeZone: "UTC" }));
    await expectAccessible(page, testInfo, "overview");
  });

  test("at 390x844 the overview and /sources do not scroll sideways", async ({ page }, testInfo) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto("/");
    await expect(page.getByTestId("count-defs")).toBeVisible();
    await noSideways(page);
    await expectAccessible(page, testInfo, "overview-phone");
    await page.goto("/sources");
    await noSideways(page);
  });
});
