import { defineConfig } from "@playwright/test";
import * as path from "node:path";

// The test command picks a free loopback port and passes it in E2E_PORT, so
// every worker (which re-reads this file) agrees on it.
const port = Number(process.env.E2E_PORT || 3917);
const bin = process.env.SECRETSCOPE_BIN || path.resolve(__dirname, "../target/debug/secretscope");
// The site (wasm, JS, CSS) the server hands out: .ci/test builds the debug
// site into target/site-debug and the release site into target/site.
const siteRoot = process.env.E2E_SITE_ROOT;
export const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  outputDir: "artifacts/results",
  globalSetup: "./global-setup.ts",
  use: {
    baseURL,
    storageState: "artifacts/admin-state.json",
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    // The server stops when the tests end (Playwright kills it).
    command: `${bin} serve --demo --bind 127.0.0.1:${port}` + (siteRoot ? ` --site-root ${siteRoot}` : ""),
    cwd: path.resolve(__dirname, ".."),
    url: `${baseURL}/readyz`,
    timeout: 120_000,
    reuseExistingServer: false,
    // The specs act as one operator many times a minute on a fast machine;
    // the per-user action limit has its own test (server/aws/tests/actions.rs).
    // They also open dozens of secret pages in a row, each reading its
    // rotation history from the demo's CloudTrail, whose simulated reads make
    // several pages a secret: at AWS's 2 calls a second that alone outlasts a
    // spec. The quota itself is tested in src/tests/readers.rs. The
    // background readers pass would change findings (new readers, reads
    // after deletion) while a spec compares the overview's counts with the
    // lists; it is tested there too, and is off here.
    env: {
      ...(process.env as Record<string, string>),
      SECRETSCOPE_ACTIONS_PER_USER_PER_MINUTE: "1000",
      SECRETSCOPE_CLOUDTRAIL_CALLS_PER_SECOND: "50",
      SECRETSCOPE_READERS_BACKGROUND_SHARE: "0",
    },
    stdout: "pipe",
    stderr: "pipe",
  },
});
