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

test("pages sent back with a notice have no axe violations", async ({ page }) => {
  await signUp(page, uniqueEmail("axe-notices"), "accessible passphrase");
  // What a password change posted without script comes back to.
  await gotoHydrated(page, "/settings/account?done=password&others=1");
  await expect(page.getByRole("status")).toHaveText(
    "Your password has been changed. 1 other session was signed out.",
  );
  await expectNoViolations(page);
  // A trusted browser revoked: the notice sits in the trusted-browsers card.
  await gotoHydrated(page, "/settings/security?done=revoked");
  await expect(page.getByRole("status")).toHaveText("The browser is no longer trusted.");
  await expectNoViolations(page);
});
