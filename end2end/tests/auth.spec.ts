import { test, expect, request as pwRequest } from "@playwright/test";
import { expectAccessible, keepScreenshot, waitForHydration } from "./helpers";
import { baseURL } from "../playwright.config";

// Starts anonymous: no stored session.
test.use({ storageState: { cookies: [], origins: [] } });

async function signIn(page: import("@playwright/test").Page, name: string, password: string) {
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test.describe("sign-in", () => {
  test("an anonymous visitor is sent to the login page, which is accessible", async ({ page }, testInfo) => {
    await page.goto("/secrets?q=prod");
    await expect(page).toHaveURL(/\/login\?next=\/secrets%3Fq%3Dprod$/);
    await expect(page.getByRole("heading", { name: "Sign in to secretscope" })).toBeVisible();
    await expect(page.getByRole("navigation", { name: "Main" })).toHaveCount(0);
    await expectAccessible(page, testInfo, "login");
    await keepScreenshot(page, testInfo, "login");
  });

  test("a wrong password gets one generic message; the right one lands where the visitor was going", async ({ page }, testInfo) => {
    await page.goto("/secrets?q=prod");
    await signIn(page, "viewer", "not-the-password");
    await expect(page.getByRole("alert")).toHaveText(/The name or the password is wrong/);
    await expectAccessible(page, testInfo, "login-error");
    await signIn(page, "viewer", "demo-viewer-password");
    await expect(page).toHaveURL(/\/secrets\?q=prod$/);
    await waitForHydration(page);
    await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
    // A viewer gets no action controls.
    await expect(page.getByRole("button", { name: /Rotate|Roll back|Restore|Cancel rotation/ })).toHaveCount(0);
  });

  test("sign out ends the session on the server: the old cookie no longer works", async ({ page, context }) => {
    await page.goto("/login");
    await signIn(page, "operator", "demo-operator-password");
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    const before = (await context.cookies()).find((c) => c.name === "secretscope_session");
    expect(before?.httpOnly).toBe(true);
    expect(before?.sameSite).toBe("Strict");
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page.getByRole("status")).toHaveText("You are signed out.");
    // Replay the old cookie from a fresh client: the server forgot it.
    const replay = await pwRequest.newContext({ baseURL });
    const res = await replay.get("/export/secrets.json", {
      headers: { Cookie: `secretscope_session=${before!.value}` },
      maxRedirects: 0,
    });
    expect(res.status()).toBe(401);
    await replay.dispose();
  });

  test("a forged cross-site POST is refused, signed in or not", async ({ page }) => {
    await page.goto("/login");
    await signIn(page, "viewer", "demo-viewer-password");
    await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
    const cookie = (await page.context().cookies()).find((c) => c.name === "secretscope_session")!;
    const forged = await pwRequest.newContext({ baseURL });
    for (const headers of [
      { Origin: "http://evil.example", Cookie: `secretscope_session=${cookie.value}` },
      { Cookie: `secretscope_session=${cookie.value}` },
    ]) {
      const res = await forged.post("/api/get_overview", { headers, data: "" });
      expect(res.status()).toBe(403);
    }
    await forged.dispose();
  });
});
