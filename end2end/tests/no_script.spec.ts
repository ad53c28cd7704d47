import { expect, test, type Page } from "@playwright/test";
import { uniqueEmail } from "./helpers";
import { atPath, enableTotp } from "./totp";

// Run by the "no-script" project: JavaScript is off in every page here, as for a person whose
// browser blocks it or whose connection has not delivered the WebAssembly yet. Forms post
// natively and pages arrive complete; only the two-factor wizard needs script, and says so.

async function signUpWithoutScript(page: Page, email: string, password: string): Promise<void> {
  await page.goto("/signup");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByLabel("Confirm password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(atPath("/settings/account"));
}

async function signInWithoutScript(page: Page, email: string, password: string): Promise<void> {
  await page.goto("/signin");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("signing up, out and in again works without script", async ({ page }) => {
  const email = uniqueEmail("no-script");
  const password = "scriptless passphrase 1";
  await signUpWithoutScript(page, email, password);
  await expect(page.getByRole("heading", { name: "Account", level: 1 })).toBeVisible();
  await expect(page.getByTestId("account-email")).toHaveText(email);
  await expect(page.getByText("Loading…")).toHaveCount(0);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(atPath("/signin"));

  await signInWithoutScript(page, email, "not the passphrase at all");
  await expect(page).toHaveURL(/\/signin/);
  await expect(page.getByRole("alert")).toContainText("email or password");

  await signInWithoutScript(page, email, password);
  await expect(page).toHaveURL(atPath("/settings/account"));
  await expect(page.getByTestId("account-email")).toHaveText(email);
});

test("every settings page reads correctly without script", async ({ page }) => {
  const email = uniqueEmail("no-script-pages");
  await signUpWithoutScript(page, email, "scriptless passphrase 2");

  await page.getByRole("link", { name: "Security" }).click();
  await expect(page).toHaveURL(atPath("/settings/security"));
  await expect(page.getByTestId("two-factor-status")).toHaveText("Off");
  await expect(page.getByRole("heading", { name: "Trusted browsers" })).toBeVisible();
  await expect(page.getByText("Loading…")).toHaveCount(0);

  // The wizard needs script, and says so instead of showing a dead page.
  await page.getByRole("button", { name: "Enable two-factor authentication" }).click();
  await expect(page).toHaveURL(/\/settings\/security\/two-factor\?action=enable$/);
  // (Inside <noscript>, which Playwright's text and role queries skip: found by its class.)
  await expect(page.locator(".alert--warning")).toContainText("This step needs JavaScript");

  await page.getByRole("link", { name: "Account" }).click();
  await expect(page.getByTestId("account-email")).toHaveText(email);
});

test("changing the password works without script", async ({ page }) => {
  const email = uniqueEmail("no-script-password");
  const password = "scriptless passphrase 3";
  const newPassword = "another scriptless passphrase";
  await signUpWithoutScript(page, email, password);

  await page.getByLabel("Current password").fill(password);
  await page.getByLabel("New password", { exact: true }).fill(newPassword);
  await page.getByLabel("Confirm new password").fill(newPassword);
  await page.getByRole("button", { name: "Update password" }).click();
  await expect(page).toHaveURL(/\/settings\/account\?done=password/);
  await expect(page.getByRole("status")).toHaveText("Your password has been changed.");
  await expect(page.getByLabel("Current password")).toHaveValue("");

  await page.getByRole("button", { name: "Sign out" }).click();
  await signInWithoutScript(page, email, newPassword);
  await expect(page).toHaveURL(atPath("/settings/account"));
});

test("the second step of signing in works without script", async ({ page, browser, baseURL }) => {
  const email = uniqueEmail("no-script-challenge");
  const password = "scriptless passphrase 4";
  // Turning two-factor on needs the wizard, so that part runs with script.
  const scripted = await browser.newContext({ javaScriptEnabled: true, baseURL });
  const scriptedPage = await scripted.newPage();
  await signUpWithoutScript(scriptedPage, email, password);
  const { authenticator } = await enableTotp(scriptedPage, password);
  await scripted.close();

  await signInWithoutScript(page, email, password);
  await expect(page).toHaveURL(atPath("/signin/challenge"));
  await page.getByLabel("Authentication code", { exact: true }).fill(authenticator.wrongCode());
  await page.getByRole("button", { name: "Verify", exact: true }).click();
  await expect(page.getByText(/That code didn't work/)).toBeVisible();

  await page
    .getByLabel("Authentication code", { exact: true })
    .fill(await authenticator.nextCode());
  await page.getByRole("button", { name: "Verify", exact: true }).click();
  await expect(page).toHaveURL(atPath("/settings/account"));
  await expect(page.getByTestId("account-email")).toHaveText(email);
});
