import { test, expect, Page } from "@playwright/test";
import { expectAccessible, keepScreenshot, signedIn, waitForHydration } from "./helpers";
import { baseURL } from "../playwright.config";
import AxeBuilder from "@axe-core/playwright";

// Who reads a secret: the Readers section of its page and the readers the
// action and approval dialogs show, from the demo endpoint's simulated
// GetSecretValue events in its CloudTrail. The secrets are picked with the
// demo's plan (GET /__secretscope/plan: each secret's planned readers) when
// the endpoint publishes one, and checked against what the dashboard's own
// server function answers, so the figures on screen are compared with the
// server's, not with guesses.

const DAY = 86_400;

type Row = { name: string; arn: string; account: string; state: string; rotation_lambda: string | null };
type Failure = { error: string | { other: string }; count: number; first: number; last: number };
type Reader = {
  principal: { arn: string; account: string | null; kind: string };
  ours: boolean;
  first: number;
  last: number;
  reads: number;
  failures: Failure[];
  asked: { asked: string | Record<string, string>; count: number; last: number }[];
};
type View = {
  readers: { since: number; until: number; cut_short_at: number | null; events: number; readers: Reader[] } | null;
  loading: unknown;
  unavailable: string | null;
  lookback_days: number;
  at: number;
};
type Planned = { arn: string; name: string; deleted: boolean; readers?: { kind?: string; error?: unknown; until?: number | null }[] };

async function secrets(page: Page): Promise<Row[]> {
  return (await page.request.get("/export/secrets.json")).json();
}

/** The readers the server finds for `id` (a name or ARN), once its lookup is done. */
async function readersOf(page: Page, id: string, refresh = false): Promise<View> {
  for (let i = 0; i < 300; i++) {
    const res = await page.request.post("/api/get_readers", {
      form: { id, refresh: String(refresh && i === 0) },
      headers: { Origin: baseURL },
    });
    expect(res.status()).toBe(200);
    const v: View = await res.json();
    if (!v.loading) return v;
    await page.waitForTimeout(1000);
  }
  throw new Error(`the readers lookup of ${id} did not finish in 5 minutes`);
}

/** The demo endpoint's URL: the header's sync status names the source it reads. */
async function demoEndpoint(page: Page): Promise<string | null> {
  await page.goto("/");
  const span = page.getByTestId("sync-status").locator("span[title]").first();
  await expect(span).toHaveAttribute("title", /./);
  return (await span.getAttribute("title"))?.match(/demo organisation at (http:\/\/[^\s]+)/)?.[1] ?? null;
}

/** The demo's plan (its first account's secrets), or nothing when it is not published. */
async function demoPlan(page: Page, demo: string | null): Promise<Planned[]> {
  if (!demo) return [];
  const res = await page.request.get(`${demo}/__secretscope/plan`);
  return res.ok() ? res.json() : [];
}

/** A planned reader's kind, as a bare word (`Steady`, `after-deletion` → `steady`, `afterdeletion`). */
const kindOf = (r: { kind?: string }) => (r.kind || "").toLowerCase().replace(/[^a-z]/g, "");

/** The rows that may serve, those the plan says fit first (the plan is as
 * seeded: an earlier spec may have restored or rotated its secret since);
 * only names used once (the access form and the dialogs name a secret by
 * its name). */
function ordered(all: Row[], plan: Planned[], planned: (p: Planned) => boolean, may: (r: Row) => boolean): Row[] {
  const uses = new Map<string, number>();
  for (const r of all) uses.set(r.name, (uses.get(r.name) || 0) + 1);
  const rows = all.filter((r) => uses.get(r.name) === 1 && may(r));
  const fit = new Set(plan.filter(planned).map((p) => p.arn));
  return [...rows.filter((r) => fit.has(r.arn)), ...rows.filter((r) => !fit.has(r.arn))];
}

/** The first of `rows` whose readers (as the server reads them) satisfy `pick`. */
async function firstWith<T>(page: Page, rows: Row[], pick: (v: View, r: Row) => T | undefined, tries = 12) {
  for (const row of rows.slice(0, tries)) {
    const v = await readersOf(page, row.arn);
    const found = pick(v, row);
    if (found !== undefined) return { row, v, found };
  }
  throw new Error(`none of ${Math.min(tries, rows.length)} secrets has the readers this test needs`);
}

const steady = (p: Planned) => !p.deleted && (p.readers || []).some((r) => kindOf(r) === "steady" && !r.error);
const principalName = (arn: string) => arn.split("/").pop()!;
/** A secret's page by its ARN: a name can be in several accounts and regions. */
const pageOf = (row: Row) => "/secret/" + row.arn.split("/").map(encodeURIComponent).join("/");
const section = (page: Page) => page.getByTestId("readers");

async function readersLoaded(page: Page) {
  await expect(page.getByTestId("readers-status")).toHaveAttribute("data-loading", "false", { timeout: 180_000 });
}

test.describe("readers", () => {
  test("the secret's page lists its readers, Refresh reads CloudTrail again, and the table scrolls in its box on a phone", async ({ page }, testInfo) => {
    test.setTimeout(600_000);
    const demo = await demoEndpoint(page);
    const rows = await secrets(page);
    const plan = await demoPlan(page, demo);
    const { row, v, found: reader } = await firstWith(
      page,
      ordered(rows, plan, steady, (r) => r.state !== "deleting"),
      (v) => [...(v.readers?.readers || [])].filter((r) => r.reads > 0).sort((a, b) => b.reads - a.reads)[0],
    );

    await page.goto(pageOf(row));
    await waitForHydration(page);
    await readersLoaded(page);
    const readers = section(page);
    await expect(readers.getByRole("heading", { name: "Readers" })).toBeVisible();
    await expect(readers).toContainText(`GetSecretValue events in CloudTrail, the last ${v.lookback_days} days (since `);
    await expect(page.getByTestId("readers-status")).toContainText(`${v.readers!.readers.length} reader`);
    const tr = readers.locator(`tr[data-principal=${JSON.stringify(reader.principal.arn)}]`);
    await expect(tr).toHaveAttribute("data-reads", String(reader.reads));
    await expect(tr.locator(".reader-name")).toHaveText(principalName(reader.principal.arn));
    await expect(tr.locator(".reader-name")).toHaveAttribute("title", reader.principal.arn);
    if (reader.principal.account) await expect(tr).toContainText(reader.principal.account);
    await expect(tr.locator(".badge")).toHaveText(reader.ours ? "ours" : "outside");
    if (reader.asked.some((a) => a.asked === "default")) await expect(tr.locator("td.asked")).toContainText("AWSCURRENT (default)");
    await expect(tr.locator("time").first()).toHaveAttribute("datetime", /^\d{4}-\d\d-\d\dT/);
    await expectAccessible(page, testInfo, "secret-readers");
    await keepScreenshot(page, testInfo, "secret-readers");

    // Refresh: reads CloudTrail again, on top of what it had: a reader added
    // just now through the demo's reads route appears with its three reads.
    const added = `arn:aws:iam::${row.account}:role/e2e-refresh-reader`;
    const add = demo
      ? await page.request.post(`${demo}/__secretscope/reads`, {
          data: { secret_id: row.arn, principal: added, account: row.account, session: "e2e-refresh", start_ms: (v.at - 300) * 1000, every_ms: 60_000, count: 3 },
        })
      : null;
    const refresh = readers.getByTestId("readers-refresh");
    await expect(refresh).toBeEnabled();
    await refresh.click();
    await readersLoaded(page);
    await expect(refresh).toHaveText("Refresh");
    await expect(readers.getByRole("alert")).toHaveCount(0);
    await expect(tr).toBeVisible();
    if (add) {
      expect(add.status(), await add.text()).toBe(200);
      await expect(readers.locator(`tr[data-principal=${JSON.stringify(added)}]`)).toHaveAttribute("data-reads", "3");
      await expect(page.getByTestId("readers-status")).toContainText(`${v.readers!.readers.length + 1} readers`);
    }

    // A phone: the table scrolls inside its own box, the page never sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    const box = page.getByTestId("readers-table-box");
    await box.scrollIntoViewIfNeeded();
    const m = await box.evaluate((e) => ({ right: e.getBoundingClientRect().right, overflow: getComputedStyle(e).overflowX }));
    expect(m.right).toBeLessThanOrEqual(390);
    expect(m.overflow).toBe("auto");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // The section alone: at this width the versions timeline (timeline.rs)
    // scrolls in a box that cannot take the keyboard's focus yet.
    const narrow = await new AxeBuilder({ page }).include('[data-testid="readers"]').analyze();
    expect(narrow.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);
    await keepScreenshot(page, testInfo, "secret-readers-390");
  });

  test("roll back, cancel or retry: the dialog lists who read the secret in the last 24 hours", async ({ browser }, testInfo) => {
    test.setTimeout(600_000);
    const page = await signedIn(browser, "operator");
    const demo = await demoEndpoint(page);
    const rows = await secrets(page);
    const plan = await demoPlan(page, demo);
    const buttons = ["Roll back", "Retry rotation", "Cancel rotation"];
    let chosen: { name: string; recent: Reader[]; button: string } | undefined;
    // Readers still reading: no end, or an end within the last half day.
    const recently = (p: Planned) => steady(p) && (p.readers || []).some((r) => !r.until || r.until > Date.now() - 12 * 3600_000);
    const candidates = ordered(rows, plan, (p) => recently(p) && rows.some((r) => r.arn === p.arn && !!r.rotation_lambda), (r) => r.state !== "deleting" && !!r.rotation_lambda);
    for (const row of candidates.slice(0, 15)) {
      const v = await readersOf(page, row.arn);
      const recent = (v.readers?.readers || []).filter((r) => r.last >= v.at - DAY);
      if (!recent.length) continue;
      await page.goto(pageOf(row));
      await waitForHydration(page);
      for (const b of buttons) {
        if (await page.getByRole("button", { name: b, exact: true }).count()) {
          chosen = { name: row.name, recent, button: b };
          break;
        }
      }
      if (chosen) break;
    }
    expect(chosen, "a secret read in the last day that can be rolled back, cancelled or retried").toBeTruthy();
    const { name, recent, button } = chosen!;

    await page.getByRole("button", { name: button, exact: true }).click();
    const dialog = page.getByRole("dialog", { name: `${button} ${name}` });
    const brief = dialog.getByTestId("readers-brief");
    await expect(brief).toHaveAttribute("data-focus", "last-day");
    await expect(brief).toHaveAttribute("data-loading", "false", { timeout: 180_000 });
    await expect(brief.getByRole("heading", { name: "Read in the last 24 hours by:" })).toBeVisible();
    for (const r of recent) {
      const li = brief.locator(`li[data-principal=${JSON.stringify(r.principal.arn)}]`);
      await expect(li).toContainText(principalName(r.principal.arn));
      await expect(li).toContainText("last read");
    }
    await expect(brief.locator("li")).toHaveCount(recent.length);
    // The dialog still does what it did: its action and Cancel.
    await expect(dialog.getByRole("button", { name: button })).toBeVisible();
    await expectAccessible(page, testInfo, "dialog-readers-last-day");
    await keepScreenshot(page, testInfo, "dialog-readers-last-day");
    await page.keyboard.press("Escape");
    await expect(dialog).toHaveCount(0);
    await page.context().close();
  });

  test("restore: the dialog lists the failed reads since the deletion was scheduled", async ({ browser }, testInfo) => {
    test.setTimeout(600_000);
    const page = await signedIn(browser, "operator");
    const demo = await demoEndpoint(page);
    const rows = await secrets(page);
    const plan = await demoPlan(page, demo);
    const afterDeletion = (p: Planned) => p.deleted && (p.readers || []).some((r) => kindOf(r) === "afterdeletion");
    let chosen: { row: Row; reader: Reader } | undefined;
    for (const row of ordered(rows, plan, afterDeletion, (r) => r.state === "deleting").slice(0, 12)) {
      const v = await readersOf(page, row.arn);
      const reader = (v.readers?.readers || []).find((r) => r.failures.some((f) => f.error === "marked-for-deletion"));
      if (!reader) continue;
      await page.goto(pageOf(row));
      await waitForHydration(page);
      // Still scheduled for deletion (another spec may have restored it).
      if (await page.getByRole("button", { name: "Restore", exact: true }).count()) {
        chosen = { row, reader };
        break;
      }
    }
    expect(chosen, "a secret scheduled for deletion with failed reads since").toBeTruthy();
    const { row, reader } = chosen!;
    await readersLoaded(page);
    const tr = section(page).locator(`tr[data-principal=${JSON.stringify(reader.principal.arn)}]`);
    await expect(tr.locator("td.failures")).toContainText("marked for deletion");

    await page.getByRole("button", { name: "Restore", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: `Restore ${row.name}` });
    const brief = dialog.getByTestId("readers-brief");
    await expect(brief).toHaveAttribute("data-focus", "since-deletion");
    await expect(brief).toHaveAttribute("data-loading", "false", { timeout: 180_000 });
    await expect(brief.getByRole("heading", { name: /^Failed reads since deletion was scheduled \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\):$/ })).toBeVisible();
    const li = brief.locator(`li[data-principal=${JSON.stringify(reader.principal.arn)}]`);
    await expect(li).toContainText(principalName(reader.principal.arn));
    await expect(li).toContainText(/\d+ × marked for deletion, last /);
    await expectAccessible(page, testInfo, "dialog-readers-since-deletion");
    await keepScreenshot(page, testInfo, "dialog-readers-since-deletion");
    await page.keyboard.press("Escape");
    await expect(dialog).toHaveCount(0);
    await page.context().close();
  });

  test("approving access says whether the principal already reads the secret, and who else does", async ({ browser }, testInfo) => {
    test.setTimeout(600_000);
    const viewer = await signedIn(browser, "viewer");
    const demo = await demoEndpoint(viewer);
    const rows = await secrets(viewer);
    const plan = await demoPlan(viewer, demo);
    const { row, v, found: reader } = await firstWith(
      viewer,
      ordered(rows, plan, steady, (r) => r.state !== "deleting"),
      (v) =>
        [...(v.readers?.readers || [])]
          .filter((r) => r.reads > 0 && /^arn:aws:iam::\d{12}:(role|user)\//.test(r.principal.arn))
          .sort((a, b) => b.reads - a.reads)[0],
    );
    const stranger = `arn:aws:iam::${row.account}:role/e2e-not-a-reader`;

    await viewer.goto(pageOf(row));
    await waitForHydration(viewer);
    await viewer.getByTestId("access").locator("summary").click();
    const form = viewer.getByTestId("request-form");
    const ids: string[] = [];
    for (const principal of [reader.principal.arn, stranger]) {
      await form.getByLabel("IAM principal that needs to read it").fill(principal);
      await form.getByLabel("Why (the owner reads this)").fill(`Checking who already reads it (${principalName(principal)})`);
      await form.getByRole("button", { name: "Request access" }).click();
      const made = viewer.getByTestId("request-made");
      await expect(made).toContainText(/Request \d+ sent/);
      ids.push((await made.innerText()).match(/Request (\d+)/)![1]);
    }

    const admin = await signedIn(browser, "admin");
    await admin.goto("/requests");
    await waitForHydration(admin);
    const others = v.readers!.readers.filter((r) => r.principal.arn !== reader.principal.arn);
    for (const [i, id] of ids.entries()) {
      await admin.getByTestId("inbox").locator(`tr[data-id="${id}"]`).getByRole("button", { name: `Approve request ${id}` }).click();
      const dialog = admin.getByRole("dialog", { name: `Approve request ${id} for ${row.name}` });
      const brief = dialog.getByTestId("readers-brief");
      await expect(brief).toHaveAttribute("data-focus", "principal");
      await expect(brief).toHaveAttribute("data-loading", "false", { timeout: 180_000 });
      await expect(brief.getByRole("heading", { name: "Who reads it" })).toBeVisible();
      const own = brief.getByTestId("brief-principal");
      if (i === 0) {
        await expect(own).toHaveAttribute("data-reads", "true");
        await expect(own).toContainText(/^This principal already reads it \(\d+ reads?, last \d{4}-\d\d-\d\d \d\d:\d\d UTC\)\.$/);
      } else {
        await expect(own).toHaveAttribute("data-reads", "false");
        await expect(own).toHaveText(`This principal has not read it in the last ${v.lookback_days} days.`);
        // Everyone who reads it is someone else to this principal.
        await expect(brief.locator(`li[data-principal=${JSON.stringify(reader.principal.arn)}]`)).toBeVisible();
      }
      if (i === 0 && others.length) {
        await expect(brief.getByText("Also read by:")).toBeVisible();
        await expect(brief.locator("li")).toHaveCount(Math.min(others.length, 8));
        if (others.length > 8) await expect(brief).toContainText(`and ${others.length - 8} more`);
      }
      // The approval still shows what it changes, and can be left undecided.
      await expect(dialog.getByTestId("policy-diff")).toBeVisible();
      await expectAccessible(admin, testInfo, `approve-dialog-readers-${i}`);
      await keepScreenshot(admin, testInfo, `approve-dialog-readers-${i}`);
      await dialog.getByRole("button", { name: "Cancel" }).click();
      await expect(dialog).toHaveCount(0);
    }
    await viewer.context().close();
    await admin.context().close();
  });

  test("a lookup in progress is followed until done, and what CloudTrail recorded stays text", async ({ page }, testInfo) => {
    // The cut-short note, CloudTrail off and the escaping of every field are
    // tested on the server's own rendering (src/tests/fragments.rs,
    // src/tests/readers.rs); here the browser's side: following a lookup
    // and showing what the server rendered, as text.
    const demo = await demoEndpoint(page);
    expect(demo, "the server under test runs the demo endpoint (its reads route adds the reads)").toBeTruthy();
    const rows = await secrets(page);
    const row = rows.find((r) => r.state !== "deleting")!;
    // A version stage is any string to AWS: whoever may call GetSecretValue
    // chooses it, and CloudTrail records it as asked.
    const hostile = `x-<img src=x onerror="window.__pwned=1">`;
    const add = await page.request.post(`${demo}/__secretscope/reads`, {
      data: {
        secret_id: row.arn,
        principal: `arn:aws:iam::${row.account}:role/e2e-hostile-stage`,
        account: row.account,
        session: "e2e-hostile",
        stage: hostile,
        // Minutes ago: a refresh reads what is newer than the last lookup of
        // this secret (with 15 minutes of overlap), and other specs may
        // have looked it up already.
        start_ms: Date.now() - 180_000,
        every_ms: 30_000,
        count: 3,
      },
    });
    expect(add.status(), await add.text()).toBe(200);
    // The first answers say the lookup is still paging in (made up here:
    // the demo's CloudTrail answers too fast to see it); then the server's.
    let calls = 0;
    await page.route("**/api/readers_fragment", (route) => {
      calls++;
      if (calls < 4) {
        return route.fulfill({
          json: {
            heading: "Readers",
            status: `Reading CloudTrail: ${calls * 4} pages, ${calls * 150} reads, back to 2026-11-2${calls} 07:00 UTC`,
            html: `<progress class="readers-progress" max="1" value="0.${calls}" aria-label="How far back CloudTrail has been read"></progress>`,
            more: true,
          },
        });
      }
      return route.continue();
    });
    page.on("dialog", (d) => d.dismiss());
    await page.goto(pageOf(row));
    await waitForHydration(page);
    const readers = section(page);
    const status = page.getByTestId("readers-status");
    await expect(status).toHaveAttribute("aria-live", "polite");
    await expect(status).toContainText(/Reading CloudTrail: \d+ pages, \d+ reads, back to \d{4}-\d\d-\d\d/);
    await expect(readers.locator("progress")).toBeVisible();
    await expect(readers.getByTestId("readers-refresh")).toBeDisabled();
    await expectAccessible(page, testInfo, "readers-loading");
    await readersLoaded(page);
    expect(calls).toBeGreaterThanOrEqual(4);
    await expect(readers.locator("progress")).toHaveCount(0);
    // Read again, so the reads added above are in (a lookup is reused for a
    // while): wait for the refreshed answer, then for its lookup to finish.
    await Promise.all([
      page.waitForResponse((r) => r.url().includes("readers_fragment") && (r.request().postData() || "").includes("refresh=true")),
      readers.getByTestId("readers-refresh").click(),
    ]);
    await readersLoaded(page);
    const tr = readers.locator(`tr[data-principal$="role/e2e-hostile-stage"]`);
    await expect(tr.locator("td.asked")).toContainText(hostile);
    await expect(readers.locator("img")).toHaveCount(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await expectAccessible(page, testInfo, "readers-hostile");
    await keepScreenshot(page, testInfo, "readers-hostile");
  });
});
