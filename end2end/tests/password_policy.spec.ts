import { expect, test } from "@playwright/test";
import { gotoHydrated, uniqueEmail } from "./helpers";

test("a short password gets live feedback and is not submitted", async ({ page }) => {
  await gotoHydrated(page, "/signup");
  const requirement = page.getByRole("listitem").filter({ hasText: "At least 8 characters" });
  await page.getByLabel("Password", { exact: true }).fill("short");
  await expect(requirement).not.toHaveClass(/met/);
  await expect(page.locator(".strength")).toContainText("Very weak");
  await page.getByLabel("Password", { exact: true }).fill("long enough now");
  await expect(requirement).toHaveClass(/met/);

  let posted = false;
  page.on("request", (r) => {
    if (r.method() === "POST") posted = true;
  });
  await page.getByLabel("Email address").fill(uniqueEmail("short"));
  await page.getByLabel("Password", { exact: true }).fill("short");
  await page.getByLabel("Confirm password").fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("Use at least 8 characters.")).toBeVisible();
  await expect(page.getByLabel("Password", { exact: true })).toHaveAttribute("aria-invalid", "true");
  expect(posted).toBe(false);
});

test("a common password is refused in the form, by the validator running in WASM", async ({ page }) => {
  await gotoHydrated(page, "/signup");
  const requirement = page
    .getByRole("listitem")
    .filter({ hasText: "Not a commonly used password" });
  const password = page.getByLabel("Password", { exact: true });
  await password.focus();
  await password.fill("Football");
  await expect(requirement).not.toHaveClass(/met/);
  await page.getByLabel("Email address").fill(uniqueEmail("common"));
  await page.getByLabel("Confirm password").fill("Football");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("This password is too common.")).toBeVisible();
  await expect(page).toHaveURL(/\/signup$/);
});

test("the server refuses the same passwords when the form is bypassed", async ({ page, baseURL }) => {
  await gotoHydrated(page, "/signup");
  const action = await page.locator("form").getAttribute("action");
  expect(action).toMatch(/^\/api\//);
  for (const [password, message] of [
    ["short", "Use at least 8 characters."],
    ["football", "too common"],
  ]) {
    const response = await page.request.post(action!, {
      headers: { Origin: baseURL!, Accept: "application/json" },
      form: { email: uniqueEmail("forged"), password, password_confirm: password },
    });
    expect(response.status()).toBe(422);
    expect(await response.text()).toContain(message);
  }
});
