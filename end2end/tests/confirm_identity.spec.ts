import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { ageAuthentication } from "./database";
import { gotoHydrated, signUp, uniqueEmail } from "./helpers";
import { enableTotp, readBackupCodes, saveCodesHeading, t } from "./totp";

// A sensitive change after a long break asks "Confirm it's you": the password, or a current code
// from the authenticator app. The break is made by moving the session's last authentication back
// in the database (the server's window is 10 minutes).

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

test("a code from the authenticator app confirms it's you instead of the password", async ({ page }) => {
  const email = uniqueEmail("step-up-code");
  const password = "step up passphrase 1";
  await signUp(page, email, password);
  const { authenticator } = await enableTotp(page, password);

  ageAuthentication(email, 11);
  await askForNewBackupCodes(page);
  await expect(prompt(page)).toBeVisible();
  await expect(page.getByText(t("You signed in a while ago. Enter your password to make this change."))).toBeVisible();
  // Focus goes to the step's heading (read out first), and the field is next.
  await expect(prompt(page)).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Password", { exact: true })).toBeFocused();
  await expectNoViolations(page);

  await page.getByRole("button", { name: "Use your authenticator app instead" }).click();
  const field = page.getByLabel("Authentication code", { exact: true });
  await expect(field).toBeFocused();
  await expect(field).toHaveAttribute("autocomplete", "one-time-code");
  await expect(page.getByLabel("Password", { exact: true })).toHaveCount(0);
  await expect(
    page.getByText(
      t("You signed in a while ago. Enter the 6-digit code from your authenticator app to make this change."),
    ),
  ).toBeVisible();
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
});

test("the password confirms it's you, and a wrong one is named", async ({ page }) => {
  const email = uniqueEmail("step-up-password");
  const password = "step up passphrase 2";
  await signUp(page, email, password);
  await enableTotp(page, password);

  ageAuthentication(email, 11);
  await askForNewBackupCodes(page);
  await expect(prompt(page)).toBeVisible();
  const field = page.getByLabel("Password", { exact: true });
  await field.fill("not my passphrase");
  await field.press("Enter");
  await expect(page.getByText(t("That is not your password."))).toBeVisible();
  await expect(prompt(page)).toBeVisible();

  await field.fill(password);
  await field.press("Enter");
  await expect(saveCodesHeading(page)).toBeVisible();

  // Confirmed within the last 10 minutes: the next change asks nothing.
  await askForNewBackupCodes(page);
  await expect(saveCodesHeading(page)).toBeVisible();
  await expect(prompt(page)).toHaveCount(0);
});

test("turning two-factor on offers only the password", async ({ page }) => {
  const email = uniqueEmail("step-up-enable");
  const password = "step up passphrase 3";
  await signUp(page, email, password);
  ageAuthentication(email, 11);
  await gotoHydrated(page, "/settings/security");
  await page.getByRole("button", { name: "Enable two-factor authentication" }).click();
  await expect(prompt(page)).toBeVisible();
  await expect(page.getByLabel("Password", { exact: true })).toBeVisible();
  await expect(page.getByRole("button", { name: "Use your authenticator app instead" })).toHaveCount(0);
});
