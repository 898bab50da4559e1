// Debian chromium and a signed-in demo admin, for the scripts that look at
// a running dashboard (screenshots.mjs, layout-bench.mjs).
import { chromium } from "@playwright/test";

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** A new page of `width` x `height`, signed in as the demo admin at `base`. */
export async function signedIn(browser, base, width, height) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.getByLabel("Name").fill("admin");
  await page.getByLabel("Password").fill("demo-admin-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
  return page;
}
