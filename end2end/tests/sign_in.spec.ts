import { expect, test } from "@playwright/test";
import { gotoHydrated, signIn, signUp, uniqueEmail } from "./helpers";

test("a wrong password is refused with a message that does not say which field was wrong", async ({
  page,
  browser,
}) => {
  const email = uniqueEmail("wrong");
  await signUp(page, email, "right passphrase 1");

  const other = await (await browser.newContext()).newPage();
  await signIn(other, email, "wrong passphrase 1");
  await expect(other.getByRole("alert")).toHaveText("Incorrect email or password.");
  await expect(other).toHaveURL(/\/signin$/);
  await signIn(other, uniqueEmail("nobody"), "right passphrase 1");
  await expect(other.getByRole("alert")).toHaveText("Incorrect email or password.");
});

test("empty fields are named before anything is sent", async ({ page }) => {
  await gotoHydrated(page, "/signin");
  let posted = false;
  page.on("request", (r) => {
    if (r.method() === "POST") posted = true;
  });
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("Enter your email address.")).toBeVisible();
  await expect(page.getByText("Enter your password.")).toBeVisible();
  await expect(page.getByLabel("Email address")).toBeFocused();
  expect(posted).toBe(false);
});

test("the sign-in form works with the keyboard alone", async ({ page }) => {
  const email = uniqueEmail("keys");
  await signUp(page, email, "keyboard passphrase");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin$/);
  await gotoHydrated(page, "/signin");
  await page.getByLabel("Email address").focus();
  await page.keyboard.type(email);
  await page.keyboard.press("Tab");
  await page.keyboard.type("keyboard passphrase");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/settings\/account$/);
});
