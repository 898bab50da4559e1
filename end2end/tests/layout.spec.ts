import { test, expect, Page } from "@playwright/test";
import { expectAccessible, waitForHydration } from "./helpers";

// The layout rules on every page at the three screen sizes the dashboard is
// checked at, in both colour schemes. Only rules are asserted here (nothing
// scrolls sideways, no table cell outside its table's box, no cell whose
// content spills out of it); how many rows fit on a screen is a measurement,
// printed by bench/layout_bench.py.

const SIZES = [
  { width: 1440, height: 900 },
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
];

async function stuckSecret(page: Page): Promise<string> {
  const rows: { name: string; state: string }[] = await (await page.request.get("/export/secrets.json")).json();
  const row = rows.find((r) => r.state === "stuck" && r.name.startsWith("prod/")) ?? rows[0];
  return row.name;
}

async function pages(page: Page): Promise<string[]> {
  const stuck = encodeURIComponent(await stuckSecret(page)).replace(/%2F/g, "/");
  return [
    "/",
    "/secrets",
    "/secrets?density=compact",
    "/secrets?q=prod",
    "/oncall?refresh=0",
    `/secret/${stuck}`,
    "/requests",
    "/requests/new",
    "/audit",
    "/sources",
    "/no-such-page",
  ];
}

/** What breaks the layout on the page as it is now, as readable strings. */
async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const doc = document.documentElement;
    const sideways = doc.scrollWidth - doc.clientWidth;
    if (sideways > 0) {
      // Name the widest element that sticks out, to say what to fix.
      let worst = "";
      let right = doc.clientWidth;
      for (const el of document.querySelectorAll("body *")) {
        const r = el.getBoundingClientRect();
        if (r.right > right + 0.5 && r.width > 0) {
          right = r.right;
          worst = `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${[...el.classList].join(".")}`;
        }
      }
      out.push(`the page scrolls sideways by ${sideways} px (widest: ${worst})`);
    }
    for (const table of document.querySelectorAll("table")) {
      const box = table.getBoundingClientRect();
      if (box.width === 0) continue;
      const name = table.className || table.getAttribute("data-testid") || "table";
      for (const cell of table.querySelectorAll("td, th")) {
        const r = cell.getBoundingClientRect();
        if (r.width === 0) continue;
        if (r.right > box.right + 1 || r.left < box.left - 1) {
          out.push(`a cell sticks out of table ${name}: ${(cell.textContent || "").trim().slice(0, 40)}`);
        }
        // Content wider than its cell spills over the next one (clipped,
        // ellipsised or scrolling content does not count: it is inside a box
        // of its own).
        if (cell.scrollWidth > cell.clientWidth + 1 && getComputedStyle(cell).overflowX === "visible") {
          out.push(`the content of a cell in table ${name} spills out: ${(cell.textContent || "").trim().slice(0, 40)}`);
        }
      }
    }
    return out;
  });
}

for (const size of SIZES) {
  test(`no page scrolls sideways or spills out of its tables at ${size.width}x${size.height}`, async ({ page }) => {
    test.setTimeout(180_000);
    await page.setViewportSize(size);
    const problems: string[] = [];
    for (const path of await pages(page)) {
      await page.goto(path);
      await waitForHydration(page);
      await page.waitForLoadState("networkidle");
      for (const p of await layoutProblems(page)) problems.push(`${path}: ${p}`);
    }
    expect(problems).toEqual([]);
  });
}

for (const scheme of ["light", "dark"] as const) {
  test(`every page is accessible in the ${scheme} colour scheme`, async ({ page }, testInfo) => {
    test.setTimeout(240_000);
    await page.emulateMedia({ colorScheme: scheme });
    for (const path of await pages(page)) {
      await page.goto(path);
      await waitForHydration(page);
      await page.waitForLoadState("networkidle");
      // The scheme really applies: a dark page has a dark background and
      // light text (and the reverse), so axe checks the contrast of the
      // colours people see, not of a page that ignored the setting.
      const [bg, fg] = await page.evaluate(() => {
        const lum = (c: string) => {
          const [r, g, b] = (c.match(/\d+(\.\d+)?/g) || ["0", "0", "0"]).slice(0, 3).map(Number);
          return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
        };
        const body = getComputedStyle(document.body);
        const root = getComputedStyle(document.documentElement);
        const bgColor = body.backgroundColor === "rgba(0, 0, 0, 0)" ? root.backgroundColor : body.backgroundColor;
        return [lum(bgColor), lum(body.color)];
      });
      if (scheme === "dark") expect(bg < 0.25 && fg > 0.6, `${path} is dark (background ${bg}, text ${fg})`).toBe(true);
      else expect(bg > 0.75 && fg < 0.4, `${path} is light (background ${bg}, text ${fg})`).toBe(true);
      await expectAccessible(page, testInfo, `${scheme}-${path.replace(/[^a-z0-9]+/gi, "-")}`);
    }
  });
}
