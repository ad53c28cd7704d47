import { expect, test } from "@playwright/test";
import { gotoHydrated, uniqueEmail } from "./helpers";

test("a short password gets live feedback and is not submitted", async ({ page }) => {
  await gotoHydrated(page, "/signup");
  const requirement = page.getByRole("listitem").filter({ hasText: "At least 15 characters" });
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
  await expect(page.getByText("Use at least 15 characters.", { exact: true })).toBeVisible();
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
  await password.fill("1QAZ2WSX3EDC4RFV");
  await expect(requirement).not.toHaveClass(/met/);
  await page.getByLabel("Email address").fill(uniqueEmail("common"));
  await page.getByLabel("Confirm password").fill("1QAZ2WSX3EDC4RFV");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("This password is too common.")).toBeVisible();
  await expect(page).toHaveURL(/\/signup$/);
});

test("the server refuses the same passwords when the form is bypassed", async ({ page, baseURL }) => {
  await gotoHydrated(page, "/signup");
  const action = await page.locator("form").getAttribute("action");
  expect(action).toMatch(/^\/api\//);
  for (const [password, message] of [
    ["short", "Use at least 15 characters."],
    ["1qaz2wsx3edc4rfv", "too common"],
  ]) {
    const response = await page.request.post(action!, {
      headers: { Origin: baseURL!, Accept: "application/json" },
      form: { email: uniqueEmail("forged"), password, password_confirm: password },
    });
    expect(response.status()).toBe(422);
    expect(await response.text()).toContain(message);
  }
});

test("the rule is explained before anything is typed, and a run of spaces counts once", async ({ page }) => {
  await gotoHydrated(page, "/signup");
  await expect(
    page.getByText(
      "Tip: a few unrelated words make a passphrase that is long, strong and easy to remember. Spaces are fine.",
    ),
  ).toBeVisible();
  const requirement = page
    .getByRole("listitem")
    .filter({ hasText: "At least 15 characters (spaces in a row count once)" });
  await expect(requirement).not.toHaveClass(/met/);
  const password = page.getByLabel("Password", { exact: true });
  await password.fill(`a${" ".repeat(14)}`);
  await expect(requirement).not.toHaveClass(/met/);
  await password.fill("tulip stone blue");
  await expect(requirement).toHaveClass(/met/);
});
