import { expect, test } from "@playwright/test";
import { gotoHydrated, uniqueEmail } from "./helpers";

test("a state-changing request from a foreign origin is refused", async ({ page, baseURL }) => {
  await gotoHydrated(page, "/signup");
  const action = (await page.locator("form").getAttribute("action"))!;
  const email = uniqueEmail("csrf");
  const form = { email, password: "good passphrase 1", password_confirm: "good passphrase 1" };
  const foreign = await page.request.post(action, {
    headers: { Origin: "https://evil.example" },
    form,
  });
  expect(foreign.status()).toBe(403);
  const noOrigin = await page.request.post(action, { form });
  expect(noOrigin.status()).toBe(403);

  // Nothing was created: the same address can still sign up from our own origin.
  const ours = await page.request.post(action, {
    headers: { Origin: baseURL!, Accept: "application/json" },
    form,
  });
  expect(ours.ok()).toBe(true);
});

test("pages carry the security headers and a nonce-based CSP", async ({ page }) => {
  const response = await page.goto("/signin");
  const headers = response!.headers();
  expect(headers["content-security-policy"]).toMatch(/script-src 'self' 'nonce-[^']+' 'wasm-unsafe-eval'/);
  expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("same-origin");
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await gotoHydrated(page, "/signin");
  expect(errors).toEqual([]);
});

test("the session cookie is __Host- prefixed, HttpOnly and SameSite=Lax", async ({ page, context }) => {
  await gotoHydrated(page, "/signup");
  await page.getByLabel("Email address").fill(uniqueEmail("cookie"));
  await page.getByLabel("Password", { exact: true }).fill("cookie passphrase");
  await page.getByLabel("Confirm password").fill("cookie passphrase");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/settings\/account$/);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "__Host-keyward_session");
  expect(session).toBeDefined();
  expect(session!.httpOnly).toBe(true);
  expect(session!.secure).toBe(true);
  expect(session!.sameSite).toBe("Lax");
  expect(session!.path).toBe("/");
});

test("build output is served compressed with long cache lifetimes", async ({ page, request }) => {
  const response = await page.goto("/signin");
  const html = await response!.text();
  const wasm = html.match(/href="(\/pkg\/[^"]+\.wasm)"/)?.[1];
  expect(wasm, "the page preloads a hashed .wasm file").toBeTruthy();
  const asset = await request.get(wasm!, { headers: { "Accept-Encoding": "br" } });
  expect(asset.status()).toBe(200);
  expect(asset.headers()["content-encoding"]).toBe("br");
  expect(asset.headers()["cache-control"]).toContain("immutable");
});
