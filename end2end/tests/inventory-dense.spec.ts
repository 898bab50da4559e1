import { test, expect, Browser, Page } from "@playwright/test";
import { expectAccessible, keepScreenshot } from "./helpers";

// Issue 24: the dense inventory. Layout rules only (no row counts in view,
// no timings): the page never scrolls sideways, no cell leaves its table,
// and on wide screens every row is one line.

const SIZES: [number, number][] = [
  [1440, 900],
  [1280, 800],
  [390, 844],
];

const count = async (page: Page) =>
  Number((await page.getByTestId("result-count").innerText()).match(/of (\d+)/)![1]);
const names = (page: Page) => page.getByTestId("inventory").locator("tbody th.name").allInnerTexts();

async function at(browser: Browser, width: number, height: number): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width, height },
    storageState: "artifacts/admin-state.json",
  });
  return context.newPage();
}

/** The layout facts the rules are about, measured in the page. */
function layout() {
  const doc = document.documentElement;
  const table = document.querySelector("#results") as HTMLElement;
  const box = table.getBoundingClientRect();
  let outside = 0;
  for (const cell of table.querySelectorAll("td, th")) {
    const r = cell.getBoundingClientRect();
    if (r.width === 0) continue;
    if (r.right > box.right + 1 || r.left < box.left - 1) outside++;
  }
  const rows = [...table.querySelectorAll("tbody tr")].map((tr) => {
    const name = tr.querySelector("th.name") as HTMLElement;
    const lh = parseFloat(getComputedStyle(name).lineHeight);
    return { height: tr.getBoundingClientRect().height, lineHeight: lh };
  });
  return { sideways: doc.scrollWidth - doc.clientWidth, outside, rows };
}

test.describe("dense inventory layout", () => {
  for (const [w, h] of SIZES) {
    test(`${w}x${h}: no sideways scroll, cells inside the table, one line per row on wide screens`, async ({ browser }, testInfo) => {
      const page = await at(browser, w, h);
      for (const density of ["comfortable", "compact"]) {
        await page.goto(`/secrets?density=${density}`);
        const table = page.getByTestId("inventory");
        await expect(table).toHaveAttribute("data-density", density);
        await expect(table.locator("tbody tr[data-row]")).toHaveCount(50);
        const m = await page.evaluate(layout);
        expect(m.sideways, `${density}: sideways scroll`).toBeLessThanOrEqual(0);
        expect(m.outside, `${density}: cells outside the table`).toBe(0);
        if (w >= 1000) {
          // One line per row: every row as tall as the others (to a collapsed
          // border's pixel), under two lines of its name.
          const heights = m.rows.map((r) => r.height);
          expect(Math.max(...heights) - Math.min(...heights), `${density}: row heights`).toBeLessThanOrEqual(1);
          for (const r of m.rows) expect(r.height).toBeLessThan(2 * r.lineHeight);
          // The header stays at the top of the viewport while the page scrolls.
          await page.evaluate(() => window.scrollTo(0, 700));
          const top = await table.locator("thead th").first().evaluate((th) => th.getBoundingClientRect().top);
          expect(Math.abs(top)).toBeLessThanOrEqual(1);
          await page.evaluate(() => window.scrollTo(0, 0));
        }
        // Each result row is marked for the keyboard shortcuts, its name link first.
        const first = table.locator("tbody tr[data-row]").first();
        await expect(first.locator("a").first()).toHaveAttribute("href", /^\/secret\//);
        await expectAccessible(page, testInfo, `inventory-${w}x${h}-${density}`);
        await keepScreenshot(page, testInfo, `inventory-${w}x${h}-${density}`);
      }
      await page.context().close();
    });
  }
});

test.describe("answers without syntax", () => {
  test("the security team's question in three clicks equals the typed search", async ({ browser }, testInfo) => {
    const page = await at(browser, 1440, 900);
    await page.goto("/secrets");
    const tree = page.getByTestId("tree");
    await tree.locator('a.folder[href="?path=prod"]').click();
    await expect(page).toHaveURL(/path=prod/);
    const quick = page.getByTestId("quick-facets");
    await quick.getByRole("region", { name: "Rotation" }).getByRole("link", { name: /^off/ }).click();
    await expect(page).toHaveURL(/rotation%3Aoff|rotation:off/);
    const kms = quick.getByRole("region", { name: "KMS key" }).getByRole("link", { name: /^default/ });
    const kmsCount = Number(await kms.locator(".n").innerText());
    await kms.click();
    await expect(page.getByLabel("Search", { exact: true })).toHaveValue("rotation:off kms:default");
    const clicked = await count(page);
    expect(clicked).toBe(kmsCount);
    const clickedNames = await names(page);
    for (const n of clickedNames) expect(n.startsWith("prod/")).toBeTruthy();
    // The folder counts follow the search: prod/ holds every match.
    const prodCount = Number(await tree.locator("a.folder[aria-current=page] .n").innerText().then((t) => t.match(/\d+/)![0]));
    expect(prodCount).toBe(clicked);
    await expectAccessible(page, testInfo, "security-question");
    await keepScreenshot(page, testInfo, "security-question");

    // Typed, the same question gives the same secrets.
    await page.goto("/secrets?q=" + encodeURIComponent("name:prod/ rotation:off kms:default"));
    expect(await count(page)).toBe(clicked);
    expect(await names(page)).toEqual(clickedNames);
    await page.context().close();
  });

  test("owner facets and terms: none is narrower than no owner tag, conflicts are marked", async ({ browser }, testInfo) => {
    const page = await at(browser, 1440, 900);
    await page.goto("/secrets?q=" + encodeURIComponent("-tag:owner"));
    const untagged = await count(page);
    await page.goto("/secrets");
    await page.getByTestId("quick-facets").getByRole("region", { name: "Owner" }).getByRole("link", { name: /^none/ }).click();
    await expect(page.getByLabel("Search", { exact: true })).toHaveValue("owner:none");
    const ownerless = await count(page);
    expect(ownerless).toBeGreaterThan(0);
    expect(ownerless).toBeLessThan(untagged);
    for (const o of await page.locator("tbody td.owner").allInnerTexts()) expect(o.trim()).toBe("unknown");
    await expectAccessible(page, testInfo, "owner-none");

    await page.goto("/secrets?q=" + encodeURIComponent("owner:conflict"));
    const conflicts = await count(page);
    expect(conflicts).toBeGreaterThan(0);
    const cells = page.locator("tbody td.owner");
    await expect(cells.locator(".conflict-mark")).toHaveCount(await cells.count());
    await expect(cells.first().locator(".clip")).toHaveAttribute("title", /the description names/);
    await expectAccessible(page, testInfo, "owner-conflict");
    await keepScreenshot(page, testInfo, "owner-conflict");
    await page.context().close();
  });
});

test.describe("view state in the URL and the cookie", () => {
  test("the column chooser round-trips through the URL and every link keeps it", async ({ page }, testInfo) => {
    await page.goto("/secrets?density=compact");
    const chooser = page.getByTestId("columns");
    await chooser.locator("summary").click();
    for (const label of ["Description", "Tags", "KMS key"]) await chooser.getByLabel(label).uncheck();
    await chooser.getByRole("button", { name: "Show these columns" }).click();
    await expect(page).toHaveURL(/cols=/);
    // The column labels, without the sort arrows and hints.
    const headers = async () =>
      (await page.getByTestId("inventory").locator("thead th").allTextContents()).map((t) => t.replace(/[↕↑↓].*$/s, "").trim());
    const shown = await headers();
    expect(shown).toEqual(["Name", "State", "Health", "Owner", "Last rotated", "Next rotation", "Account · region"]);
    await expectAccessible(page, testInfo, "columns");

    // Sorting, paging and the search keep the columns and the density.
    await page.getByRole("columnheader", { name: /Last rotated/ }).getByRole("link").click();
    await expect(page).toHaveURL(/sort=last_rotated.*cols=name%2Cstate%2Chealth%2Cowner%2Crotated%2Cnext%2Cwhere.*density=compact/);
    await page.getByRole("link", { name: "Next →" }).click();
    await expect(page).toHaveURL(/page=2.*cols=.*density=compact/);
    await page.getByLabel("Search", { exact: true }).fill("prod");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await expect(page).toHaveURL(/q=prod.*cols=.*density=compact/);
    expect(await headers()).toEqual(shown);
    await expect(page.getByRole("link", { name: "CSV" })).toHaveAttribute("href", /cols=/);

    // The URL alone gives the same view.
    await page.goto("/secrets?cols=name,owner,kms");
    expect(await headers()).toEqual(["Name", "Owner", "KMS key"]);
    await page.getByTestId("columns").locator("summary").click();
    await expect(page.getByTestId("columns").getByLabel("Owner")).toBeChecked();
    await expect(page.getByTestId("columns").getByLabel("State")).not.toBeChecked();
  });

  test("the density is remembered in a cookie and the URL overrides it", async ({ browser }) => {
    const page = await at(browser, 1280, 800);
    const density = () => page.getByTestId("inventory").getAttribute("data-density");
    await page.goto("/secrets");
    expect(await density()).toBe("comfortable");
    await page.getByTestId("density").getByRole("link", { name: "compact" }).click();
    await expect(page).toHaveURL(/density=compact/);
    expect(await density()).toBe("compact");
    const cookie = (await page.context().cookies()).find((c) => c.name === "secretscope_density")!;
    expect(cookie.value).toBe("compact");
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe("Lax");
    // A later visit without the parameter keeps it; the URL wins over it.
    await page.goto("/secrets");
    expect(await density()).toBe("compact");
    await page.goto("/secrets?density=comfortable");
    expect(await density()).toBe("comfortable");
    await page.goto("/secrets");
    expect(await density()).toBe("comfortable");
    await page.context().close();
  });

  test("skip to results, and the first result a few Tab presses from the search", async ({ browser }, testInfo) => {
    const page = await at(browser, 1440, 900);
    await page.goto("/secrets");
    const skip = page.getByRole("link", { name: "Skip to results" });
    await skip.focus();
    await page.keyboard.press("Enter");
    await expect(page.locator("#results")).toBeFocused();

    // Folders are one Tab stop each: the arrows beside them are not stops.
    for (const t of await page.locator("nav.tree a.toggle").all()) await expect(t).toHaveAttribute("tabindex", "-1");
    await page.getByLabel("Search", { exact: true }).focus();
    const firstLink = page.getByTestId("inventory").locator("tbody tr[data-row] a").first();
    let presses = 0;
    while (presses < 30 && !(await firstLink.evaluate((a) => a === document.activeElement))) {
      await page.keyboard.press("Tab");
      presses++;
    }
    expect(presses).toBeLessThan(20);
    await expectAccessible(page, testInfo, "skip-to-results");
    await page.context().close();
  });
});
