import { expect, test, type Page } from "@playwright/test";
import { ageAuthentication } from "./database";
import { gotoHydrated, signUp, uniqueEmail } from "./helpers";
import { t, waitHydrated } from "./totp";

// Password managers fill and update the right login only when a form says whose password it
// is. Forms that ask for a password without the address ("Confirm it's you", change password)
// carry the account in a hidden username field, and every field names what it holds, so
// Chromium (which logs "[DOM] Password forms should have (optionally hidden) username fields"
// otherwise) has nothing to warn about on any page.

/** Every password-form warning Chromium logs on `page` from now on. */
function passwordFormWarnings(page: Page): string[] {
  const warnings: string[] = [];
  page.on("console", (message) => {
    if (message.text().includes("Password forms should have")) {
      warnings.push(`${page.url()}: ${message.text()}`);
    }
  });
  return warnings;
}

test("every password form names its account for password managers, and Chromium has nothing to warn about", async ({
  page,
}) => {
  const warnings = passwordFormWarnings(page);
  const email = uniqueEmail("password-manager");
  const password = "password manager passphrase";

  await gotoHydrated(page, "/signup");
  await expect(page.getByLabel("Email address")).toHaveAttribute("autocomplete", "email");
  await expect(page.getByLabel("Password", { exact: true })).toHaveAttribute("autocomplete", "new-password");
  await expect(page.getByLabel("Confirm password")).toHaveAttribute("autocomplete", "new-password");
  await signUp(page, email, password);

  // Change password: the three fields, and whose password it is.
  await waitHydrated(page);
  const change = page.locator("form").filter({ has: page.getByLabel("Current password") });
  await expect(change.locator('input[autocomplete="username"]')).toHaveValue(email);
  await expect(change.locator('input[autocomplete="username"]')).toBeHidden();
  await expect(page.getByLabel("Current password")).toHaveAttribute("autocomplete", "current-password");
  await expect(page.getByLabel("New password", { exact: true })).toHaveAttribute("autocomplete", "new-password");
  await expect(page.getByLabel("Confirm new password")).toHaveAttribute("autocomplete", "new-password");

  // "Confirm it's you" with the password, in the wizard.
  ageAuthentication(email, 11);
  await gotoHydrated(page, "/settings/security/two-factor?action=enable");
  await expect(page.getByRole("heading", { name: t("Confirm it's you") })).toBeVisible();
  const stepUp = page.locator("form").filter({ has: page.getByLabel("Password", { exact: true }) });
  await expect(stepUp.locator('input[autocomplete="username"]')).toHaveValue(email);
  await expect(page.getByLabel("Password", { exact: true })).toHaveAttribute("autocomplete", "current-password");

  // Signing in, as someone else would.
  await page.context().clearCookies();
  await gotoHydrated(page, "/signin");
  await expect(page.getByLabel("Email address")).toHaveAttribute("autocomplete", "username");
  await expect(page.getByLabel("Password")).toHaveAttribute("autocomplete", "current-password");

  expect(warnings).toEqual([]);
});
