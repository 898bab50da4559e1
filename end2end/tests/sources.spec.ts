import { test, expect } from "@playwright/test";
import { expectAccessible, keepScreenshot, signedIn } from "./helpers";

// `serve --demo` reads a simulated organisation: main (us-east-1, eu-west-1),
// payments-prod (an assumed role with an external id) and legacy, whose role
// refuses the dashboard.

test("the admin sees every source and the failing one's error", async ({ page }, testInfo) => {
  await page.goto("/");
  // Every page says which source is failing and that the others are current.
  const failing = page.getByTestId("failing-sources");
  await expect(failing).toContainText("1 of 4 sources failing");
  await expect(failing).toContainText("legacy/ap-southeast-2");
  await expect(failing).toContainText("AssumeRole denied for arn:aws:iam::999999999999:role/secretscope-read");

  await failing.getByRole("link", { name: "See every source" }).click();
  await expect(page).toHaveURL(/\/sources$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sources: accounts and regions");
  const rows = page.getByTestId("source-row");
  await expect(rows).toHaveCount(4);
  const legacy = page.locator('[data-testid=source-row][data-source="legacy/ap-southeast-2"]');
  await expect(legacy).toContainText("Failing");
  await expect(legacy).toContainText("999999999999");
  await expect(legacy.getByTestId("source-error")).toContainText("the trust policy does not allow this principal");
  const payments = page.locator('[data-testid=source-row][data-source="payments-prod/us-east-1"]');
  await expect(payments).toContainText("OK");
  await expect(payments).toContainText("assumes arn:aws:iam::210987654321:role/secretscope-read");
  await expect(page.getByTestId("sources-summary")).toContainText("4 sources · 1 failing");
  await keepScreenshot(page, testInfo, "sources");
  await expectAccessible(page, testInfo, "sources");
});

test("accounts and regions are facets, columns and query terms", async ({ page }, testInfo) => {
  await page.goto("/secrets");
  const places = page.getByTestId("places");
  await expect(places).toBeVisible();
  await places.getByRole("link", { name: /^eu-west-1/ }).click();
  await expect(page).toHaveURL(/q=region%3Aeu-west-1/);
  const table = page.getByTestId("inventory");
  const where = table.locator("td.where");
  await expect(where.first()).toContainText("eu-west-1");
  for (const text of await where.allTextContents()) {
    expect(text).toContain("eu-west-1");
  }
  await expectAccessible(page, testInfo, "inventory-by-region");

  // The other account, typed as a query term; its secrets open through its own source.
  await page.goto("/secrets?q=" + encodeURIComponent("account:210987654321"));
  await expect(where.first()).toContainText("210987654321");
  await table.locator("th.name a").first().click();
  await expect(page.getByText("(source payments-prod/us-east-1)")).toBeVisible();
  await expect(page.getByText("Account / region")).toBeVisible();
});

test("a viewer sees the failing source but not the sources page", async ({ browser }) => {
  const page = await signedIn(browser, "viewer");
  await expect(page.getByTestId("failing-sources")).toContainText("legacy/ap-southeast-2");
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sources" })).toHaveCount(0);
  await page.goto("/sources");
  await expect(page.getByRole("alert").filter({ hasText: "could not be read" })).toContainText(
    "see the sources and their health",
  );
  await page.context().close();
});

test("a replicated secret is listed once, linked to its replica and back", async ({ page }, testInfo) => {
  // The seed replicates a few main-account secrets to eu-west-1; find one.
  let href: string | null = null;
  for (let p = 1; p <= 8 && !href; p++) {
    await page.goto(`/secrets?page=${p}`);
    const row = page.getByTestId("inventory").locator("tbody tr", { hasText: "replicas: eu-west-1" });
    if ((await row.count()) > 0) href = await row.first().locator("th.name a").getAttribute("href");
  }
  expect(href, "a secret replicated to eu-west-1 is in the inventory").not.toBeNull();
  await page.goto(href!);
  const name = (await page.getByRole("heading", { level: 1 }).innerText()).trim();
  // Shown once: its name finds one secret.
  await page.goto("/secrets?q=" + encodeURIComponent(`name:${name}`));
  await expect(page.getByTestId("inventory").locator("tbody tr")).toHaveCount(1);

  await page.goto(href!);
  const replication = page.locator("section[aria-labelledby=replication-h]");
  await replication.getByRole("link", { name: "eu-west-1" }).click();
  await expect(page.getByText("(source main/eu-west-1)")).toBeVisible();
  const back = page.getByTestId("primary-link");
  await expect(back).toContainText("This is a replica. Its primary is in us-east-1");
  await expectAccessible(page, testInfo, "replica");
  await back.getByRole("link").click();
  await expect(page.getByText("(source main/us-east-1)")).toBeVisible();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
});
