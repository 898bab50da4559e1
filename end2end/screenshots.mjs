// Takes the README's screenshots from a running dashboard (the release build
// of `.ci/demo`), signed in as the demo admin, in Debian chromium.
//
//   node end2end/screenshots.mjs http://127.0.0.1:3000 public/screenshots [WIDTHxHEIGHT ...]
//
// With sizes, every page is also taken at each size into OUT/WIDTHxHEIGHT/,
// for looking at layouts (those are not committed).
import { launch, signedIn as signIn } from "./signin.mjs";
import * as fs from "node:fs";
import * as path from "node:path";

const [base = "http://127.0.0.1:3000", out = "public/screenshots", ...sizes] = process.argv.slice(2);

const browser = await launch();

const signedIn = (width, height) => signIn(browser, base, width, height);

async function stuckSecret(page) {
  const rows = await (await page.request.get(`${base}/export/secrets.json`)).json();
  return rows.find((r) => r.state === "stuck" && r.name.startsWith("prod/")).name;
}

async function shoot(page, url, file, prepare) {
  await page.goto(url);
  await page.locator("body[data-hydrated=true]").waitFor({ state: "attached", timeout: 30_000 });
  await page.waitForLoadState("networkidle");
  if (prepare) await prepare(page);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file });
  console.log(file);
}

const readme = await signedIn(1440, 900);
const stuck = await stuckSecret(readme);
const pages = {
  overview: `${base}/`,
  oncall: `${base}/oncall?refresh=0`,
  inventory: `${base}/secrets`,
  "secret-detail": `${base}/secret/${stuck}`,
};
for (const [name, url] of Object.entries(pages)) await shoot(readme, url, path.join(out, `${name}.png`));
// On-call at 3 a.m. is a phone: the queue as cards.
const phone = await signedIn(390, 844);
// Scrolled to the queue: the cards are what on-call looks at.
await shoot(phone, pages.oncall, path.join(out, "oncall-phone.png"), (p) =>
  p.evaluate(() => document.querySelector("[data-testid=oncall-status]")?.scrollIntoView()),
);
await phone.context().close();

for (const size of sizes) {
  const [w, h] = size.split("x").map(Number);
  const page = await signedIn(w, h);
  const more = { ...pages, requests: `${base}/requests`, "requests-new": `${base}/requests/new`, audit: `${base}/audit`, sources: `${base}/sources` };
  for (const [name, url] of Object.entries(more)) await shoot(page, url, path.join(out, size, `${name}.png`));
  await page.context().close();
}
await browser.close();
