import { test, expect } from "@playwright/test";
import { expectAccessible, waitForHydration } from "./helpers";

// The keyboard shortcuts (src/app/components/keys.rs), as a keyboard-only
// user meets them: / to search, j/k through the rows, Enter to open, ? for
// the list; none of them while typing.

test("/ focuses the search, j and k move through the rows, Enter opens one", async ({ page }, testInfo) => {
  await page.goto("/secrets");
  await waitForHydration(page);
  await page.locator("body").press("/");
  const search = page.locator("main input[type=search]");
  await expect(search).toBeFocused();
  // Typed into the field, the letters are text, not shortcuts.
  await search.press("j");
  await search.press("k");
  await search.press("?");
  await expect(search).toHaveValue("jk?");
  await expect(page.locator("section.shortcuts")).toBeHidden();
  await search.fill("");
  await search.blur();

  const links = page.locator("main [data-row] a[href], main tbody tr a[href]");
  const rowLink = async (i: number) => {
    // The row's first link is the one that takes the focus.
    const rows = page.locator("main [data-row], main tbody tr:has(a[href])");
    return rows.nth(i).locator("a[href]").first();
  };
  expect(await links.count()).toBeGreaterThan(2);
  await page.keyboard.press("j");
  await expect(await rowLink(0)).toBeFocused();
  await page.keyboard.press("j");
  await expect(await rowLink(1)).toBeFocused();
  await page.keyboard.press("k");
  await expect(await rowLink(0)).toBeFocused();
  // With Ctrl (a browser shortcut), j does nothing here.
  await page.keyboard.press("Control+j");
  await expect(await rowLink(0)).toBeFocused();
  const href = await (await rowLink(0)).getAttribute("href");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(href!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "$"));
  await waitForHydration(page);
  await expectAccessible(page, testInfo, "after-enter");
});

test("? lists the shortcuts, Escape closes the list and gives the focus back", async ({ page }, testInfo) => {
  await page.goto("/secrets");
  await waitForHydration(page);
  await page.keyboard.press("j");
  const focusedBefore = await page.evaluate(() => document.activeElement?.getAttribute("href"));
  await page.keyboard.press("?");
  const list = page.getByRole("region", { name: "Keyboard shortcuts" });
  await expect(list).toBeVisible();
  await expect(list).toBeFocused();
  await expect(list).toContainText("Focus the search");
  await expectAccessible(page, testInfo, "shortcuts-open");
  await page.keyboard.press("Escape");
  await expect(list).toBeHidden();
  expect(await page.evaluate(() => document.activeElement?.getAttribute("href"))).toBe(focusedBefore);
});

test("j moves through the on-call queue too", async ({ page }) => {
  await page.goto("/oncall?refresh=0");
  await waitForHydration(page);
  await page.keyboard.press("j");
  const focused = page.locator(":focus");
  await expect(focused).toHaveAttribute("href", /.+/);
  // The focused link is inside the first row or incident of the queue.
  expect(
    await focused.evaluate((el) => !!el.closest("main [data-row], main .incident, main tbody tr")),
  ).toBe(true);
});
