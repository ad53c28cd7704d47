import { expect, test } from "@playwright/test";
import { signUp, uniqueEmail } from "./helpers";
import {
  atPath,
  enableTotp,
  signInToChallenge,
  signOut,
  submitChallengeCode,
  t,
  waitHydrated,
} from "./totp";

test("signing in asks for the authenticator code after the password", async ({ page }) => {
  const email = uniqueEmail("challenge");
  const password = "challenge passphrase 1";
  await signUp(page, email, password);
  const { authenticator } = await enableTotp(page, password);
  await signOut(page);

  await signInToChallenge(page, email, password);
  await expect(page.getByLabel("Authentication code", { exact: true })).toBeVisible();
  await expect(page.getByLabel(t("Don't ask again on this browser for 30 days"))).not.toBeChecked();

  // Half signed in: the password alone does not open the settings.
  await page.goto("/settings/account");
  await expect(page).toHaveURL(atPath("/signin/challenge"));
  await expect(page.getByRole("heading", { name: "Two-factor authentication", level: 1 })).toBeVisible();
  await waitHydrated(page);

  await submitChallengeCode(page, authenticator.wrongCode());
  await expect(page.getByText(t("That code didn't work. 4 attempts left."))).toBeVisible();
  await expect(page).toHaveURL(atPath("/signin/challenge"));

  await submitChallengeCode(page, await authenticator.nextCode());
  await expect(page).toHaveURL(atPath("/settings/account"));
  await expect(page.getByTestId("account-email")).toHaveText(email);
});

test("five wrong codes end the sign-in attempt", async ({ page }) => {
  const email = uniqueEmail("challenge-locked");
  const password = "challenge passphrase 2";
  await signUp(page, email, password);
  const { authenticator } = await enableTotp(page, password);
  await signOut(page);

  await signInToChallenge(page, email, password);
  for (const left of [4, 3, 2, 1]) {
    await submitChallengeCode(page, authenticator.wrongCode());
    // Waiting for each count keeps the attempts from overtaking one another.
    await expect(
      page.getByText(new RegExp(`^\\s*That code didn['’]t work\\. ${left} attempts? left\\.\\s*$`)),
    ).toBeVisible();
  }
  await submitChallengeCode(page, authenticator.wrongCode());
  await expect(page).toHaveURL(atPath("/signin"));
  await expect(page.getByRole("alert")).toHaveText("Too many wrong codes. Sign in again.");

  // The half sign-in is gone: the challenge page no longer takes codes for it.
  await page.goto("/settings/account");
  await expect(page).toHaveURL(atPath("/signin"));
});
