import { test, expect, Page } from "@playwright/test";
import { expectAccessible, signedIn, waitForHydration, waitForVersionDates } from "./helpers";

// The on-call queue as on-call uses it: the latest failure on top, the
// order and the filters in the URL, the alert's link straight onto its
// incident, a card per incident on a phone, and the page staying on the
// incident after an action.

type Row = { id: string; problem: string; severity: string; env: string; account: string; owner: string; name: string; since: string | null };

async function rows(page: Page): Promise<Row[]> {
  return page
    .getByTestId("oncall")
    .locator("tbody tr.incident")
    .evaluateAll((trs) =>
      trs.map((tr) => ({
        id: tr.id,
        problem: tr.getAttribute("data-problem")!,
        severity: tr.getAttribute("data-severity")!,
        env: tr.getAttribute("data-env")!,
        account: tr.getAttribute("data-account")!,
        owner: (tr.querySelector("td.owner") as HTMLElement).innerText.replace(/^Owner\s*/, "").trim(),
        name: (tr.querySelector("th.name a") as HTMLElement).innerText.trim(),
        since: tr.querySelector("td.since time")?.getAttribute("datetime") ?? null,
      })),
    );
}

/** The known start times of `kind`'s rows, in page order, as numbers. */
function times(list: Row[], kind: string): number[] {
  return list.filter((r) => r.problem === kind && r.since).map((r) => Date.parse(r.since!));
}

const SEVERITY = ["critical", "high", "medium", "low", "info"];

async function noSideways(page: Page) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  expect(scroll, "the page does not scroll sideways").toBeLessThanOrEqual(client);
}

async function cellsOutside(page: Page): Promise<number> {
  return page.evaluate(() => {
    let out = 0;
    for (const table of document.querySelectorAll("table")) {
      const box = table.getBoundingClientRect();
      for (const cell of table.querySelectorAll("td, th")) {
        const r = cell.getBoundingClientRect();
        if (r.width === 0) continue;
        if (r.right > box.right + 1 || r.left < box.left - 1) out++;
      }
    }
    return out;
  });
}

test.describe("on-call", () => {
  test.beforeEach(async ({ page }) => waitForVersionDates(page));

  test("the newest failure is first by default; the order and the filters travel in the URL", async ({ page }, testInfo) => {
    await page.goto("/oncall?refresh=0");
    await waitForHydration(page);
    const view = page.getByTestId("oncall-view");
    await expect(view.getByLabel("Order")).toHaveValue("newest");
    const all = await rows(page);
    expect(all.length).toBeGreaterThan(8);
    // Failed first, the most recent on top; then overdue, the most recent first.
    const kinds = all.map((r) => r.problem);
    expect(kinds.lastIndexOf("rotation-failed")).toBeLessThan(kinds.indexOf("rotation-overdue"));
    const failed = times(all, "rotation-failed");
    expect(failed.length).toBeGreaterThan(1);
    expect(failed).toEqual([...failed].sort((a, b) => b - a));
    expect(Date.parse(all[0].since!)).toBe(Math.max(...failed));
    await expectAccessible(page, testInfo, "oncall-newest");

    // Longest broken first, chosen in the form: the URL says so.
    await view.getByLabel("Order").selectOption("oldest");
    await view.getByRole("button", { name: "Show" }).click();
    await expect(page).toHaveURL(/order=oldest/);
    const oldest = times(await rows(page), "rotation-failed");
    expect(oldest).toEqual([...failed].sort((a, b) => a - b));

    // Worst severity first.
    await page.goto("/oncall?refresh=0&order=severity");
    const bySeverity = (await rows(page)).map((r) => SEVERITY.indexOf(r.severity));
    expect(bySeverity).toEqual([...bySeverity].sort((a, b) => a - b));

    // Environment: the option's count is what the filter lists.
    await page.goto("/oncall?refresh=0");
    const envOption = view.getByLabel("Environment").locator("option").nth(1);
    const env = (await envOption.getAttribute("value"))!;
    const envCount = Number((await envOption.innerText()).match(/\((\d+)\)$/)![1]);
    await view.getByLabel("Environment").selectOption(env);
    await view.getByRole("button", { name: "Show" }).click();
    await expect(page).toHaveURL(new RegExp(`env=${encodeURIComponent(env)}`));
    const inEnv = await rows(page);
    expect(inEnv.length).toBe(envCount);
    for (const r of inEnv) expect(r.env).toBe(env);
    await expect(page.getByTestId("oncall-status")).toContainText(`showing ${envCount} of ${all.length}`);
    await expectAccessible(page, testInfo, "oncall-env");

    // Account and owner, straight from a shared link.
    const account = all[all.length - 1].account;
    await page.goto(`/oncall?refresh=0&account=${account}`);
    const inAccount = await rows(page);
    expect(inAccount.length).toBe(all.filter((r) => r.account === account).length);
    for (const r of inAccount) expect(r.account).toBe(account);
    await expect(view.getByLabel("Account")).toHaveValue(account);
    const owner = all.find((r) => r.owner.includes("@"))!.owner;
    await page.goto(`/oncall?refresh=0&owner=${encodeURIComponent(owner)}`);
    const owned = await rows(page);
    expect(owned.length).toBe(all.filter((r) => r.owner === owner).length);
    for (const r of owned) expect(r.owner).toBe(owner);
    // Clear filters: the whole queue again.
    await page.getByRole("link", { name: "Clear filters" }).click();
    expect((await rows(page)).length).toBe(all.length);
  });

  test("the alert's link opens on its incident", async ({ page }, testInfo) => {
    await page.goto("/oncall?refresh=0");
    const all = await rows(page);
    // One far down the list, as an alert about it would link to it
    // (the URL src/server/alerts/messages.rs puts in the message).
    const target = all.filter((r) => r.problem === "rotation-failed").at(-1)!;
    await page.goto(`/oncall?incident=${encodeURIComponent(target.name)}#incident-${target.name}`);
    await waitForHydration(page);
    const listed = await rows(page);
    expect(listed.map((r) => r.name)).toEqual([target.name]);
    const row = page.locator(`[id="incident-${target.name}"]`);
    await expect(row).toBeInViewport();
    expect(await page.evaluate(() => document.querySelector(":target")?.id)).toBe(`incident-${target.name}`);
    await expect(page.getByTestId("oncall-only")).toContainText(target.name);
    await expectAccessible(page, testInfo, "oncall-alert-link");
    await page.getByRole("link", { name: "Show the whole queue" }).click();
    expect((await rows(page)).length).toBe(all.length);
  });

  test("on a phone each incident is a card with thumb-sized actions, and nothing scrolls sideways", async ({ browser }, testInfo) => {
    const page = await signedIn(browser, "operator");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto("/oncall?refresh=0");
    await waitForHydration(page);
    await noSideways(page);
    const card = page.locator("tr.incident").filter({ has: page.locator("td.row-actions button") }).first();
    await expect(card).toBeVisible();
    await expect(card.locator("td.problem")).toContainText(/Rotation|Overdue|failed/);
    await expect(card.locator("th.name a")).toBeVisible();
    await expect(card.locator("td.since")).toContainText("Since");
    await expect(card.locator("td.owner")).toContainText("Owner");
    // The card is as wide as the screen allows, no wider.
    const box = (await card.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    for (const b of await card.locator("td.row-actions button").all()) {
      expect((await b.boundingBox())!.height).toBeGreaterThanOrEqual(44);
    }
    expect((await card.locator("th.name a").boundingBox())!.height).toBeGreaterThanOrEqual(44);
    await expectAccessible(page, testInfo, "oncall-phone");
    // The other pages on-call opens from a phone do not scroll sideways either.
    for (const path of ["/", "/sources", "/audit"]) {
      await page.goto(path);
      await noSideways(page);
    }
    await page.context().close();
    const anon = await browser.newContext({ viewport: { width: 390, height: 844 }, storageState: { cookies: [], origins: [] } });
    const login = await anon.newPage();
    await login.goto("/login");
    await noSideways(login);
    await anon.close();
  });

  for (const [width, height] of [
    [1440, 900],
    [1280, 800],
  ]) {
    test(`at ${width}x${height} no cell sticks out of the queue's table`, async ({ page }) => {
      await page.setViewportSize({ width, height });
      await page.goto("/oncall?refresh=0");
      await expect(page.getByTestId("oncall")).toBeVisible();
      await noSideways(page);
      expect(await cellsOutside(page)).toBe(0);
      // Opening the long story keeps it inside its cell.
      await page.locator("tr.incident .what-happened summary").first().click();
      expect(await cellsOutside(page)).toBe(0);
      await noSideways(page);
    });
  }

  test("after an action the page comes back on the same incident, in the same view", async ({ browser }, testInfo) => {
    const page = await signedIn(browser, "operator");
    await page.goto("/oncall?refresh=0&order=oldest");
    await waitForHydration(page);
    // Cancel rotation on a failing rotation whose Lambda is broken: it stays
    // failed (AWSPENDING stays), so it is still in the queue afterwards. The
    // last such one: actions.spec.ts works on the first.
    const broken = page.locator("tr[data-problem=rotation-failed]").filter({ hasText: "-broken-" });
    expect(await broken.count()).toBeGreaterThan(1);
    const row = broken.last();
    const name = (await row.locator("th.name a").innerText()).trim();
    const far = await row.evaluate((tr) => tr.getBoundingClientRect().top + window.scrollY > window.innerHeight);
    await row.scrollIntoViewIfNeeded();
    await row.getByRole("button", { name: /^Cancel rotation/ }).click();
    const dialog = page.getByRole("dialog");
    await expect(dialog.locator("ol.effects")).toBeVisible();
    const typed = dialog.getByLabel(/Type .* to confirm/);
    if (await typed.count()) await typed.fill((await dialog.locator("code").first().innerText()).trim());
    await dialog.locator("button.danger").click();
    await expect(page.getByTestId("action-done")).toContainText("Rotation cancelled");
    // Same view, and the incident is where the page is.
    await expect(page).toHaveURL(/order=oldest/);
    expect(new URL(page.url()).hash).toBe(`#incident-${name}`);
    const again = page.locator(`[id="incident-${name}"]`);
    await expect(again).toBeInViewport();
    // Not back at the top when the incident is further down.
    if (far) expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(0);
    expect(await page.evaluate(() => document.querySelector(":target")?.id)).toBe(`incident-${name}`);
    await expectAccessible(page, testInfo, "oncall-after-action");
    await page.context().close();
  });
});
