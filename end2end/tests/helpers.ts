import { Browser, Page, TestInfo, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

/** Fails on any serious or critical axe-core violation, listing them. */
export async function expectAccessible(page: Page, testInfo: TestInfo, label: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  await testInfo.attach(`axe-${label}.json`, {
    body: JSON.stringify(results.violations, null, 2),
    contentType: "application/json",
  });
  expect(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
  ).toEqual([]);
}

/** Keeps a full-page screenshot as a test artifact. */
export async function keepScreenshot(page: Page, testInfo: TestInfo, name: string) {
  const file = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: "image/png" });
}

/** Waits until the wasm bundle has hydrated the page. */
export async function waitForHydration(page: Page) {
  await page.locator("body[data-hydrated=true]").waitFor({ state: "attached", timeout: 30_000 });
}

/** A new browser context signed in as the demo user `name`. */
export async function signedIn(browser: Browser, name: string): Promise<Page> {
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await page.goto("/login");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Password").fill(`demo-${name}-password`);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
  return page;
}

/**
 * Waits until the server's version pass has dated every version: before
 * that, a pending rotation is dated from LastChangedDate, and the queue's
 * "since" and the overview's counts could move under a test.
 */
export async function waitForVersionDates(page: Page) {
  await expect
    .poll(
      async () => {
        const html = await (await page.request.get("/no/such/page")).text();
        return /Synced .* ago/.test(html) && !html.includes("fetching version dates");
      },
      { timeout: 60_000 },
    )
    .toBe(true);
}
