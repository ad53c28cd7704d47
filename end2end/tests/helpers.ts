import { expect, type Page } from "@playwright/test";

let counter = 0;

/** A fresh address per test, so tests never share an account. */
export function uniqueEmail(tag: string): string {
  counter += 1;
  return `${tag}-${Date.now()}-${counter}@example.com`;
}

/** Clicks that land before hydration would submit the plain HTML form; wait for the WASM. */
export async function gotoHydrated(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await expect(page.locator("body[data-hydrated]")).toHaveCount(1);
}

export async function signUp(page: Page, email: string, password: string): Promise<void> {
  await gotoHydrated(page, "/signup");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByLabel("Confirm password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/settings\/account$/);
  await expect(page.getByTestId("account-email")).toHaveText(email);
}

export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await gotoHydrated(page, "/signin");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}
