import { test, expect, Browser, Page } from "@playwright/test";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { expectAccessible, keepScreenshot } from "./helpers";

// Single sign-on against a real OpenID Connect provider (npm oidc-provider,
// end2end/oidc/provider.mjs) and a second secretscope configured for it,
// with password sign-in turned off. Both listen on free loopback ports and
// are stopped after the tests.

const bin = process.env.SECRETSCOPE_BIN || path.resolve(__dirname, "../../target/debug/secretscope");
let idp: ChildProcess;
let app: ChildProcess;
let base = "";
let dir = "";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

async function waitFor(url: string, proc: ChildProcess, what: string) {
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not answer ${url}`);
}

test.beforeAll(async () => {
  const [idpPort, appPort] = [await freePort(), await freePort()];
  base = `http://127.0.0.1:${appPort}`;
  idp = spawn("node", [path.resolve(__dirname, "../oidc/provider.mjs"), String(idpPort), `${base}/auth/oidc/callback`], {
    stdio: "inherit",
  });
  await waitFor(`http://127.0.0.1:${idpPort}/.well-known/openid-configuration`, idp, "the OIDC provider");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "secretscope-oidc-"));
  const config = path.join(dir, "secretscope.toml");
  fs.writeFileSync(
    config,
    [
      "[auth]",
      "password_login = false",
      `public_url = "${base}"`,
      "[auth.oidc]",
      `issuer_url = "http://127.0.0.1:${idpPort}"`,
      'client_id = "secretscope"',
      'client_secret = "e2e-client-secret"',
      'scopes = ["profile", "email", "groups"]',
      'label = "Test IdP"',
      "[auth.oidc.groups]",
      'secops = ["admin on *"]',
      '"payments-oncall" = ["operator on prefix:prod/payments/"]',
      "",
    ].join("\n"),
  );
  app = spawn(bin, ["--config", config, "serve", "--demo", "--bind", `127.0.0.1:${appPort}`], {
    cwd: path.resolve(__dirname, "../.."),
    stdio: "ignore",
  });
  await waitFor(`${base}/readyz`, app, "secretscope");
});

test.afterAll(async () => {
  app?.kill();
  idp?.kill();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function fresh(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  return context.newPage();
}

/** From secretscope's sign-in page through the provider's login and consent. */
async function ssoAs(page: Page, who: string, next = "") {
  await page.goto(`${base}/login${next ? `?next=${encodeURIComponent(next)}` : ""}`);
  await page.getByRole("link", { name: "Sign in with Test IdP" }).click();
  await page.locator("input[name=login]").fill(who);
  await page.locator("input[name=password]").fill("any password");
  await page.locator("button[type=submit]").click();
  // First time for this person: the provider asks to authorize the client.
  const consent = page.getByRole("button", { name: "Continue" });
  if (await consent.isVisible().catch(() => false)) await consent.click();
}

test("the sign-in page offers single sign-on only, and is accessible", async ({ browser }, testInfo) => {
  const page = await fresh(browser);
  await page.goto(`${base}/login`);
  await expect(page.getByRole("link", { name: "Sign in with Test IdP" })).toBeVisible();
  await expect(page.locator("#login-name")).toHaveCount(0);
  await expect(page.getByText("Sign-in with a password is turned off")).toBeVisible();
  await expectAccessible(page, testInfo, "login-sso");
  await keepScreenshot(page, testInfo, "login-sso");
  // The form is gone and the endpoint refuses too.
  const res = await page.request.post(`${base}/login`, {
    form: { name: "admin", password: "demo-admin-password", next: "/" },
    headers: { Origin: base },
    maxRedirects: 0,
  });
  expect(res.status()).toBe(403);
  expect(await res.text()).toContain("turned off");
  await page.context().close();
});

test("a secops member signs in as an admin, and signing out ends it", async ({ browser }) => {
  const page = await fresh(browser);
  await ssoAs(page, "alice", "/sources");
  await expect(page).toHaveURL(`${base}/sources`);
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Sources" })).toBeVisible();
  await expect(page.locator("form.user span")).toHaveText("alice");
  await expect(page.locator("form.user span")).toHaveAttribute("title", "Your grants: admin on *");
  await expect(page.getByTestId("source-row").first()).toBeVisible();

  // The audit trail has the sign-in, by single sign-on, with the groups.
  await page.goto(`${base}/audit?action=login`);
  await expect(page.getByTestId("audit").locator("tbody tr").first()).toContainText("sso; groups [\"secops\"]");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1/);
  await page.goto(`${base}/sources`);
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.context().close();
});

test("a payments on-call member gets the payments scope from the group claim", async ({ browser }) => {
  const page = await fresh(browser);
  await ssoAs(page, "bob", "/secrets");
  await expect(page).toHaveURL(`${base}/secrets`);
  await expect(page.locator("form.user span")).toHaveAttribute(
    "title",
    "Your grants: operator on prefix:prod/payments/",
  );
  const names = await page.getByTestId("inventory").locator("tbody th.name").allInnerTexts();
  expect(names.length).toBeGreaterThan(0);
  for (const n of names) expect(n.replace(/\s/g, "")).toMatch(/^prod\/payments\//);
  await page.goto(`${base}/sources`);
  await expect(page.getByRole("alert").filter({ hasText: "could not be read" })).toBeVisible();
  await page.context().close();
});

test("someone whose groups map to nothing is refused with a reason", async ({ browser }) => {
  const page = await fresh(browser);
  await ssoAs(page, "carol");
  await expect(page).toHaveURL(/\/login\?sso_error=groups/);
  await expect(page.getByRole("alert")).toContainText("none of your groups is given access");
  await expect(page.getByRole("alert")).toContainText("request id");
  await page.goto(`${base}/`);
  await expect(page).toHaveURL(/\/login/);
  await page.context().close();
});

/**
 * Alters one parameter of the authorization request secretscope sends the
 * browser to the provider with (its 303 from /auth/oidc/login), as an
 * attacker in the middle would.
 */
async function tamperAuthorizationRequest(page: Page, param: string, value: string) {
  await page.route("**/auth/oidc/login**", async (route) => {
    const response = await route.fetch({ maxRedirects: 0 });
    const location = new URL(response.headers()["location"]);
    expect(location.searchParams.get(param)).toBeTruthy();
    location.searchParams.set(param, value);
    await route.fulfill({ response, headers: { ...response.headers(), location: location.toString() } });
  });
}

test("a tampered state is refused", async ({ browser }) => {
  const page = await fresh(browser);
  // The provider returns the state it was given: not the one secretscope keeps.
  await tamperAuthorizationRequest(page, "state", "attacker-chosen-state");
  await ssoAs(page, "alice");
  await expect(page).toHaveURL(/\/login\?sso_error=state/);
  await expect(page.getByRole("alert")).toContainText("could not be verified");
  await page.goto(`${base}/`);
  await expect(page).toHaveURL(/\/login/);
  await page.context().close();
});

test("a callback from another browser's sign-in is refused", async ({ browser }) => {
  const page = await fresh(browser);
  // No sign-in was started in this browser: nothing to match the state against.
  await page.goto(`${base}/auth/oidc/callback?code=stolen-code&state=stolen-state`);
  await expect(page).toHaveURL(/\/login\?sso_error=state/);
  await page.context().close();
});

test("an ID token with a tampered nonce is refused", async ({ browser }) => {
  const page = await fresh(browser);
  // The provider puts the nonce it was given in the ID token: not the one
  // secretscope keeps for this browser.
  await tamperAuthorizationRequest(page, "nonce", "attacker-chosen-nonce");
  await ssoAs(page, "alice");
  await expect(page).toHaveURL(/\/login\?sso_error=nonce/);
  await expect(page.getByRole("alert")).toContainText("could not be verified");
  await page.goto(`${base}/`);
  await expect(page).toHaveURL(/\/login/);
  await page.context().close();
});
