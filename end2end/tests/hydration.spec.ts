import { test, expect, Page, ConsoleMessage } from "@playwright/test";
import { waitForHydration } from "./helpers";

// Every page must hydrate its islands without a console error or an uncaught
// exception. This runs on the debug build and on the release build (whose
// wasm goes through wasm-opt): a release bundle that wasm-opt broke logs
// "WebAssembly.Table.set(): Argument 1 is invalid for table" and never sets
// body[data-hydrated], and this spec is what sees it.

/** Records console errors and uncaught exceptions from the moment it is
 * called. Chromium logs a page's own error status (the 404 page answers 404)
 * as a console error about the document itself: that one is the page's
 * meaning, not a hydration error, and is left out. */
function watchErrors(page: Page, path: string): string[] {
  const errors: string[] = [];
  page.on("console", (m: ConsoleMessage) => {
    const at = m.location().url;
    const own =
      m.text().startsWith("Failed to load resource") &&
      at !== "" &&
      URL.canParse(at) &&
      new URL(at).pathname === new URL(path, "http://x").pathname;
    if (m.type() === "error" && !own) errors.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => errors.push(`uncaught: ${e.name}: ${e.message}`));
  page.on("crash", () => errors.push("the page crashed"));
  return errors;
}

async function firstSecret(page: Page, filter: (r: { name: string; state: string }) => boolean): Promise<string> {
  const rows: { name: string; state: string }[] = await (await page.request.get("/export/secrets.json")).json();
  const row = rows.find(filter);
  expect(row, "the demo seed has such a secret").toBeTruthy();
  return row!.name;
}

async function expectHydratesCleanly(page: Page, path: string) {
  const errors = watchErrors(page, path);
  const res = await page.goto(path);
  expect(res, `${path} answered`).not.toBeNull();
  try {
    await waitForHydration(page);
  } catch {
    throw new Error(`${path} never hydrated (body[data-hydrated] not set). Console: ${errors.join(" | ") || "nothing"}`);
  }
  // Let anything the islands start right away (effects, first fetches) run.
  await page.waitForLoadState("networkidle");
  expect(errors, `${path} hydrated with errors`).toEqual([]);
}

test.describe("every page hydrates without an error", () => {
  const pages = [
    "/",
    "/secrets",
    "/secrets?q=health:critical",
    "/oncall",
    "/requests",
    "/requests/new",
    "/audit",
    "/sources",
    "/no/such/page",
  ];
  for (const path of pages) {
    test(`signed in: ${path}`, async ({ page }) => {
      await expectHydratesCleanly(page, path);
    });
  }

  test("signed in: a secret with a failed rotation (actions, refresh, access request)", async ({ page }) => {
    const name = await firstSecret(page, (r) => r.state === "stuck");
    await expectHydratesCleanly(page, `/secret/${name}`);
    // The islands on it are live: the action buttons open their dialog.
    await expect(page.getByRole("button", { name: "Refresh from AWS" })).toBeEnabled();
  });

  test("signed in: a secret scheduled for deletion", async ({ page }) => {
    const name = await firstSecret(page, (r) => r.state === "deleting");
    await expectHydratesCleanly(page, `/secret/${name}`);
  });

  test("signed out: the sign-in page", async ({ browser }) => {
    const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
    const page = await context.newPage();
    await expectHydratesCleanly(page, "/login");
    await context.close();
  });
});
