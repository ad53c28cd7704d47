import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { ageAuthentication } from "./database";
import { gotoHydrated, signUp, uniqueEmail } from "./helpers";
import { atPath, enableTotp, readBackupCodes, saveCodesHeading, scanHeading, t } from "./totp";

// A sensitive change after a long break asks "Confirm it's you". With two-factor on it asks for
// the second factor (a code from the app, or a backup code) and never for the password alone;
// without, for the password. The break is made by moving the session's last checks back in the
// database (the server's window is 10 minutes).

async function expectNoViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`)).toEqual([]);
}

function prompt(page: Page) {
  return page.getByRole("heading", { name: t("Confirm it's you") });
}

async function askForNewBackupCodes(page: Page) {
  await gotoHydrated(page, "/settings/security");
  await page.getByRole("button", { name: "Regenerate backup codes" }).click();
  const dialog = page.getByRole("dialog", { name: "Make new backup codes?" });
  await dialog.getByRole("button", { name: "Make new codes" }).click();
}

test("with two-factor on, a code from the app confirms it's you and the password is not offered", async ({
  page,
}) => {
  const email = uniqueEmail("step-up-code");
  const password = "step up passphrase 1";
  await signUp(page, email, password);
  const { authenticator } = await enableTotp(page, password);

  ageAuthentication(email, 11);
  await askForNewBackupCodes(page);
  await expect(prompt(page)).toBeVisible();
  await expect(
    page.getByText(
      t("This change needs your second factor. Enter the 6-digit code from your authenticator app."),
    ),
  ).toBeVisible();
  await expect(page.getByLabel("Password", { exact: true })).toHaveCount(0);
  // Focus goes to the step's heading (read out first), and the field is next.
  await expect(prompt(page)).toBeFocused();
  await page.keyboard.press("Tab");
  const field = page.getByLabel("Authentication code", { exact: true });
  await expect(field).toBeFocused();
  await expect(field).toHaveAttribute("autocomplete", "one-time-code");
  await expectNoViolations(page);

  // Too short: named at once, nothing sent.
  await field.fill("123");
  await field.press("Enter");
  await expect(page.getByText(t("The code is 6 digits, like 123 456."))).toBeVisible();

  await field.fill(authenticator.wrongCode());
  await field.press("Enter");
  await expect(page.getByText(t("That code didn't match. Wait for the next code and try again."))).toBeVisible();
  await expect(prompt(page)).toBeVisible();
  await expectNoViolations(page);

  // Pasted with a space, as apps show it.
  const code = await authenticator.nextCode();
  await field.fill(`${code.slice(0, 3)} ${code.slice(3)}`);
  await field.press("Enter");
  await expect(saveCodesHeading(page)).toBeVisible();
  expect(await readBackupCodes(page)).toHaveLength(10);

  // Confirmed within the last 10 minutes: the next change asks nothing.
  await askForNewBackupCodes(page);
  await expect(saveCodesHeading(page)).toBeVisible();
  await expect(prompt(page)).toHaveCount(0);
});

test("a backup code confirms it's you and is used up", async ({ page }) => {
  const email = uniqueEmail("step-up-backup");
  const password = "step up passphrase 2";
  await signUp(page, email, password);
  const { backupCodes } = await enableTotp(page, password);

  ageAuthentication(email, 11);
  await gotoHydrated(page, "/settings/security");
  await page.getByRole("button", { name: "Replace authenticator" }).click();
  await expect(prompt(page)).toBeVisible();
  await page.getByRole("button", { name: "Use a backup code instead" }).click();
  const field = page.getByLabel("Backup code", { exact: true });
  await expect(field).toBeFocused();
  await expect(page.getByLabel("Authentication code", { exact: true })).toHaveCount(0);
  await expect(
    page.getByText(t("This change needs your second factor. Enter one of your backup codes; it will be used up.")),
  ).toBeVisible();
  await expectNoViolations(page);

  await field.fill(backupCodes[0].toUpperCase());
  await field.press("Enter");
  await expect(scanHeading(page)).toBeVisible();
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(page).toHaveURL(atPath("/settings/security"));
  await expect(page.getByTestId("backup-codes-left")).toHaveText("9 of 10 left");
});

test("without two-factor the password confirms it's you, and a wrong one is named", async ({ page }) => {
  const email = uniqueEmail("step-up-password");
  const password = "step up passphrase 3";
  await signUp(page, email, password);
  ageAuthentication(email, 11);
  await gotoHydrated(page, "/settings/security");
  await page.getByRole("button", { name: "Enable two-factor authentication" }).click();
  await expect(prompt(page)).toBeVisible();
  await expect(
    page.getByText(t("You signed in a while ago. Enter your password to make this change.")),
  ).toBeVisible();
  // No code to offer: the account has no second factor yet.
  await expect(page.getByRole("button", { name: "Use a backup code instead" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Use your authenticator app instead" })).toHaveCount(0);
  await expectNoViolations(page);

  const field = page.getByLabel("Password", { exact: true });
  await field.fill("not my passphrase");
  await field.press("Enter");
  await expect(page.getByText(t("That is not your password."))).toBeVisible();
  await expect(prompt(page)).toBeVisible();

  await field.fill(password);
  await field.press("Enter");
  await expect(scanHeading(page)).toBeVisible();
});

test("changing the password with two-factor on asks for a code after a break, keeping what was typed", async ({
  page,
}) => {
  const email = uniqueEmail("step-up-change-password");
  const password = "step up passphrase 4";
  const newPassword = "a fresh passphrase 4";
  await signUp(page, email, password);
  const { authenticator } = await enableTotp(page, password);

  ageAuthentication(email, 11);
  await gotoHydrated(page, "/settings/account");
  await page.getByLabel("Current password").fill(password);
  await page.getByLabel("New password", { exact: true }).fill(newPassword);
  await page.getByLabel("Confirm new password").fill(newPassword);
  await page.getByRole("button", { name: "Update password" }).click();

  await expect(prompt(page)).toBeVisible();
  await expect(page.getByLabel("Password", { exact: true })).toHaveCount(0);
  await expectNoViolations(page);
  const field = page.getByLabel("Authentication code", { exact: true });
  await field.fill(await authenticator.nextCode());
  await field.press("Enter");

  // The change goes through with the passwords typed before the prompt.
  await expect(page.getByRole("status").filter({ hasText: "Your password has been changed." })).toBeVisible();
  await expect(prompt(page)).toHaveCount(0);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(atPath("/signin"));
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password").fill(newPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(atPath("/signin/challenge"));
});

test("when the prompt cannot be downloaded, the password form comes back with what was typed and says why", async ({
  page,
}) => {
  const email = uniqueEmail("step-up-unavailable");
  const password = "step up passphrase 5";
  const newPassword = "a fresh passphrase 5";
  await signUp(page, email, password);
  await enableTotp(page, password);

  ageAuthentication(email, 11);
  // The prompt's own WebAssembly chunk fails, as after a deploy or with the connection gone.
  await page.route("**/pkg/split_step_up_prompt.*", (route) => route.abort());
  await gotoHydrated(page, "/settings/account");
  await page.getByLabel("Current password").fill(password);
  await page.getByLabel("New password", { exact: true }).fill(newPassword);
  await page.getByLabel("Confirm new password").fill(newPassword);
  await page.getByRole("button", { name: "Update password" }).click();

  await expect(page.getByRole("alert")).toHaveText(
    t(`Couldn't load "Confirm it's you". Check your connection and try again.`),
  );
  await expect(prompt(page)).toHaveCount(0);
  await expect(page.getByLabel("Current password")).toHaveValue(password);
  await expect(page.getByLabel("New password", { exact: true })).toHaveValue(newPassword);
  await expect(page.getByRole("button", { name: "Update password" })).toBeEnabled();
  await expectNoViolations(page);
});
