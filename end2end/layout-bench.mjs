// Measures the layout of every page at the three screen sizes the dashboard
// is checked at, signed in as the demo admin, in Debian chromium:
//   - rows whole in view on the first screen (inventory, on-call),
//   - the page's height,
//   - how far the page scrolls sideways (document width past the viewport),
//   - table cells that stick out of their table's box.
// It prints one line per page and size (a measurement, not a test: the specs
// in tests/layout.spec.ts assert only the layout rules).
//
//   node end2end/layout-bench.mjs http://127.0.0.1:3000
//
// bench/layout_bench.py starts a demo server and runs this against it.
import { launch, signedIn as signIn } from "./signin.mjs";

const [base = "http://127.0.0.1:3000"] = process.argv.slice(2);
const sizes = [
  [1440, 900],
  [1280, 800],
  [390, 844],
];

const browser = await launch();

const signedIn = (width, height) => signIn(browser, base, width, height);

/** What the page looks like on its first screen. */
function measure() {
  const vh = window.innerHeight;
  const vw = document.documentElement.clientWidth;
  const sideways = Math.max(0, document.documentElement.scrollWidth - vw);
  let outside = 0;
  for (const table of document.querySelectorAll("table")) {
    const box = table.getBoundingClientRect();
    for (const cell of table.querySelectorAll("td, th")) {
      const r = cell.getBoundingClientRect();
      if (r.width === 0) continue;
      if (r.right > box.right + 1 || r.left < box.left - 1) outside++;
    }
  }
  // Rows: table body rows, or cards in a list of incidents.
  const rows = [...document.querySelectorAll("main tbody tr, main .incident")].filter((r) => r.getBoundingClientRect().height > 0);
  const inView = rows.filter((r) => {
    const b = r.getBoundingClientRect();
    return b.top >= 0 && b.bottom <= vh;
  }).length;
  return { sideways, outside, rows: rows.length, inView, height: document.documentElement.scrollHeight };
}

const results = [];
for (const [w, h] of sizes) {
  const page = await signedIn(w, h);
  const rows = await (await page.request.get(`${base}/export/secrets.json`)).json();
  const stuck = rows.find((r) => r.state === "stuck" && r.name.startsWith("prod/"))?.name ?? rows[0].name;
  const pages = {
    overview: "/",
    inventory: "/secrets",
    "inventory compact": "/secrets?density=compact",
    oncall: "/oncall?refresh=0",
    secret: `/secret/${stuck}`,
    requests: "/requests",
    "requests/new": `/requests/new?secret=${encodeURIComponent(stuck)}`,
    audit: "/audit",
    sources: "/sources",
  };
  for (const [name, path] of Object.entries(pages)) {
    await page.goto(`${base}${path}`);
    await page.waitForLoadState("networkidle");
    const m = await page.evaluate(measure);
    results.push({ size: `${w}x${h}`, page: name, ...m });
    console.log(
      `${`${w}x${h}`.padEnd(9)} ${name.padEnd(18)} rows in view ${String(m.inView).padStart(3)} of ${String(m.rows).padStart(3)}` +
        `  height ${String(m.height).padStart(6)} px  sideways ${String(m.sideways).padStart(4)} px  cells outside tables ${m.outside}`,
    );
  }
  await page.context().close();
}
await browser.close();
if (process.env.LAYOUT_JSON) (await import("node:fs")).writeFileSync(process.env.LAYOUT_JSON, JSON.stringify(results, null, 2));
