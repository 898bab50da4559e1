import { test, expect, Page, Locator, TestInfo } from "@playwright/test";
import { expectAccessible, signedIn, waitForHydration } from "./helpers";

// Every confirmation dialog, as a keyboard user meets it: focus moves in,
// Tab and Shift+Tab stay inside, Escape closes it from wherever focus is,
// and focus is back on the button that opened it (after Cancel too).

type Row = { name: string; state: string };

/** True when the focused element is inside the open dialog. */
async function focusInDialog(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const d = document.querySelector("dialog[open]");
    return !!d && d.contains(document.activeElement) && document.activeElement !== d;
  });
}

/** Walks the dialog with Tab and Shift+Tab, checking focus never leaves. */
async function tabAround(page: Page) {
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press("Tab");
    expect(await focusInDialog(page), `Tab ${i + 1} stays in the dialog`).toBe(true);
  }
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press("Shift+Tab");
    expect(await focusInDialog(page), `Shift+Tab ${i + 1} stays in the dialog`).toBe(true);
  }
}

/** Opens the dialog with the keyboard from `opener`, checks it, closes it
 *  with Escape after tabbing around, then again with Cancel. */
async function checkDialog(page: Page, opener: Locator, ready: (d: Locator) => Locator, testInfo: TestInfo, label: string) {
  await opener.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  await expect(ready(dialog)).toBeVisible();
  await expect.poll(() => focusInDialog(page), { message: "focus moves into the dialog" }).toBe(true);
  await tabAround(page);
  await expectAccessible(page, testInfo, label);
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await expect(opener).toBeFocused();

  await opener.click();
  await expect(ready(page.getByRole("dialog"))).toBeVisible();
  await page.getByRole("dialog").getByRole("button", { name: /^(Cancel|Close)$/ }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(opener).toBeFocused();
}

async function secrets(page: Page): Promise<Row[]> {
  return (await page.request.get("/export/secrets.json")).json();
}

/** The page of the first secret in `state` that offers `button`. */
async function openWith(page: Page, rows: Row[], state: string, button: string) {
  for (const r of rows.filter((r) => r.state === state).slice(0, 15)) {
    await page.goto("/secret/" + r.name.split("/").map(encodeURIComponent).join("/"));
    if (await page.locator("div.actions").getByRole("button", { name: button, exact: true }).count()) {
      await waitForHydration(page);
      return;
    }
  }
  throw new Error(`no ${state} secret offers ${button}`);
}

const effects = (d: Locator) => d.locator("ol.effects");

test.describe("dialogs keep the keyboard in and give it back", () => {
  test("every action's confirmation dialog", async ({ page }, testInfo) => {
    const rows = await secrets(page);
    const cases: [string, string][] = [
      ["stuck", "Retry rotation"],
      ["stuck", "Cancel rotation"],
      ["ok", "Rotate now"],
      ["ok", "Roll back"],
      ["deleting", "Restore"],
    ];
    for (const [state, button] of cases) {
      await openWith(page, rows, state, button);
      const opener = page.locator("div.actions").getByRole("button", { name: button, exact: true });
      await checkDialog(page, opener, effects, testInfo, `dialog-${button.toLowerCase().replace(/ /g, "-")}`);
    }
  });

  test("the approve and deny dialogs of an access request", async ({ browser }, testInfo) => {
    const viewer = await signedIn(browser, "viewer");
    const rows = await secrets(viewer);
    const name = rows.find((r) => r.state !== "deleting")!.name;
    await viewer.goto("/requests/new");
    await waitForHydration(viewer);
    const form = viewer.getByTestId("request-form");
    await form.getByLabel("Secret (name or ARN)").fill(name);
    const option = viewer.locator("#req-secrets option").first();
    await expect(option).toHaveAttribute("value", /^arn:/);
    await form.getByLabel("Secret (name or ARN)").fill((await option.getAttribute("value"))!);
    await form.getByLabel("IAM principal that needs to read it").fill("arn:aws:iam::123456789012:role/dialog-check");
    await form.getByLabel("Why (the owner reads this)").fill("Checking the dialogs with the keyboard");
    await form.getByRole("button", { name: "Request access" }).click();
    const id = (await viewer.getByTestId("request-made").innerText()).match(/Request (\d+)/)![1];
    await viewer.context().close();

    const admin = await signedIn(browser, "admin");
    await admin.goto("/requests");
    await waitForHydration(admin);
    const row = admin.getByTestId("inbox").locator(`tr[data-id="${id}"]`);
    await checkDialog(admin, row.getByRole("button", { name: `Approve request ${id}` }),
      (d) => d.getByTestId("policy-diff").or(d.getByText("Grants are off")), testInfo, "dialog-approve");
    await checkDialog(admin, row.getByRole("button", { name: `Deny request ${id}` }),
      (d) => d.getByLabel(/Why not/), testInfo, "dialog-deny");
    // Deny's first field is its reason: focus starts there.
    await row.getByRole("button", { name: `Deny request ${id}` }).click();
    const deny = admin.getByRole("dialog");
    await expect(deny.getByLabel(/Why not/)).toBeFocused();
    // Decided, so no open request is left on the secret for other specs.
    await admin.keyboard.type("Only a check of the dialogs");
    await deny.getByRole("button", { name: "Deny" }).click();
    await expect(admin.getByTestId("request-done")).toContainText(`Request ${id} denied`);
    await admin.context().close();
  });
});
