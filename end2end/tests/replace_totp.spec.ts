import { expect, test } from "@playwright/test";
import { signUp, uniqueEmail } from "./helpers";
import {
  atPath,
  Authenticator,
  enableTotp,
  enterVerificationCode,
  passStepUpIfAsked,
  readManualKey,
  scanHeading,
  signInToChallenge,
  submitChallengeCode,
  t,
  verifyHeading,
  wizardProgress,
} from "./totp";

test("replacing the authenticator: the old app works until the new one is verified", async ({
  page,
  browser,
}) => {
  // Up to three codes per authenticator in one account: the single-use rule may make the
  // authenticators wait for the next 30-second step.
  test.slow();
  const email = uniqueEmail("replace");
  const password = "replacing passphrase 1";
  await signUp(page, email, password);
  const { authenticator: oldApp } = await enableTotp(page, password);

  await page.getByRole("button", { name: "Replace authenticator" }).click();
  await passStepUpIfAsked(page, password, scanHeading(page));
  const progress = wizardProgress(page);
  await expect(progress.getByRole("listitem")).toHaveText([/Scan/, /Verify/]);
  await expect(progress.locator('[aria-current="step"]')).toContainText("Scan");
  const newKey = await readManualKey(page);
  expect(newKey).not.toBe(oldApp.secret);
  const newApp = new Authenticator(newKey, oldApp);
  await page.getByRole("button", { name: "Next" }).click();
  await expect(verifyHeading(page)).toBeVisible();
  await expect(progress.locator('[aria-current="step"]')).toContainText("Verify");

  // Not verified yet: the old app still signs in.
  const before = await (await browser.newContext()).newPage();
  await signInToChallenge(before, email, password);
  await submitChallengeCode(before, await oldApp.nextCode());
  await expect(before).toHaveURL(atPath("/settings/account"));

  await enterVerificationCode(page, await newApp.nextCode());
  // Replacing ends every other session, the one signed in with the old app too.
  await expect(
    page
      .getByRole("status")
      .filter({ hasText: t("Your authenticator app has been replaced. 1 other session was signed out.") }),
  ).toBeVisible();
  await before.goto("/settings/account");
  await expect(before).toHaveURL(atPath("/signin"));
  await expect(verifyHeading(page)).toBeHidden();
  await expect(page.getByTestId("two-factor-status")).toHaveText("On");

  // Verified: only the new app signs in.
  const after = await (await browser.newContext()).newPage();
  await signInToChallenge(after, email, password);
  // A code the old app would have had accepted: a fresh step, inside the window.
  await submitChallengeCode(after, await oldApp.nextCode());
  await expect(after.getByText(t("That code didn't work. 4 attempts left."))).toBeVisible();
  await submitChallengeCode(after, await newApp.nextCode());
  await expect(after).toHaveURL(atPath("/settings/account"));
  await expect(after.getByTestId("account-email")).toHaveText(email);
});
