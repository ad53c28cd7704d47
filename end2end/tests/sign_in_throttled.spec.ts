import { expect, test } from "@playwright/test";
import { gotoHydrated, signUp, uniqueEmail } from "./helpers";
import { signOut } from "./totp";

// Guessing a password is throttled per account address: after a few wrong passwords in a row
// each further try waits, doubling from one second; a right password afterwards signs in and
// clears the count.
test("wrong passwords in a row make the next try wait, then the right one signs in", async ({ page }) => {
  const email = uniqueEmail("throttled");
  const password = "throttled passphrase 1";
  await signUp(page, email, password);
  await signOut(page);

  await gotoHydrated(page, "/signin");
  const alert = page.getByRole("alert");
  const emailField = page.getByLabel("Email address");
  const passwordField = page.getByLabel("Password");
  await emailField.fill(email);
  let waitSeconds = 0;
  // Five wrong passwords are answered at once; from then on a try that comes too soon waits.
  for (let tries = 1; tries <= 10 && waitSeconds === 0; tries++) {
    await passwordField.fill(`wrong guess ${tries}`);
    await passwordField.press("Enter");
    await expect(alert).toHaveText(/Incorrect email or password\.|Too many failed attempts\./);
    const text = (await alert.innerText()).trim();
    if (tries <= 5) expect(text).toBe("Incorrect email or password.");
    const wait = /^Too many failed attempts\. Try again in (\d+) seconds?\.$/.exec(text);
    if (wait) waitSeconds = Number(wait[1]);
  }
  expect(waitSeconds, "a wait was asked for within 10 tries").toBeGreaterThan(0);
  expect(waitSeconds).toBeLessThanOrEqual(16);

  // (That the right password is refused too while the wait lasts is tested in Rust, with the
  // clock under the test's control.)
  await page.waitForTimeout(waitSeconds * 1000 + 500);
  await passwordField.fill(password);
  await passwordField.press("Enter");
  await expect(page).toHaveURL(/\/settings\/account$/);
  await expect(page.getByTestId("account-email")).toHaveText(email);
});
