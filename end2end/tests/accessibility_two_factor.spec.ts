import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Locator, type Page } from "@playwright/test";
import { gotoHydrated, signUp, uniqueEmail } from "./helpers";
import {
  Authenticator,
  enableTotp,
  enterVerificationCode,
  passStepUpIfAsked,
  readBackupCodes,
  readManualKey,
  saveCodesHeading,
  scanHeading,
  signInToChallenge,
  signOut,
  submitChallengeCode,
  switchToBackupCode,
  t,
  verifyHeading,
} from "./totp";

async function expectNoViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`)).toEqual([]);
}

/** Presses Tab until `target` has the focus; fails if it is not reachable that way. */
async function tabTo(page: Page, target: Locator, maxPresses = 50) {
  await expect(target).toBeVisible();
  for (let i = 0; i < maxPresses; i++) {
    if (await target.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press("Tab");
  }
  await expect(target, `reached with Tab within ${maxPresses} presses`).toBeFocused({ timeout: 1_000 });
}

test("the setup wizard and the Security page have no axe violations", async ({ page }) => {
  const password = "accessible passphrase 2fa";
  await signUp(page, uniqueEmail("axe-2fa"), password);
  await gotoHydrated(page, "/settings/security");
  await expect(page.getByTestId("two-factor-status")).toHaveText("Off");
  await expectNoViolations(page);

  await page.getByRole("button", { name: "Enable two-factor authentication" }).click();
  await passStepUpIfAsked(page, password, scanHeading(page));
  await expect(scanHeading(page)).toBeVisible();
  await expectNoViolations(page);
  const authenticator = new Authenticator(await readManualKey(page));
  await expectNoViolations(page);

  await page.getByRole("button", { name: "Next" }).click();
  await expect(verifyHeading(page)).toBeVisible();
  await expectNoViolations(page);
  await enterVerificationCode(page, authenticator.wrongCode());
  await expect(page.getByText(t("That code didn't match. 4 attempts left."))).toBeVisible();
  await expectNoViolations(page);

  await enterVerificationCode(page, await authenticator.nextCode());
  await readBackupCodes(page);
  await expectNoViolations(page);

  await page.getByLabel("I have saved these codes").check();
  await page.getByRole("button", { name: "Finish" }).click();
  await expect(page.getByTestId("two-factor-status")).toHaveText("On");
  await expectNoViolations(page);
  await gotoHydrated(page, "/settings/security");
  await expect(page.getByTestId("two-factor-status")).toHaveText("On");
  await expectNoViolations(page);

  // The confirmation before turning it off.
  await page.getByRole("button", { name: "Turn off two-factor authentication" }).click();
  const dialog = page.getByRole("dialog");
  await passStepUpIfAsked(page, password, dialog);
  await expect(dialog).toBeVisible();
  await expectNoViolations(page);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
});

test("the code prompt at sign-in has no axe violations, for app and backup codes", async ({ page }) => {
  const email = uniqueEmail("axe-challenge");
  const password = "accessible passphrase 2fa";
  await signUp(page, email, password);
  const { authenticator } = await enableTotp(page, password);
  await signOut(page);

  await signInToChallenge(page, email, password);
  await expectNoViolations(page);
  await submitChallengeCode(page, authenticator.wrongCode());
  await expect(page.getByText(t("That code didn't work. 4 attempts left."))).toBeVisible();
  await expectNoViolations(page);

  await switchToBackupCode(page);
  await expectNoViolations(page);
});

test("the setup wizard works with the keyboard alone", async ({ page }) => {
  const password = "keyboard passphrase 2fa";
  await signUp(page, uniqueEmail("keys-2fa"), password);
  await gotoHydrated(page, "/settings/security");

  await page.getByRole("button", { name: "Enable two-factor authentication" }).focus();
  await page.keyboard.press("Enter");
  await passStepUpIfAsked(page, password, scanHeading(page));
  await expect(scanHeading(page)).toBeVisible();

  const reveal = page.getByRole("button", { name: t("Can't scan? Enter this key") });
  await tabTo(page, reveal);
  await page.keyboard.press("Enter");
  await expect(reveal).toHaveAttribute("aria-expanded", "true");
  await expect(page.getByTestId("manual-key")).toBeVisible();
  const authenticator = new Authenticator(await readManualKey(page));

  await tabTo(page, page.getByRole("button", { name: "Next" }));
  await page.keyboard.press("Enter");
  await expect(verifyHeading(page)).toBeVisible();

  await tabTo(page, page.getByLabel("Verification code"));
  await page.keyboard.type(await authenticator.nextCode());
  await page.keyboard.press("Enter");
  await expect(saveCodesHeading(page)).toBeVisible();

  const saved = page.getByLabel("I have saved these codes");
  await tabTo(page, saved);
  await page.keyboard.press("Space");
  await expect(saved).toBeChecked();
  const finish = page.getByRole("button", { name: "Finish" });
  await expect(finish).toBeEnabled();
  await tabTo(page, finish);
  await page.keyboard.press("Enter");

  await expect(saveCodesHeading(page)).toBeHidden();
  await expect(page.getByTestId("two-factor-status")).toHaveText("On");
});
