import { test, expect, Locator, Page } from "@playwright/test";
import { expectAccessible, keepScreenshot, waitForHydration, waitForVersionDates } from "./helpers";

/** The "of N" of the inventory's result line: how many secrets the list matched. */
const matched = async (page: Page) => {
  const text = await page.getByTestId("result-count").innerText();
  return Number(text.match(/ of (\d+) /)![1]);
};

/** The number a count link or chart link shows (text, or "…: N secrets" in its label). */
async function shownNumber(link: Locator): Promise<number> {
  const label = await link.getAttribute("aria-label");
  if (label) return Number(label.match(/: (\d+) (secrets|rotations)/)![1]);
  return Number((await link.innerText()).trim());
}

/** The search and folder a `/secrets?…` link asks for. */
function target(href: string) {
  const u = new URL(href, "http://x");
  expect(u.pathname).toBe("/secrets");
  return { q: u.searchParams.get("q") ?? "", path: u.searchParams.get("path") ?? "" };
}

/**
 * Follows an overview link as a person would (mouse click, or focus + Enter)
 * and checks that the list it opens matches exactly the number it showed,
 * with its search in the search box. Comes back to the overview after.
 */
async function follow(page: Page, link: Locator, how: "click" | "keyboard" = "click") {
  const n = await shownNumber(link);
  expect(n).toBeGreaterThan(0);
  const href = (await link.getAttribute("href"))!;
  const { q, path } = target(href);
  const dataQ = await link.getAttribute("data-q");
  if (dataQ !== null) expect(dataQ).toBe(q);

  if (how === "keyboard") {
    await link.focus();
    await expect(link).toBeFocused();
    await page.keyboard.press("Enter");
  } else {
    await link.click();
  }
  await expect(page).toHaveURL((u) => u.pathname === "/secrets" && (u.searchParams.get("q") ?? "") === q);
  await expect(page.getByTestId("result-count")).toHaveText(new RegExp(` of ${n} (matching )?secrets`));
  expect(await matched(page)).toBe(n);
  await expect(page.getByLabel("Search", { exact: true })).toHaveValue(q);
  if (path) await expect(page.getByTestId("result-count")).toContainText(`in ${path}/`);
  // A link never lands on a search error.
  await expect(page.getByTestId("query-error")).toHaveCount(0);

  await page.goto("/");
  await expect(page.getByTestId("by-health")).toBeVisible();
  return { n, q, path };
}

test.describe("overview", () => {
  test.beforeEach(async ({ page }) => waitForVersionDates(page));

  test("every number links to the list of exactly those secrets", async ({ page }, testInfo) => {
    // Many pages in a row: on a loaded 2-core machine it has run close to the default 60 s.
    test.slow();
    await page.goto("/");
    await waitForHydration(page);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Overview");
    await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" })).toHaveAttribute("href", "/");

    // The lead states the total; the header's sync line agrees.
    const lead = await page.locator("p.lead").innerText();
    const total = Number(lead.match(/^(\d+) secrets;/)![1]);
    // The demo organisation: 300 seeded in the main account, 30 of
    // eu-west-1's own (replicas count once, at their primary) and 60 in the
    // payments account; the legacy account's role refuses the dashboard.
    expect(total).toBe(300 + 30 + 60);
    await expect(page.getByTestId("sync-status")).toContainText(`${total} secrets`);

    // By worst finding: six severities, in order, which add up to the total.
    const legend = page.getByTestId("by-health");
    await expect(legend.locator("li .sev")).toHaveText(["critical", "high", "medium", "low", "info", "ok"]);
    const byHealth = await legend.locator("li").evaluateAll((lis) =>
      lis.map((li) => Number((li.querySelector("a.count-link, .zero") as HTMLElement).innerText)),
    );
    expect(byHealth.reduce((a, b) => a + b, 0)).toBe(total);
    // High or worse in the lead is critical + high.
    expect(lead).toContain(`${byHealth[0] + byHealth[1]} with a high or critical finding`);

    await expectAccessible(page, testInfo, "overview");
    await keepScreenshot(page, testInfo, "overview");

    // Every severity number, the first with the keyboard.
    const sevLinks = legend.locator("a.count-link");
    const sevCount = await sevLinks.count();
    expect(sevCount).toBeGreaterThanOrEqual(5);
    for (let i = 0; i < sevCount; i++) {
      const { q } = await follow(page, legend.locator("a.count-link").nth(i), i === 0 ? "keyboard" : "click");
      expect(q).toMatch(/^health:(critical|high|medium|low|info|ok)$/);
    }

    // Rules: failed and overdue (what on-call lists), and a few others.
    const rules = page.getByTestId("by-rule");
    const ruleLink = (title: string) =>
      rules.locator("tbody tr", { has: page.getByRole("rowheader", { name: title, exact: true }) }).locator("a.count-link");
    const failed = await follow(page, ruleLink("Rotation failed"));
    expect(failed.q).toBe("rule:rotation-failed");
    const overdue = await follow(page, ruleLink("Rotation overdue"));
    expect(overdue.q).toBe("rule:rotation-overdue");
    const others = await rules.locator("tbody a.count-link").count();
    expect(others).toBeGreaterThanOrEqual(5);
    for (const i of [2, Math.floor(others / 2), others - 1]) {
      const { q } = await follow(page, rules.locator("tbody a.count-link").nth(i));
      expect(q).toMatch(/^rule:[a-z-]+$/);
    }

    // By account and region: the row total, then one severity cell; the cells add up.
    const places = page.getByTestId("by-place");
    const placeRows = places.locator("tbody tr");
    const placeTotals = await placeRows.evaluateAll((trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll("td.num")).map((td) => Number((td as HTMLElement).innerText))),
    );
    expect(placeTotals.map((r) => r[0]).reduce((a, b) => a + b, 0)).toBe(total);
    for (const r of placeTotals) expect(r.slice(1).reduce((a, b) => a + b, 0)).toBe(r[0]);
    await follow(page, placeRows.first().locator("td.num a.count-link").first());
    const placeCritical = await follow(page, placeRows.first().locator("td.num").nth(1).locator("a.count-link"));
    expect(placeCritical.q).toMatch(/^account:\S+ region:\S+ health:critical$/);

    // By top-level folder: the folder name, its total (keyboard) and one severity cell.
    const paths = page.getByTestId("by-path");
    const pathRows = paths.locator("tbody tr");
    const pathTotals = await pathRows.evaluateAll((trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll("td.num")).map((td) => Number((td as HTMLElement).innerText))),
    );
    expect(pathTotals.length).toBeGreaterThan(0);
    expect(pathTotals.map((r) => r[0]).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(total);
    for (const r of pathTotals) expect(r.slice(1).reduce((a, b) => a + b, 0)).toBe(r[0]);
    const folder = (await pathRows.first().getByRole("rowheader").innerText()).trim().replace(/\/$/, "");
    const inFolder = await follow(page, pathRows.first().locator("td.num a.count-link").first(), "keyboard");
    expect(inFolder).toMatchObject({ q: "", path: folder });
    const folderHigh = await follow(page, pathRows.first().locator("td.num").nth(2).locator("a.count-link"));
    expect(folderHigh).toMatchObject({ q: "health:high", path: folder });
    // The folder name opens the folder too.
    await pathRows.first().getByRole("rowheader").getByRole("link").click();
    await expect(page).toHaveURL(new RegExp(`/secrets\\?path=${encodeURIComponent(folder)}$`));
    expect(await matched(page)).toBe(inFolder.n);
    await page.goto("/");

    // Time since the last rotation: every bar that has secrets; they count
    // every secret not scheduled for deletion.
    const ages = page.getByTestId("ages");
    const bars = ages.locator("a");
    const barCount = await bars.count();
    expect(barCount).toBeGreaterThanOrEqual(3);
    let aged = 0;
    for (const g of await ages.locator(":scope > a, :scope > g").all()) {
      aged += Number((await g.getAttribute("aria-label"))!.match(/: (\d+) secrets$/)![1]);
    }
    for (let i = 0; i < barCount; i++) {
      const { q } = await follow(page, ages.locator("a").nth(i), i === 0 ? "keyboard" : "click");
      expect(q).toMatch(/^deleted:no rotated:/);
    }
    await page.goto("/secrets?q=" + encodeURIComponent("deleted:no"));
    expect(await matched(page)).toBe(aged);
    await page.goto("/");

    // Rotations in the next 30 days: one cell per day from today, a day with rotations opens that day.
    const strip = page.getByTestId("upcoming");
    const cells = strip.locator(":scope > a, :scope > g");
    await expect(cells).toHaveCount(30);
    const days = await cells.evaluateAll((els) => els.map((e) => e.getAttribute("aria-label")!));
    for (const d of days) expect(d).toMatch(/^\d{4}-\d{2}-\d{2}: \d+ rotations scheduled$/);
    const dates = days.map((d) => d.slice(0, 10));
    expect([...dates].sort()).toEqual(dates);
    expect(new Set(dates).size).toBe(30);
    const day = strip.locator("a").nth(1);
    const dayLabel = (await day.getAttribute("aria-label"))!;
    const opened = await follow(page, day);
    expect(opened.q).toBe(`next:${dayLabel.slice(0, 10)}`);

    // Already due.
    const due = page.getByRole("region", { name: "Rotations in the next 30 days" }).locator("a.count-link");
    const dueOpened = await follow(page, due);
    expect(dueOpened.q).toBe("rotation:on next:<0d");

    // The lead links to the on-call queue.
    await page.getByRole("link", { name: "On-call queue →" }).click();
    await expect(page).toHaveURL(/\/oncall$/);
  });

  test("works without JavaScript: the counts are plain links", async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto("/");
    const critical = page.getByTestId("by-health").locator("a.count-link").first();
    const n = Number(await critical.innerText());
    await critical.click();
    await expect(page.getByLabel("Search", { exact: true })).toHaveValue("health:critical");
    expect(await matched(page)).toBe(n);
    await context.close();
  });
});

/** The on-call rows as data. */
async function queue(page: Page) {
  return page
    .getByTestId("oncall")
    .locator("tbody tr")
    .evaluateAll((trs) =>
      trs.map((tr) => ({
        problem: tr.getAttribute("data-problem")!,
        name: (tr.querySelector("th.name a") as HTMLElement).innerText.trim(),
        href: tr.querySelector("th.name a")!.getAttribute("href")!,
        since: tr.querySelector("td.since time")?.getAttribute("datetime") ?? null,
      })),
    );
}

const statusRe = /^(\d+) failed, (\d+) overdue · as of (.+? UTC)/;

test.describe("on-call queue", () => {
  test.beforeEach(async ({ page }) => waitForVersionDates(page));

  test("lists failed rotations first, then overdue, each longest broken first", async ({ page }, testInfo) => {
    // The default is the newest first (tests/oncall.spec.ts); this is the longest broken first.
    await page.goto("/oncall?refresh=0&order=oldest");
    await waitForHydration(page);
    await expect(page.getByRole("heading", { level: 1 })).toContainText("On-call");
    const rows = await queue(page);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(["rotation-failed", "rotation-overdue"]).toContain(r.problem);

    // Failed, then overdue: the problem column never goes back to failed.
    const kinds = rows.map((r) => r.problem);
    const firstOverdue = kinds.indexOf("rotation-overdue");
    const lastFailed = kinds.lastIndexOf("rotation-failed");
    expect(lastFailed).toBeGreaterThanOrEqual(0);
    if (firstOverdue >= 0) expect(lastFailed).toBeLessThan(firstOverdue);

    // Within each group, "Broken since" ascends (longest broken first), unknown last.
    for (const kind of ["rotation-failed", "rotation-overdue"]) {
      const since = rows.filter((r) => r.problem === kind).map((r) => r.since);
      const known = since.filter((s): s is string => s !== null);
      expect(since.slice(0, known.length)).toEqual(known);
      const times = known.map((s) => Date.parse(s));
      for (const t of times) expect(Number.isNaN(t)).toBeFalsy();
      expect([...times].sort((a, b) => a - b)).toEqual(times);
    }

    // The status line counts the rows by kind.
    const status = page.getByTestId("oncall-status");
    await expect(status).toHaveText(statusRe);
    const [, failed, overdue] = (await status.innerText()).match(statusRe)!;
    expect(Number(failed)).toBe(kinds.filter((k) => k === "rotation-failed").length);
    expect(Number(overdue)).toBe(kinds.filter((k) => k === "rotation-overdue").length);
    // No refresh controls with refresh=0, but "Refresh now" is always there.
    await expect(page.getByRole("checkbox", { name: /Check every/ })).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Refresh now" })).toBeEnabled();

    const table = page.getByTestId("oncall");
    await expectAccessible(page, testInfo, "oncall");
    await keepScreenshot(page, testInfo, "oncall");

    // Each secret opens its detail page: the first by a click, all by their links.
    await table.locator("tbody th.name a").first().click();
    await expect(page).toHaveURL((u) => u.pathname === rows[0].href);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(rows[0].name);
    for (const r of rows) {
      const resp = await page.goto(r.href);
      expect(resp?.status(), r.href).toBe(200);
      await expect(page.getByRole("heading", { level: 1 })).toHaveText(r.name);
    }

    // The same numbers as the inventory's rule searches (failed wins over overdue).
    for (const [q, n] of [
      ["rule:rotation-failed", failed],
      ["rule:rotation-overdue", overdue],
    ]) {
      await page.goto("/secrets?q=" + encodeURIComponent(q));
      expect(await matched(page), q).toBe(Number(n));
    }
  });

  test("checks itself without moving the rows, says when the queue changed; Refresh now shows the new queue", async ({ page }) => {
    await page.goto("/oncall?refresh=5");
    await waitForHydration(page);
    const status = page.getByTestId("oncall-status");
    await expect(status).toHaveText(statusRe);
    const auto = page.getByRole("checkbox", { name: "Check every 5 s" });
    await expect(auto).toBeChecked();
    const rows = page.getByTestId("oncall").locator("tbody tr");
    const before = await rows.evaluateAll((els) => els.map((e) => e.id));
    await page.evaluate(() => ((window as unknown as { __marker: number }).__marker = 1));

    // The interval fires: a check, and the page is the same page with the same rows.
    const tick = await page.waitForResponse((r) => r.url().includes("get_oncall_state"));
    expect(tick.ok()).toBeTruthy();
    await expect(status).toHaveText(statusRe);
    expect(await rows.evaluateAll((els) => els.map((e) => e.id))).toEqual(before);
    expect(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBe(1);
    // Nothing changed in the demo between two checks a few seconds apart
    // unless a rotation finished: either way the notice says what is true.
    const changed = page.getByTestId("oncall-changed");
    const state = await (await tick.json()) as { signature: string };
    expect(typeof state.signature).toBe("string");
    if (await changed.isVisible()) {
      await expect(changed.getByRole("button", { name: "Show the new queue" })).toBeEnabled();
    }

    // Refresh now shows the queue again, in the same view (a new page).
    await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Refresh now" }).click()]);
    await waitForHydration(page);
    expect(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBeUndefined();
    await expect(page).toHaveURL(/refresh=5/);
    await expect(changed).toBeHidden();
    await expect(page.getByRole("alert")).toHaveCount(0);
  });

  test("unticking auto-refresh stops the requests; ticking it starts them again", async ({ page }) => {
    // A fake clock makes the interval fire on demand rather than by waiting.
    await page.clock.install();
    let calls = 0;
    page.on("request", (r) => {
      if (r.url().includes("get_oncall")) calls++;
    });
    await page.goto("/oncall?refresh=5");
    await waitForHydration(page);
    await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);
    const auto = page.getByRole("checkbox", { name: "Check every 5 s" });
    await expect(auto).toBeChecked();

    // On: five seconds of page time make one request.
    const before = calls;
    let response = page.waitForResponse((r) => r.url().includes("get_oncall"));
    await page.clock.runFor(5_000);
    await response;
    expect(calls).toBe(before + 1);
    await expect(page.getByRole("button", { name: "Refresh now" })).toBeEnabled();

    // Off: a minute of page time makes none.
    await auto.uncheck();
    await expect(auto).not.toBeChecked();
    const off = calls;
    await page.clock.runFor(60_000);

    // On again: the next tick makes exactly one more (any request made while
    // off would have been sent before it, and counted).
    await auto.check();
    response = page.waitForResponse((r) => r.url().includes("get_oncall"));
    await page.clock.runFor(5_000);
    await response;
    expect(calls).toBe(off + 1);
  });

  test("shows the queue without JavaScript", async ({ browser }, testInfo) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto("/oncall");
    const rows = page.getByTestId("oncall").locator("tbody tr");
    await expect(rows.first()).toBeVisible();
    const n = await rows.count();
    const [, failed, overdue] = (await page.getByTestId("oncall-status").innerText()).match(statusRe)!;
    expect(Number(failed) + Number(overdue)).toBe(n);
    await expect(page.locator('tr[data-problem="rotation-failed"]')).toHaveCount(Number(failed));
    await keepScreenshot(page, testInfo, "oncall-nojs");
    // The secret links work as plain links.
    const first = rows.first().locator("th.name a");
    const name = (await first.innerText()).trim();
    await first.click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
    await context.close();
  });
});

test.describe("health in the inventory", () => {
  test("the Health column and health:/rule: searches from the search box", async ({ page }, testInfo) => {
    await page.goto("/secrets");
    await waitForHydration(page);
    const table = page.getByTestId("inventory");
    await expect(table.getByRole("columnheader", { name: "Health" })).toBeVisible();
    const health = () => table.locator("tbody tr td:nth-child(3) .sev").allInnerTexts();
    for (const h of await health()) expect(["critical", "high", "medium", "low", "info", "ok"]).toContain(h);

    const search = async (q: string) => {
      await page.getByLabel("Search", { exact: true }).fill(q);
      await page.getByRole("button", { name: "Search" }).click();
      await expect(page).toHaveURL((u) => u.searchParams.get("q") === q);
      await expect(page.getByTestId("result-count")).toContainText("matching secrets");
    };

    await search("health:critical");
    const critical = await matched(page);
    expect(critical).toBeGreaterThan(0);
    for (const h of await health()) expect(h).toBe("critical");

    await search("health:high+");
    expect(await matched(page)).toBeGreaterThan(critical);
    for (const h of await health()) expect(["critical", "high"]).toContain(h);

    await search("health:ok");
    for (const h of await health()) expect(h).toBe("ok");

    // A rule: every listed secret has the finding (its title is the badge's tooltip).
    await search("rule:rotation-failed");
    const titles = await table.locator("tbody tr td:nth-child(3) .sev").evaluateAll((els) => els.map((e) => e.getAttribute("title")!));
    expect(titles.length).toBeGreaterThan(0);
    for (const t of titles) expect(t).toContain("Rotation failed");
    await expect(page.getByTestId("query-error")).toHaveCount(0);

    // A misspelt value: the error names what was meant, and nothing is filtered.
    await page.getByLabel("Search", { exact: true }).fill("health:hihg");
    await page.getByRole("button", { name: "Search" }).click();
    const err = page.getByTestId("query-error");
    await expect(err).toContainText("hihg");
    await expect(err).toContainText("did you mean high?");
    await expect(page.getByTestId("result-count")).toHaveText(/^1–50 of \d+ secrets$/);
    await expect(page.getByLabel("Search", { exact: true })).toHaveValue("health:hihg");
    await expectAccessible(page, testInfo, "health-search-error");
    await keepScreenshot(page, testInfo, "health-search-error");
  });
});

test.describe("navigation now that / is the overview", () => {
  test("the header and the 404 page lead to the right pages", async ({ page }) => {
    await page.goto("/secrets");
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "On-call" }).click();
    await expect(page).toHaveURL(/\/oncall$/);
    await expect(page.getByTestId("oncall-status")).toBeVisible();
    await nav.getByRole("link", { name: "Overview" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Overview");
    await nav.getByRole("link", { name: "Inventory" }).click();
    await expect(page).toHaveURL(/\/secrets$/);
    await expect(page.getByTestId("inventory")).toBeVisible();
    await page.getByRole("link", { name: "secretscope" }).click();
    await expect(page.getByTestId("by-health")).toBeVisible();

    await page.goto("/no/such/page");
    await page.getByRole("link", { name: "Go to the inventory" }).click();
    await expect(page).toHaveURL(/\/secrets$/);
    await expect(page.getByTestId("inventory")).toBeVisible();
  });
});
