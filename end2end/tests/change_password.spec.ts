import { expect, test } from "@playwright/test";
import { gotoHydrated, signIn, signUp, uniqueEmail } from "./helpers";

test("sign up, change the password, sign out and sign in with the new one", async ({ page }) => {
  const email = uniqueEmail("change");
  await signUp(page, email, "first passphrase 1");
  await expect(page.getByRole("heading", { name: "Account", level: 1 })).toBeVisible();
  await expect(page.getByText(email).first()).toBeVisible();

  await page.getByLabel("Current password").fill("first passphrase 1");
  await page.getByLabel("New password", { exact: true }).fill("second passphrase 2");
  await page.getByLabel("Confirm new password").fill("second passphrase 2");
  await expect(page.getByLabel("Sign out of all other sessions")).toBeChecked();
  await page.getByRole("button", { name: "Update password" }).click();
  await expect(page.getByRole("status")).toHaveText("Your password has been changed.");
  await expect(page.getByLabel("Current password")).toHaveValue("");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin$/);
  await expect(page.getByRole("button", { name: "Sign out" })).toHaveCount(0);

  // Signed out means the settings are out of reach.
  await page.goto("/settings/account");
  await expect(page).toHaveURL(/\/signin$/);

  await signIn(page, email, "first passphrase 1");
  await expect(page.getByRole("alert")).toHaveText("Incorrect email or password.");
  await signIn(page, email, "second passphrase 2");
  await expect(page).toHaveURL(/\/settings\/account$/);
  await expect(page.getByTestId("account-email")).toHaveText(email);
});

test("changing the password signs out the other sessions", async ({ browser }) => {
  const email = uniqueEmail("others");
  const laptop = await browser.newPage();
  await signUp(laptop, email, "first passphrase 1");
  const phone = await (await browser.newContext()).newPage();
  await signIn(phone, email, "first passphrase 1");
  await expect(phone).toHaveURL(/\/settings\/account$/);

  await gotoHydrated(laptop, "/settings/account");
  await expect(laptop.getByTestId("other-sessions")).toHaveText("1");
  await laptop.getByLabel("Current password").fill("first passphrase 1");
  await laptop.getByLabel("New password", { exact: true }).fill("second passphrase 2");
  await laptop.getByLabel("Confirm new password").fill("second passphrase 2");
  await laptop.getByRole("button", { name: "Update password" }).click();
  await expect(laptop.getByRole("status")).toHaveText(
    "Your password has been changed. 1 other session was signed out.",
  );
  await expect(laptop.getByTestId("other-sessions")).toHaveText("0");

  await phone.goto("/settings/account");
  await expect(phone).toHaveURL(/\/signin$/);
});
