import { expect, test } from "@playwright/test";
import { uniqueEmail } from "./helpers";
import { atPath } from "./totp";

// A form's WebAssembly arrives after the page (each island is its own chunk): whatever a person
// types meanwhile must still be there once the form comes alive, and be what is sent.
test("what is typed before the form is ready is kept and sent", async ({ page }) => {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  // Hold back the sign-up form's chunk until the person has typed.
  let heldBack = false;
  await page.route(/\/pkg\/split_sign_up_form[^/]*\.wasm$/, async (route) => {
    heldBack = true;
    await held;
    await route.continue();
  });
  const email = uniqueEmail("early-typist");
  const password = "typed before the script came";
  await page.goto("/signup");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByLabel("Confirm password").fill(password);
  await expect(page.locator("body[data-hydrated]")).toHaveCount(0);

  // The hold was on the form's own chunk (a renamed island would let this pass by luck).
  await expect.poll(() => heldBack).toBe(true);
  release();
  await expect(page.locator("body[data-hydrated]")).toHaveCount(1);
  await expect(page.getByLabel("Email address")).toHaveValue(email);
  await expect(page.getByLabel("Password", { exact: true })).toHaveValue(password);
  await expect(page.getByLabel("Confirm password")).toHaveValue(password);

  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(atPath("/settings/account"));
  await expect(page.getByTestId("account-email")).toHaveText(email);
});

test("a box unticked before the form is ready stays unticked", async ({ page }) => {
  const email = uniqueEmail("early-untick");
  const password = "typed before the script came";
  await page.goto("/signup");
  await expect(page.locator("body[data-hydrated]")).toHaveCount(1);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByLabel("Confirm password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(atPath("/settings/account"));

  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  // Hold back the password form's chunk until the person has chosen.
  let heldBack = false;
  await page.route(/\/pkg\/split_change_password_form[^/]*\.wasm$/, async (route) => {
    heldBack = true;
    await held;
    await route.continue();
  });
  await page.goto("/settings/account");
  const signOutOthers = page.getByLabel("Sign out of all other sessions");
  await expect(signOutOthers).toBeChecked();
  await signOutOthers.uncheck();
  await expect(page.locator("body[data-hydrated]")).toHaveCount(0);

  // The hold was on the form's own chunk (a renamed island would let this pass by luck).
  await expect.poll(() => heldBack).toBe(true);
  release();
  await expect(page.locator("body[data-hydrated]")).toHaveCount(1);
  await expect(signOutOthers).not.toBeChecked();
});
