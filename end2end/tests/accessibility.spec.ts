import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { gotoHydrated, signUp, uniqueEmail } from "./helpers";

async function expectNoViolations(page: import("@playwright/test").Page) {
  const results = await new AxeBuilder({ page }).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`)).toEqual([]);
}

test("sign-in page has no axe violations", async ({ page }) => {
  await gotoHydrated(page, "/signin");
  await expectNoViolations(page);
});

test("sign-up page has no axe violations, also with errors showing", async ({ page }) => {
  await gotoHydrated(page, "/signup");
  await expectNoViolations(page);
  await page.getByLabel("Password", { exact: true }).fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("Use at least 15 characters.", { exact: true })).toBeVisible();
  await expectNoViolations(page);
});

test("account settings page has no axe violations", async ({ page }) => {
  await signUp(page, uniqueEmail("axe"), "accessible passphrase");
  await expectNoViolations(page);
});

test("unknown pages answer 404 with a way back", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response!.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expectNoViolations(page);
});
