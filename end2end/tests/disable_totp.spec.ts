import { expect, test, type Page } from "@playwright/test";
import { gotoHydrated, signIn, signUp, uniqueEmail } from "./helpers";
import {
  atPath,
  enableTotp,
  passStepUpIfAsked,
  signInToChallenge,
  signOut,
  submitChallengeCode,
} from "./totp";

function turnOffDialog(page: Page) {
  return page
    .getByRole("dialog")
    .filter({ has: page.getByRole("heading", { name: "Turn off two-factor authentication?" }) });
}

async function turnOff(page: Page, password: string) {
  await page.getByRole("button", { name: "Turn off two-factor authentication" }).click();
  await passStepUpIfAsked(page, password, turnOffDialog(page));
  const dialog = turnOffDialog(page);
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Turn off", exact: true }).click();
  await passStepUpIfAsked(page, password, page.getByTestId("two-factor-status").filter({ hasText: "Off" }));
  await expect(page.getByTestId("two-factor-status")).toHaveText("Off");
  await expect(dialog).toBeHidden();
}

test("turning two-factor off asks first, then the password alone signs in", async ({ page }) => {
  const email = uniqueEmail("disable");
  const password = "disabling passphrase 1";
  await signUp(page, email, password);
  await enableTotp(page, password);

  await page.getByRole("button", { name: "Turn off two-factor authentication" }).click();
  await passStepUpIfAsked(page, password, turnOffDialog(page));
  const dialog = turnOffDialog(page);
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole("button", { name: "Turn off", exact: true })).toBeVisible();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("two-factor-status")).toHaveText("On");
  await gotoHydrated(page, "/settings/security");
  await expect(page.getByTestId("two-factor-status")).toHaveText("On");

  await turnOff(page, password);
  await expect(page.getByRole("button", { name: "Enable two-factor authentication" })).toBeVisible();
  await gotoHydrated(page, "/settings/security");
  await expect(page.getByTestId("two-factor-status")).toHaveText("Off");
  await signOut(page);

  await signIn(page, email, password);
  await expect(page).toHaveURL(atPath("/settings/account"));
  await expect(page.getByTestId("account-email")).toHaveText(email);
});

test("turning two-factor off signs out the other sessions", async ({ page, browser }) => {
  const email = uniqueEmail("disable-others");
  const password = "disabling passphrase 2";
  await signUp(page, email, password);
  const { authenticator } = await enableTotp(page, password);

  const phone = await (await browser.newContext()).newPage();
  await signInToChallenge(phone, email, password);
  await submitChallengeCode(phone, await authenticator.nextCode());
  await expect(phone).toHaveURL(atPath("/settings/account"));

  await gotoHydrated(page, "/settings/security");
  await turnOff(page, password);

  await phone.goto("/settings/account");
  await expect(phone).toHaveURL(atPath("/signin"));
  // This session is the one that made the change: it stays signed in.
  await page.goto("/settings/account");
  await expect(page).toHaveURL(atPath("/settings/account"));
});
