import { test, expect, Page } from "@playwright/test";
import { expectAccessible, keepScreenshot, waitForHydration } from "./helpers";

/** The first secret in the list whose state word is `state`, by scanning pages. */
async function firstWithState(page: Page, state: string): Promise<string> {
  for (let p = 1; p <= 10; p++) {
    await page.goto(`/secrets?page=${p}`);
    const row = page.locator("tbody tr", { has: page.locator(".state", { hasText: new RegExp(`^${state}$`) }) }).first();
    if ((await row.count()) > 0) return (await row.locator("th.name").innerText()).replace(/\s+/g, "");
  }
  throw new Error(`no secret in state ${state}`);
}

test.describe("secret detail", () => {
  test("a failed rotation shows its stuck AWSPENDING on the timeline and in the table", async ({ page }, testInfo) => {
    const name = await firstWithState(page, "stuck");
    await page.getByTestId("inventory").getByRole("link", { name }).click();
    await expect(page).toHaveURL(new RegExp(`/secret/${name.replace(/\//g, "/")}$`));
    await waitForHydration(page);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
    await expect(page.locator(".detail-head .state")).toHaveText("stuck");

    // The timeline: one lane per dated version, the stuck pending one marked in text.
    const svg = page.getByTestId("timeline");
    await expect(svg).toBeVisible();
    await expect(svg.locator("text", { hasText: /^AWSCURRENT$/ })).toHaveCount(1);
    await expect(svg.locator("text", { hasText: /^AWSPENDING$/ })).toHaveCount(1);
    await expect(svg.locator("text", { hasText: /^stuck$/ })).toHaveCount(1);
    await expect(svg.locator(".mark-now")).toHaveCount(1);

    // The table says the same for screen readers.
    const table = page.getByTestId("versions");
    const stuckRow = table.locator("tr.stuck");
    await expect(stuckRow).toHaveCount(1);
    await expect(stuckRow).toContainText("AWSPENDING");
    await expect(stuckRow).toContainText("never became AWSCURRENT");
    await expect(table.locator("li.lbl-current")).toHaveCount(1);

    // Rotation facts and the owner.
    const rotation = page.getByRole("region", { name: "Rotation", exact: true });
    await expect(rotation).toContainText("enabled");
    await expect(rotation).toContainText("arn:aws:lambda:");
    // Health names the failure; CloudTrail (on with --demo) has the failed rotation on record.
    await expect(page.getByTestId("findings")).toContainText("Rotation failed");
    await expect(page.getByTestId("history").locator("tr.bad-text").first()).toContainText("failed at");
    await expect(page.getByRole("region", { name: "About" })).toContainText(/Owner.*\(from the (owner tag|description)\)|Owner\s*unknown/s);

    // How to fix it names this secret, its Lambda and its pending version,
    // ready to paste; CloudTrail's message sits beside the finding it explains.
    const failed = page.getByTestId("findings").locator("li", { hasText: "Rotation failed" }).first();
    const lambda = (await rotation.locator("code.arn").innerText()).trim();
    const pendingId = (await stuckRow.locator("th code").innerText()).trim();
    const fix = failed.locator("p.fix-text");
    await expect(fix).toContainText(`/aws/lambda/${lambda.split(":")[6]} --region `);
    await expect(fix).toContainText(`rotate-secret --secret-id ${name} --region `);
    await expect(fix).toContainText(`--remove-from-version-id ${pendingId}`);
    for (const placeholder of ["<name>", "<function>", "<pending version id>", "<region>"]) {
      await expect(fix).not.toContainText(placeholder);
    }
    const box = page.getByTestId("rotation-failure").locator(".msg");
    const message = (await box.count())
      ? await box.innerText()
      : await page.getByTestId("history").locator("tr.bad-text").first().locator("td").nth(3).innerText();
    expect(message.trim().length).toBeGreaterThan(0);
    await expect(failed.getByTestId("trail-note")).toContainText(message.trim());
    await expectAccessible(page, testInfo, "detail-stuck");
    await keepScreenshot(page, testInfo, "detail-stuck");

    // Deprecated versions on request, then hidden again.
    const show = page.getByRole("link", { name: /Show \d+ deprecated version/ });
    if ((await show.count()) > 0) {
      const n = Number((await show.innerText()).match(/\d+/)![0]);
      const before = await table.locator("tbody tr").count();
      await show.click();
      await expect(page).toHaveURL(/deprecated=1/);
      await expect(table.locator("tbody tr")).toHaveCount(before + n);
      await expect(table).toContainText("deprecated");
      await page.getByRole("link", { name: "Hide deprecated versions" }).click();
      await expect(table.locator("tbody tr")).toHaveCount(before);
    }

    // Refresh reads the secret again from the endpoint and says when.
    await page.getByRole("button", { name: "Refresh from AWS" }).click();
    await expect(page.locator(".freshness")).toContainText(/Read from Secrets Manager (\d+ s|just now|0 s)/);
    await expect(page.getByRole("alert")).toHaveCount(0);
  });

  test("a secret scheduled for deletion shows its recovery deadline, without JavaScript too", async ({ browser }, testInfo) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const name = await firstWithState(page, "deleting");
    await page.goto("/secret/" + name.split("/").map(encodeURIComponent).join("/"));
    const section = page.getByRole("note");
    await expect(section).toContainText("Scheduled for deletion");
    await expect(section).toContainText("It can be restored until");
    await expect(section).toContainText("30-day recovery window");
    // AWS keeps the policy of a deleted secret to itself; the page says so.
    await expect(page.getByRole("region", { name: "Resource policy" })).toContainText(
      "AWS does not return the resource policy of a secret scheduled for deletion",
    );
    // The timeline is server-rendered SVG.
    await expect(page.getByTestId("timeline")).toBeVisible();
    await keepScreenshot(page, testInfo, "detail-deleting");
    await context.close();
  });

  test("a secret scheduled for deletion is accessible", async ({ page }, testInfo) => {
    const name = await firstWithState(page, "deleting");
    await page.goto("/secret/" + name.split("/").map(encodeURIComponent).join("/"));
    await waitForHydration(page);
    await expect(page.getByRole("note")).toContainText("Scheduled for deletion");
    await expectAccessible(page, testInfo, "detail-deleting");
  });

  test("replicas, the resource policy, an ARN address and an unknown secret", async ({ page, request }, testInfo) => {
    // Replica status and policies are read live per secret, so look for one
    // of each through the server-rendered pages.
    const all: { name: string; arn: string }[] = await (await request.get("/export/secrets.json")).json();
    let replicated: { name: string; arn: string } | undefined;
    let withPolicy: string | undefined;
    for (const r of all) {
      if (replicated && withPolicy) break;
      const html = await (await request.get("/secret/" + r.arn.split("/").map(encodeURIComponent).join("/"))).text();
      if (!replicated && html.includes(">Replicas</caption>")) replicated = r;
      if (!withPolicy && html.includes('<ul class="policy">')) withPolicy = r.name;
    }
    expect(replicated, "the seed has replicated secrets").toBeTruthy();
    expect(withPolicy, "the seed has resource policies").toBeTruthy();
    await page.goto("/secret/" + replicated.arn.split("/").map(encodeURIComponent).join("/"));
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(replicated.name);
    const replication = page.getByRole("region", { name: "Replication" });
    await expect(replication.locator("tbody tr").first()).toBeVisible();
    await expect(replication.locator("tbody tr .state").first()).toHaveText(/InSync|Failed|InProgress/);
    await expectAccessible(page, testInfo, "detail-replicated");
    await keepScreenshot(page, testInfo, "detail-replicated");

    await page.goto("/secret/" + withPolicy!.split("/").map(encodeURIComponent).join("/"));
    const policy = page.getByRole("region", { name: "Resource policy" });
    await expect(policy.locator("ul.policy li").first()).toContainText(/^(Allow|Deny) /);
    await policy.getByText("Raw policy JSON").click();
    await expect(policy.locator("pre")).toContainText('"Statement"');
    await expectAccessible(page, testInfo, "detail-policy");
    await keepScreenshot(page, testInfo, "detail-policy");

    // Unknown secrets say so and offer a way back.
    await page.goto("/secret/no/such/secret");
    await expect(page.getByRole("alert")).toContainText("No secret named “no/such/secret” is in the inventory");
    await expect(page.getByRole("link", { name: "Back to the inventory" })).toBeVisible();
  });
  test("on a phone (390 px) no secret's page scrolls sideways; tables scroll in their own box", async ({ page, request }, testInfo) => {
    await page.setViewportSize({ width: 390, height: 844 });
    const rows: { name: string; state: string }[] = await (await request.get("/export/secrets.json")).json();
    const picks = ["stuck", "deleting", "ok", "overdue", "no rotation"].flatMap((s) => rows.filter((r) => r.state === s).slice(0, 3));
    // Long names, replicas and readers' tables are where it used to break.
    picks.push(...rows.filter((r) => r.name.length > 40).slice(0, 2));
    for (const r of picks) {
      await page.goto("/secret/" + r.name.split("/").map(encodeURIComponent).join("/"));
      await waitForHydration(page);
      await page.waitForLoadState("networkidle");
      const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(over, `${r.name} scrolls sideways by ${over} px`).toBeLessThanOrEqual(0);
    }
    await expectAccessible(page, testInfo, "detail-390");
  });
});
