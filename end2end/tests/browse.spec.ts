import { test, expect, Page } from "@playwright/test";
import { expectAccessible, keepScreenshot, waitForHydration } from "./helpers";

const names = (page: Page) => page.getByTestId("inventory").locator("tbody th.name").allInnerTexts();
const count = async (page: Page) =>
  Number((await page.getByTestId("result-count").innerText()).match(/of (\d+)/)![1]);

test.describe("folders, sorting, facets and export", () => {
  test("the folder tree opens folders, keeps them in the URL, and collapses", async ({ page }, testInfo) => {
    await page.goto("/secrets");
    await waitForHydration(page);
    const tree = page.getByTestId("tree");
    await expect(tree.getByRole("link", { name: /All secrets/ })).toHaveAttribute("aria-current", "page");

    // Open prod/ then prod/payments/ with the keyboard: links are in the tab order.
    const prod = tree.locator('a.folder[href="?path=prod"]');
    const prodCount = Number((await prod.locator(".n").innerText()).match(/(\d+)/)![1]);
    await prod.focus();
    await page.keyboard.press("Enter");
    await expect(page).toHaveURL(/path=prod(&|$)/);
    await expect(prod).toHaveAttribute("aria-current", "page");
    expect(await count(page)).toBe(prodCount);
    for (const n of await names(page)) expect(n.startsWith("prod/")).toBeTruthy();

    const payments = tree.locator('a.folder[href="?path=prod%2Fpayments"]');
    const paymentsCount = Number((await payments.locator(".n").innerText()).match(/(\d+)/)![1]);
    await payments.click();
    await expect(page).toHaveURL(/path=prod%2Fpayments/);
    await expect(page.getByTestId("result-count")).toContainText("in prod/payments/");
    expect(await count(page)).toBe(paymentsCount);
    for (const n of await names(page)) expect(n.startsWith("prod/payments/")).toBeTruthy();
    await expectAccessible(page, testInfo, "tree");
    await keepScreenshot(page, testInfo, "tree-prod-payments");

    // A shared link opens the same view, and the search stays inside the folder.
    await page.goto("/secrets?path=prod/payments");
    expect(await count(page)).toBe(paymentsCount);
    await page.getByLabel("Search", { exact: true }).fill("db");
    await page.getByRole("button", { name: "Search" }).click();
    await expect(page).toHaveURL(/q=db/);
    await expect(page).toHaveURL(/path=prod%2Fpayments/);

    // Collapse prod/ goes back to the root.
    await page.goto("/secrets?path=prod");
    await tree.getByRole("link", { name: "Collapse prod" }).click();
    await expect(page).toHaveURL(/\/secrets\?$|\/secrets$/);
    await expect(tree.getByRole("link", { name: /All secrets/ })).toHaveAttribute("aria-current", "page");
  });

  test("column headers sort both ways, dates unknown last, and the URL keeps the order", async ({ page }) => {
    await page.goto("/secrets");
    await waitForHydration(page);
    const header = page.getByRole("columnheader", { name: /Last rotated/ });
    await header.getByRole("link").click();
    await expect(page).toHaveURL(/sort=last_rotated/);
    await expect(header).toHaveAttribute("aria-sort", "ascending");
    const asc = await page.locator("tbody tr td.rotated time").evaluateAll((els) =>
      els.map((e) => e.getAttribute("datetime")!),
    );
    expect(asc.length).toBeGreaterThan(10);
    expect([...asc].sort()).toEqual(asc);

    await header.getByRole("link").click();
    await expect(page).toHaveURL(/sort=-last_rotated/);
    await expect(header).toHaveAttribute("aria-sort", "descending");
    const desc = await page.locator("tbody tr td.rotated time").evaluateAll((els) =>
      els.map((e) => e.getAttribute("datetime")!),
    );
    expect([...desc].sort().reverse()).toEqual(desc);

    // The order select covers the columns that are not shown.
    await page.getByLabel("Sort by").selectOption("-created");
    await page.getByRole("button", { name: "Sort" }).click();
    await expect(page).toHaveURL(/sort=-created/);
    await expect(page.getByLabel("Sort by")).toHaveValue("-created");

    // Name, Z to A.
    await page.goto("/secrets?sort=-name");
    const n = await names(page);
    expect([...n].sort().reverse()).toEqual(n);
  });

  test("a tag facet adds its term, shows counts of the current result, and removes it again", async ({ page }, testInfo) => {
    await page.goto("/secrets?q=" + encodeURIComponent("tag:env=prod"));
    await waitForHydration(page);
    const total = await count(page);
    const facets = page.getByTestId("facets");
    const env = facets.getByRole("region", { name: "Tag env" });
    // Only prod in this result, with the result's count.
    await expect(env.getByRole("link")).toHaveCount(1);
    await expect(env.getByRole("link")).toContainText(String(total));

    // "missing" owner narrows to secrets without an owner tag.
    const owner = facets.getByRole("region", { name: "Tag owner" });
    const missing = owner.getByRole("link", { name: /^missing/ });
    const missingCount = Number((await missing.innerText()).match(/(\d+)/)![1]);
    await missing.click();
    await expect(page).toHaveURL(/-tag%3Aowner|-tag:owner/);
    await expect(page.getByLabel("Search", { exact: true })).toHaveValue("tag:env=prod -tag:owner");
    expect(await count(page)).toBe(missingCount);
    for (const t of await page.locator("tbody td.tags").allInnerTexts()) expect(t).not.toContain("owner=");

    // A team value adds a term; clicking it again removes it.
    const team = facets.getByRole("region", { name: "Tag team" }).getByRole("link").first();
    const teamName = (await team.locator(".v").innerText()).trim();
    const teamCount = Number(await team.locator(".n").innerText());
    await team.click();
    await expect(page.getByLabel("Search", { exact: true })).toHaveValue(`tag:env=prod -tag:owner tag:team=${teamName}`);
    expect(await count(page)).toBe(teamCount);
    const active = facets.getByRole("region", { name: "Tag team" }).locator("a.facet-value.active");
    await expect(active).toHaveCount(1);
    await expectAccessible(page, testInfo, "facets");
    await keepScreenshot(page, testInfo, "facets");
    await active.click();
    await expect(page.getByLabel("Search", { exact: true })).toHaveValue("tag:env=prod -tag:owner");
  });

  test("export gives exactly the current result as CSV and JSON", async ({ page, request }) => {
    const q = "name:prod/* rotation:on";
    await page.goto("/secrets?sort=-last_rotated&q=" + encodeURIComponent(q));
    await waitForHydration(page);
    const total = await count(page);
    const shown = await names(page);

    const download = page.waitForEvent("download");
    await page.getByRole("link", { name: "CSV" }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^secretscope-\d{8}T\d{6}Z\.csv$/);
    const csv = await (await import("node:fs/promises")).readFile((await file.path())!, "utf8");
    const lines = csv.trim().split("\r\n");
    expect(lines[0].split(",")[0]).toBe("name");
    expect(lines.length - 1).toBe(total);

    const json = await (await request.get("/export/secrets.json?sort=-last_rotated&q=" + encodeURIComponent(q))).json();
    expect(json.length).toBe(total);
    // Same order as the list, every row in the result, no values.
    expect(json.slice(0, shown.length).map((r: { name: string }) => r.name)).toEqual(shown);
    for (const r of json) {
      expect(r.name.startsWith("prod/")).toBeTruthy();
      expect(r.rotation_enabled).toBe(true);
      expect(Object.keys(r)).not.toContain("secret_string");
    }

    const bad = await request.get("/export/secrets.csv?q=" + encodeURIComponent("tag:"));
    expect(bad.status()).toBe(400);
    expect(await bad.text()).toContain("Nothing was exported");
  });
});

test.describe("hostile metadata", () => {
  test("names, descriptions and tags carrying HTML render as text and never run", async ({ page }, testInfo) => {
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto("/secrets?q=alert");
    await waitForHydration(page);
    await expect(page.getByTestId("result-count")).toContainText("matching secrets");
    const rows = page.getByTestId("inventory").locator("tbody tr");
    expect(await rows.count()).toBeGreaterThanOrEqual(5);
    const text = await page.getByTestId("inventory").innerText();
    expect(text).toContain("<script>alert(1)</script>");
    expect(text).toContain("<img src=x onerror=alert(1)>");
    // No element was made from the payloads.
    await expect(page.locator("main img, main script, main svg[onload]")).toHaveCount(0);

    // The facets and the detail page of the secret whose name is a payload.
    await expect(page.getByTestId("facets")).toContainText("<img src=x onerror=alert(1)>");
    await page.getByTestId("inventory").getByRole("link", { name: /onerror/ }).first().click();
    await expect(page).toHaveURL(/\/secret\//);
    await expect(page.getByRole("heading", { level: 1 })).toContainText("<img src=x onerror=alert(1)>");
    await expect(page.locator("main img, main script")).toHaveCount(0);
    await expectAccessible(page, testInfo, "hostile-detail");
    await keepScreenshot(page, testInfo, "hostile-detail");
    expect(dialogs).toEqual([]);
  });

  test("a secret's name in the path lands in the title as text, not as markup in the head", async ({ page }) => {
    // Issue 19's high finding: leptos_meta wrote the title unescaped, and this
    // address redirected the browser to another site.
    const payload = '</title><meta http-equiv="refresh" content="0;url=/no-such-redirect-target"><script>window.__pwned=1</script>';
    await page.goto(`/secret/${encodeURIComponent(payload)}`);
    await waitForHydration(page);
    await page.waitForTimeout(1500); // a refresh of 0 s would have happened by now
    expect(new URL(page.url()).pathname).toMatch(/^\/secret\//);
    await expect(page.locator("head meta[http-equiv]")).toHaveCount(0);
    await expect(page.locator("head script:not([nonce])")).toHaveCount(0);
    expect(await page.title()).toContain('</title><meta http-equiv="refresh"');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });
});
