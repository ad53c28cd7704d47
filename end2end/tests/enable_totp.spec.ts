import { readFile } from "node:fs/promises";
import { expect, test, type Page } from "@playwright/test";
import { gotoHydrated, signIn, signUp, uniqueEmail } from "./helpers";
import {
  atPath,
  Authenticator,
  BACKUP_CODE_GLOBAL,
  decodeQr,
  enterVerificationCode,
  passStepUpIfAsked,
  readBackupCodes,
  readManualKey,
  saveCodesHeading,
  scanHeading,
  t,
  verifyHeading,
  wizardProgress,
} from "./totp";

// Sharper screenshots of the QR code for the decoder.
test.use({ deviceScaleFactor: 2 });

async function expectCurrentStep(page: Page, name: string) {
  const progress = wizardProgress(page);
  await expect(progress.getByRole("listitem")).toHaveText([/Scan/, /Verify/, /Save codes/]);
  const current = progress.locator('[aria-current="step"]');
  await expect(current).toHaveCount(1);
  await expect(current).toContainText(name);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

async function startWizard(page: Page, password: string) {
  await gotoHydrated(page, "/settings/security");
  await expect(page.getByRole("heading", { name: "Security", level: 1 })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Two-factor authentication", level: 2 })).toBeVisible();
  await expect(page.getByTestId("two-factor-status")).toHaveText("Off");
  await page.getByRole("button", { name: "Enable two-factor authentication" }).click();
  await passStepUpIfAsked(page, password, scanHeading(page));
  await expect(scanHeading(page)).toBeVisible();
}

test("turn on two-factor with the setup wizard: scan, verify, save the backup codes", async ({ page }) => {
  const email = uniqueEmail("enable");
  const password = "wizard passphrase 1";
  await signUp(page, email, password);
  const settingsNav = page.getByRole("navigation", { name: "Settings" });
  await expect(settingsNav.getByRole("link", { name: "Account" })).toBeVisible();
  await settingsNav.getByRole("link", { name: "Security" }).click();
  await expect(page).toHaveURL(atPath("/settings/security"));
  await startWizard(page, password);

  // Step 1: Scan.
  await expectCurrentStep(page, "Scan");
  await expect(page.getByRole("button", { name: "Cancel" })).toBeVisible();
  const reveal = page.getByRole("button", { name: t("Can't scan? Enter this key") });
  await expect(reveal).toHaveAttribute("aria-expanded", "false");
  const key = await readManualKey(page);
  await expect(reveal).toHaveAttribute("aria-expanded", "true");
  await expect(page.getByRole("button", { name: "Copy key" })).toBeVisible();
  expect(key).toMatch(/^[A-Z2-7]{32}$/);

  const qr = page.getByRole("img", { name: "QR code for your authenticator app" });
  await expect(qr).toBeVisible();
  const uri = new URL(await decodeQr(qr));
  expect(uri.protocol).toBe("otpauth:");
  expect(`${uri.host}${decodeURIComponent(uri.pathname)}`).toBe(`totp/Keyward:${email}`);
  expect(Object.fromEntries(uri.searchParams)).toEqual({
    secret: key,
    issuer: "Keyward",
    algorithm: "SHA1",
    digits: "6",
    period: "30",
  });
  expect([...uri.searchParams.keys()].sort()).toEqual(["algorithm", "digits", "issuer", "period", "secret"]);

  // Step 2: Verify.
  await page.getByRole("button", { name: "Next" }).click();
  await expect(verifyHeading(page)).toBeVisible();
  await expectCurrentStep(page, "Verify");
  await expect(page.getByRole("button", { name: "Back" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Cancel" })).toBeVisible();
  await expect(page.getByLabel("Verification code")).toHaveAttribute("autocomplete", "one-time-code");
  const authenticator = new Authenticator(key);
  await enterVerificationCode(page, await authenticator.nextCode());

  // Step 3: Save codes.
  const codes = await readBackupCodes(page);
  await expectCurrentStep(page, "Save codes");
  expect(new Set(codes).size).toBe(10);
  await expect(page.getByRole("button", { name: "Copy", exact: true })).toBeVisible();
  await expect(page.getByRole("button", { name: "Print" })).toBeVisible();

  const downloading = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download" }).click();
  const download = await downloading;
  const [local, domain] = email.split("@");
  // The '@' may survive in the file name or be replaced by the browser or the page.
  expect(download.suggestedFilename()).toMatch(
    new RegExp(
      `^keyward-backup-codes-${escapeRegExp(local)}(@|%40|_at_|-at-|_|-)${escapeRegExp(domain)}\\.txt$`,
    ),
  );
  const content = await readFile((await download.path())!, "utf8");
  const inFile = content.match(BACKUP_CODE_GLOBAL) ?? [];
  expect(inFile.sort()).toEqual([...codes].sort());

  const finish = page.getByRole("button", { name: "Finish" });
  await expect(finish).toBeDisabled();
  const saved = page.getByLabel("I have saved these codes");
  await saved.check();
  await expect(finish).toBeEnabled();
  await saved.uncheck();
  await expect(finish).toBeDisabled();
  await saved.check();
  await finish.click();

  await expect(saveCodesHeading(page)).toBeHidden();
  await expect(wizardProgress(page)).toBeHidden();
  await expect(page.getByTestId("two-factor-status")).toHaveText("On");
  await expect(page.getByRole("term").filter({ hasText: "Authenticator app" })).toBeVisible();
  await expect(page.getByText(/Added \d{1,2} [A-Z][a-z]{2} \d{4}/)).toBeVisible();
  await expect(page.getByTestId("backup-codes-left")).toHaveText("10 of 10 left");
  await expect(page.getByRole("button", { name: "Replace authenticator" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Regenerate backup codes" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Turn off two-factor authentication" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Enable two-factor authentication" })).toHaveCount(0);

  // It stays on across a reload.
  await gotoHydrated(page, "/settings/security");
  await expect(page.getByTestId("two-factor-status")).toHaveText("On");
});

test("a wrong code in the Verify step is refused with the attempts left, then the right one works", async ({
  page,
}) => {
  const password = "wizard passphrase 2";
  await signUp(page, uniqueEmail("enable-wrong"), password);
  await startWizard(page, password);
  const authenticator = new Authenticator(await readManualKey(page));
  await page.getByRole("button", { name: "Next" }).click();

  await enterVerificationCode(page, authenticator.wrongCode());
  await expect(page.getByText(t("That code didn't match. 4 attempts left."))).toBeVisible();
  await expect(verifyHeading(page)).toBeVisible();

  await enterVerificationCode(page, await authenticator.nextCode());
  await readBackupCodes(page);
  await expect(page.getByText(t("That code didn't match. 4 attempts left."))).toHaveCount(0);
});

test("turning two-factor on signs out every other session and says how many", async ({ page, browser }) => {
  const email = uniqueEmail("enable-others");
  const password = "wizard passphrase 3";
  await signUp(page, email, password);
  // Someone else signed in with the password, in another browser.
  const other = await (await browser.newContext()).newPage();
  await signIn(other, email, password);
  await expect(other).toHaveURL(atPath("/settings/account"));

  await startWizard(page, password);
  const authenticator = new Authenticator(await readManualKey(page));
  await page.getByRole("button", { name: "Next" }).click();
  await enterVerificationCode(page, await authenticator.nextCode());
  await readBackupCodes(page);
  await page.getByLabel("I have saved these codes").check();
  await page.getByRole("button", { name: "Finish" }).click();
  await expect(
    page
      .getByRole("status")
      .filter({ hasText: t("Two-factor authentication is on. 1 other session was signed out.") }),
  ).toBeVisible();

  await other.goto("/settings/account");
  await expect(other).toHaveURL(atPath("/signin"));
  // This browser made the change and stays signed in.
  await page.goto("/settings/account");
  await expect(page).toHaveURL(atPath("/settings/account"));
});
