import { test, expect } from "@playwright/test";
import { expectAccessible, keepScreenshot, waitForHydration } from "./helpers";

test.describe("inventory list (JavaScript on)", () => {
  test("shows the seeded inventory, hydrates, searches and pages", async ({ page }, testInfo) => {
    await page.goto("/secrets");
    await waitForHydration(page);
    const table = page.getByTestId("inventory");
    await expect(table).toBeVisible();

    // The demo seeds 300 secrets; the first page shows 50 of them, by name.
    await expect(page.getByTestId("result-count")).toHaveText(/^1–50 of \d+ secrets$/);
    const count = Number((await page.getByTestId("result-count").innerText()).match(/of (\d+)/)![1]);
    expect(count).toBeGreaterThanOrEqual(250);
    const names = await table.locator("tbody th.name").allInnerTexts();
    expect(names.length).toBe(50);
    expect([...names].sort()).toEqual(names);

    // Sync age in the header.
    await expect(page.getByTestId("sync-status")).toContainText(/Synced .* ago · \d+ secrets/);
    await expectAccessible(page, testInfo, "inventory");
    await keepScreenshot(page, testInfo, "inventory");

    // Search narrows the list, updates the URL (shareable), and the state words are there.
    await page.getByLabel("Search").fill("prod/payments");
    await page.getByRole("button", { name: "Search" }).click();
    await expect(page).toHaveURL(/\?q=prod%2Fpayments|\?q=prod\/payments/);
    await expect(page.getByTestId("result-count")).toContainText("matching secrets");
    const found = await table.locator("tbody th.name").allInnerTexts();
    expect(found.length).toBeGreaterThan(0);
    for (const n of found) expect(n).toContain("prod/payments");
    await keepScreenshot(page, testInfo, "inventory-search");

    // A search with no result explains why and offers a way back.
    await page.getByLabel("Search").fill("no-such-secret-anywhere");
    await page.getByRole("button", { name: "Search" }).click();
    await expect(page.getByRole("heading", { name: "No secrets to show" })).toBeVisible();
    await page.getByRole("link", { name: "Clear the search" }).click();
    await expect(page.getByTestId("result-count")).toHaveText(/^1–50 of \d+ secrets$/);

    // Paging keeps going through the whole list.
    await page.getByRole("link", { name: "Next →" }).click();
    await expect(page).toHaveURL(/page=2/);
    await expect(page.getByTestId("result-count")).toHaveText(/^51–100 of \d+ secrets$/);
    const page2 = await table.locator("tbody th.name").allInnerTexts();
    expect(page2[0] > names[names.length - 1]).toBeTruthy();
  });

  test("an unknown address answers 404 with a way back", async ({ page }, testInfo) => {
    const resp = await page.goto("/no/such/page");
    expect(resp?.status()).toBe(404);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
    await expectAccessible(page, testInfo, "not-found");
  });
});

test.describe("inventory list (JavaScript off)", () => {
  test.use({ javaScriptEnabled: false });

  test("is complete, searchable and pageable without JavaScript", async ({ page }, testInfo) => {
    await page.goto("/secrets");
    const table = page.getByTestId("inventory");
    await expect(table.locator("tbody tr")).toHaveCount(50);
    await expect(page.getByTestId("sync-status")).toContainText(/Synced .* ago/);
    // Every row has a state word.
    const states = await table.locator("tbody .state").allInnerTexts();
    expect(states.length).toBe(50);
    for (const s of states) expect(["ok", "overdue", "stuck", "rotating", "no rotation", "deleting"]).toContain(s);

    // The search form is a plain GET form.
    await page.getByLabel("Search").fill("staging");
    await page.getByRole("button", { name: "Search" }).click();
    await expect(page).toHaveURL(/q=staging/);
    const found = await table.locator("tbody th.name").allInnerTexts();
    expect(found.length).toBeGreaterThan(0);
    await keepScreenshot(page, testInfo, "inventory-nojs");

    await page.goto("/secrets?page=2");
    await expect(page.getByTestId("result-count")).toHaveText(/^51–100 of \d+ secrets$/);
  });
});

test.describe("search language", () => {
  test("tag terms and negation filter; a syntax error is shown in place and filters nothing", async ({ page }, testInfo) => {
    await page.goto("/secrets?q=" + encodeURIComponent("tag:env=prod -tag:owner"));
    const table = page.getByTestId("inventory");
    await expect(page.getByTestId("result-count")).toContainText("matching secrets");
    const tags = await table.locator("tbody td.tags").allInnerTexts();
    expect(tags.length).toBeGreaterThan(0);
    for (const t of tags) {
      expect(t).toContain("env=prod");
      expect(t).not.toContain("owner=");
    }

    await page.goto("/secrets?q=" + encodeURIComponent("regoin:eu-west-1"));
    const err = page.getByTestId("query-error");
    await expect(err).toContainText("at character 1");
    await expect(err).toContainText("region");
    // Nothing is silently emptied: the whole inventory is listed.
    await expect(page.getByTestId("result-count")).toHaveText(/^1–50 of \d+ secrets$/);
    await expect(page.getByLabel("Search")).toHaveValue("regoin:eu-west-1");
    await expectAccessible(page, testInfo, "search-error");
    await keepScreenshot(page, testInfo, "search-error");
  });
});
