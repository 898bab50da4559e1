import { chromium } from "@playwright/test";
const [base, out, scheme = "dark", w = "1440", h = "900", ...paths] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
const context = await browser.newContext({ viewport: { width: +w, height: +h }, colorScheme: scheme });
const page = await context.newPage();
await page.goto(`${base}/login`);
await page.getByLabel("Name").fill("admin");
await page.getByLabel("Password").fill("demo-admin-password");
await page.getByRole("button", { name: "Sign in" }).click();
await page.getByRole("navigation", { name: "Main" }).waitFor();
let i = 0;
for (const p of paths) {
  await page.goto(`${base}${p}`);
  await page.waitForLoadState("networkidle");
  const f = `${out}/${scheme}-${w}-${i++}.png`;
  await page.screenshot({ path: f });
  console.log(f, p);
}
await browser.close();
