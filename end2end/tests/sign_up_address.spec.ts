import { expect, test } from "@playwright/test";
import { gotoHydrated, signUp } from "./helpers";
import { atPath, signOut } from "./totp";

// Addresses are checked by the same validator in the browser and on the server, and matched
// after NFKC and case folding.

test("an address with an invisible character is refused before it is sent", async ({ page }) => {
  await gotoHydrated(page, "/signup");
  let posted = false;
  page.on("request", (r) => {
    if (r.method() === "POST") posted = true;
  });
  await page.getByLabel("Email address").fill("ann\u200b@example.com");
  await page.getByLabel("Password", { exact: true }).fill("a long enough passphrase");
  await page.getByLabel("Confirm password").fill("a long enough passphrase");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(
    page.getByText("The address contains invisible characters (such as a zero-width space). Type it rather than pasting it."),
  ).toBeVisible();
  await expect(page.getByLabel("Email address")).toHaveAttribute("aria-invalid", "true");
  await page.getByLabel("Email address").fill("ann@exa_mple.com");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(
    page.getByText("The part after the @ is not a valid domain. Check it for typing mistakes."),
  ).toBeVisible();
  expect(posted).toBe(false);
});

test("an internationalised address signs up, then signs in however its letters are cased", async ({ page }) => {
  const email = `jürgen-${Date.now()}@bücher.example`;
  const password = "international passphrase 1";
  await signUp(page, email, password);
  await signOut(page);
  await gotoHydrated(page, "/signin");
  await page.getByLabel("Email address").fill(email.toUpperCase());
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(atPath("/settings/account"));
  await expect(page.getByTestId("account-email")).toHaveText(email);
});
