import { expect, test, type Page } from "@playwright/test";
import { setFailedSignIns } from "./database";
import { gotoHydrated, signUp, uniqueEmail } from "./helpers";
import { atPath, signOut } from "./totp";

// Someone who knows an address can make sign-ins from unknown browsers wait, but never keep its
// owner out of a browser they have signed in with before (OWASP "device cookies").

async function tryPassword(page: Page, email: string, password: string): Promise<string | null> {
  await gotoHydrated(page, "/signin");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  const alert = page.getByRole("alert");
  await expect(alert.or(page.getByTestId("account-email"))).toBeVisible();
  return (await alert.isVisible()) ? (await alert.innerText()).trim() : null;
}

test("the owner's browser signs in while someone else's guesses make unknown browsers wait", async ({
  page,
  browser,
}) => {
  const email = uniqueEmail("lockout");
  const password = "lockout passphrase 1";
  await signUp(page, email, password);
  await signOut(page);

  // The attacker, in a browser the account has never seen, guesses until told to wait.
  const attacker = await (await browser.newContext()).newPage();
  let told = "";
  for (let guess = 1; guess <= 10 && !told.startsWith("Too many failed attempts"); guess++) {
    told = (await tryPassword(attacker, email, `guess number ${guess}`)) ?? "";
  }
  expect(told).toMatch(/^Too many failed attempts\. Try again in \d+ seconds?\.$/);
  // Ten in a row, as a longer attack leaves it: unknown browsers now wait half a minute, even
  // with the right password.
  setFailedSignIns(email, 10);
  expect(await tryPassword(attacker, email, password)).toMatch(
    /^Too many failed attempts\. Try again in (2\d|3[0-2]) seconds\.$/,
  );

  // The owner's browser is not held: the right password signs in at once.
  expect(await tryPassword(page, email, password)).toBeNull();
  await expect(page).toHaveURL(atPath("/settings/account"));
  await expect(page.getByTestId("account-email")).toHaveText(email);
});
