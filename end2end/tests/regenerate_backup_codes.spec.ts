import { expect, test } from "@playwright/test";
import { signUp, uniqueEmail } from "./helpers";
import {
  atPath,
  enableTotp,
  finishSavingCodes,
  passStepUpIfAsked,
  readBackupCodes,
  saveCodesHeading,
  signInToChallenge,
  signOut,
  submitChallengeCode,
  switchToBackupCode,
  t,
} from "./totp";

test("regenerating the backup codes replaces the old set", async ({ page }) => {
  const email = uniqueEmail("regenerate");
  const password = "regenerate passphrase 1";
  await signUp(page, email, password);
  const { backupCodes: oldCodes } = await enableTotp(page, password);

  await page.getByRole("button", { name: "Regenerate backup codes" }).click();
  // Nothing changes until the question is answered.
  const dialog = page.getByRole("dialog", { name: "Make new backup codes?" });
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Make new codes" }).click();
  await passStepUpIfAsked(page, password, saveCodesHeading(page));
  const newCodes = await readBackupCodes(page);
  expect(new Set(newCodes).size).toBe(10);
  for (const code of newCodes) expect(oldCodes).not.toContain(code);
  await expect(page.getByRole("button", { name: "Finish" })).toBeDisabled();
  await finishSavingCodes(page);
  await expect(page.getByTestId("two-factor-status")).toHaveText("On");
  await expect(page.getByTestId("backup-codes-left")).toHaveText("10 of 10 left");
  await signOut(page);

  await signInToChallenge(page, email, password);
  await switchToBackupCode(page);
  await submitChallengeCode(page, oldCodes[0]);
  await expect(page.getByText(t("That code didn't work. 4 attempts left."))).toBeVisible();
  await expect(page).toHaveURL(atPath("/signin/challenge"));

  await submitChallengeCode(page, newCodes[0]);
  await expect(page).toHaveURL(atPath("/settings/security"));
  await expect(page.getByRole("status").filter({ hasText: "9 backup codes left" })).toBeVisible();
});
