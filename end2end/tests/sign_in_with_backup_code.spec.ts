import { expect, test } from "@playwright/test";
import { signUp, uniqueEmail } from "./helpers";
import {
  atPath,
  enableTotp,
  signInToChallenge,
  signOut,
  submitChallengeCode,
  switchToBackupCode,
  t,
} from "./totp";

test("a backup code signs in once, and another one still works after", async ({ page }) => {
  const email = uniqueEmail("backup");
  const password = "backup passphrase 1";
  await signUp(page, email, password);
  const { backupCodes } = await enableTotp(page, password);
  await signOut(page);

  await signInToChallenge(page, email, password);
  await switchToBackupCode(page);
  await expect(page.getByRole("button", { name: "Use your authenticator app instead" })).toBeVisible();
  await submitChallengeCode(page, backupCodes[0]);
  await expect(page).toHaveURL(atPath("/settings/security"));
  await expect(page.getByRole("status").filter({ hasText: "9 backup codes left" })).toBeVisible();
  await expect(page.getByTestId("backup-codes-left")).toHaveText("9 of 10 left");
  await signOut(page);

  // The same code a second time is just a wrong code.
  await signInToChallenge(page, email, password);
  await switchToBackupCode(page);
  await submitChallengeCode(page, backupCodes[0]);
  await expect(page.getByText(t("That code didn't work. 4 attempts left."))).toBeVisible();
  await expect(page).toHaveURL(atPath("/signin/challenge"));

  await expect(page.getByLabel("Backup code", { exact: true })).toBeVisible();
  await submitChallengeCode(page, backupCodes[1]);
  await expect(page).toHaveURL(atPath("/settings/security"));
  await expect(page.getByRole("status").filter({ hasText: "8 backup codes left" })).toBeVisible();
});

test("the backup-code field can be switched back to the authenticator code", async ({ page }) => {
  const email = uniqueEmail("backup-switch");
  const password = "backup passphrase 2";
  await signUp(page, email, password);
  const { authenticator } = await enableTotp(page, password);
  await signOut(page);

  await signInToChallenge(page, email, password);
  await switchToBackupCode(page);
  await page.getByRole("button", { name: "Use your authenticator app instead" }).click();
  await expect(page.getByLabel("Authentication code", { exact: true })).toBeVisible();
  await expect(page.getByLabel("Backup code", { exact: true })).toBeHidden();
  await submitChallengeCode(page, await authenticator.nextCode());
  await expect(page).toHaveURL(atPath("/settings/account"));
});
