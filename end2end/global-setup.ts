import { request } from "@playwright/test";
import { baseURL } from "./playwright.config";

// Every spec runs signed in as the demo admin unless it says otherwise
// (auth.spec.ts starts anonymous). The login is the real form post.
export const ADMIN_STATE = "artifacts/admin-state.json";

export default async function globalSetup() {
  const ctx = await request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL } });
  const res = await ctx.post("/login", {
    form: { name: "admin", password: "demo-admin-password", next: "/" },
    maxRedirects: 0,
  });
  if (res.status() !== 303 || !(res.headers()["location"] || "").startsWith("/")) {
    throw new Error(`demo admin login failed: ${res.status()} ${await res.text()}`);
  }
  await ctx.storageState({ path: ADMIN_STATE });
  await ctx.dispose();
}
