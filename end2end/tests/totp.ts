import { expect, type Locator, type Page } from "@playwright/test";
import jsQR from "jsqr";
import * as OTPAuth from "otpauth";
import { PNG } from "pngjs";
import { gotoHydrated, signIn } from "./helpers";

/** RFC 6238 defaults, the only parameters Keyward issues. */
export const PERIOD_SECONDS = 30;
export const DIGITS = 6;

/** Backup codes as shown: Crockford base32, lowercase, `xxxxx-xxxxx`. */
export const BACKUP_CODE = /^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/;
/** Every backup code in a longer text, such as the downloaded file. */
export const BACKUP_CODE_GLOBAL =
  /(?<![0-9A-Za-z-])[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}(?![0-9A-Za-z-])/g;

/**
 * The whole visible text, matched exactly (surrounding whitespace aside), with a straight or a
 * typographic apostrophe: "didn't" and "didn’t" read the same to a person.
 */
export function t(text: string): RegExp {
  const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/'/g, "['’]");
  return new RegExp(`^\\s*${escaped}\\s*$`);
}

/**
 * The URL is at `path`, whatever the query string: some landings carry one (the Security page
 * after a backup code, the sign-in page after too many wrong codes).
 */
export function atPath(path: string): RegExp {
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^[a-z]+://[^/]+${escaped}(\\?[^#]*)?(#.*)?$`);
}

export function currentStep(): number {
  return Math.floor(Date.now() / 1000 / PERIOD_SECONDS);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * An authenticator app that respects the server's single-use rule: a code is accepted for the
 * steps current-1..current+1, but never for a step at or before the last one accepted for the
 * account. So every code handed out is for a step after the previous one, and when that step is
 * still too far ahead, `nextCode` waits (up to a step) until the server's window reaches it.
 *
 * Authenticators for the same account (an old and a replacement app) can share one record of the
 * last step with `sameAccountAs`, which is right whether the server tracks steps per account or
 * per authenticator.
 */
export class Authenticator {
  readonly secret: string;
  private readonly totp: OTPAuth.TOTP;
  private readonly ledger: { lastStep: number | null };

  constructor(secretBase32: string, sameAccountAs?: Authenticator) {
    this.secret = secretBase32;
    this.totp = new OTPAuth.TOTP({
      issuer: "Keyward",
      algorithm: "SHA1",
      digits: DIGITS,
      period: PERIOD_SECONDS,
      secret: OTPAuth.Secret.fromBase32(secretBase32),
    });
    this.ledger = sameAccountAs ? sameAccountAs.ledger : { lastStep: null };
  }

  /** The last step handed out, if any. */
  get lastStep(): number | null {
    return this.ledger.lastStep;
  }

  codeForStep(step: number): string {
    return this.totp.generate({ timestamp: step * PERIOD_SECONDS * 1000 });
  }

  /** A code the server will accept once: for step max(current, last + 1). */
  async nextCode(): Promise<string> {
    const now = currentStep();
    const last = this.ledger.lastStep;
    const step = last === null ? now : Math.max(now, last + 1);
    // Reserved before waiting, so two calls never share a step.
    this.ledger.lastStep = step;
    // Page-independent wait: the code is valid once the current step is at least step - 1.
    while (step > currentStep() + 1) {
      const windowOpensAt = (step - 1) * PERIOD_SECONDS * 1000;
      await sleep(Math.max(windowOpensAt - Date.now(), 0) + 100);
    }
    return this.codeForStep(step);
  }

  /** Six digits that are no code for the steps around now (nor the next one, for slow runs). */
  wrongCode(): string {
    const now = currentStep();
    const valid = new Set([now - 1, now, now + 1, now + 2].map((s) => this.codeForStep(s)));
    for (;;) {
      const candidate = String(Math.floor(Math.random() * 10 ** DIGITS)).padStart(DIGITS, "0");
      if (!valid.has(candidate)) return candidate;
    }
  }
}

/** Waits for the islands (the forms) of the page just loaded to be interactive. */
export async function waitHydrated(page: Page): Promise<void> {
  await expect(page.locator("body[data-hydrated]")).toHaveCount(1);
}

export async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(atPath("/signin"));
}

/** Signs in with the password of an account with two-factor on, up to the code prompt. */
export async function signInToChallenge(page: Page, email: string, password: string): Promise<void> {
  await signIn(page, email, password);
  await expect(page).toHaveURL(atPath("/signin/challenge"));
  await expect(
    page.getByRole("heading", { name: "Two-factor authentication", level: 1 }),
  ).toBeVisible();
  await waitHydrated(page);
}

/** Enters a code on the challenge page (whichever kind it is asking for) and submits it. */
export async function submitChallengeCode(page: Page, code: string): Promise<void> {
  const field = page
    .getByLabel("Authentication code", { exact: true })
    .or(page.getByLabel("Backup code", { exact: true }))
    .filter({ visible: true });
  await field.fill(code);
  await page.getByRole("button", { name: "Verify", exact: true }).click();
}

export async function switchToBackupCode(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Use a backup code instead" }).click();
  await expect(page.getByLabel("Backup code", { exact: true })).toBeVisible();
  await expect(page.getByLabel("Authentication code", { exact: true })).toBeHidden();
}

/**
 * Answers the "Confirm it's you" prompt if the action asks for it: with the password (accounts
 * without two-factor) or, when the prompt asks for the second factor, with the authenticator's
 * next code. Fresh sessions are not asked, so this does not wait long: it races the prompt
 * against `next` (what the action shows when no prompt comes) or, without `next`, looks for
 * the prompt for a moment. Keyboard-friendly: fills the field and presses Enter. Returns
 * whether it was asked.
 */
export async function passStepUpIfAsked(
  page: Page,
  password: string,
  next?: Locator,
  authenticator?: Authenticator,
): Promise<boolean> {
  const prompt = page.getByRole("heading", { name: t("Confirm it's you") });
  if (next) {
    await expect(prompt.or(next).first()).toBeVisible();
  } else {
    await prompt.waitFor({ state: "visible", timeout: 1_500 }).catch(() => undefined);
  }
  if (!(await prompt.isVisible())) return false;
  const passwordField = page.getByLabel("Password", { exact: true });
  const codeField = page.getByLabel("Authentication code", { exact: true });
  await expect(passwordField.or(codeField).first()).toBeVisible();
  if (await passwordField.isVisible()) {
    await passwordField.fill(password);
    await passwordField.press("Enter");
  } else {
    if (!authenticator) throw new Error("the prompt asks for a code: pass the authenticator");
    await codeField.fill(await authenticator.nextCode());
    await codeField.press("Enter");
  }
  await expect(prompt).toBeHidden();
  return true;
}

export function wizardProgress(page: Page): Locator {
  return page.getByRole("list", { name: "Setup progress" });
}

export function scanHeading(page: Page): Locator {
  return page.getByRole("heading", { name: "Scan the QR code" });
}

export function verifyHeading(page: Page): Locator {
  return page.getByRole("heading", { name: "Enter the code from your app" });
}

export function saveCodesHeading(page: Page): Locator {
  return page.getByRole("heading", { name: "Save your backup codes" });
}

/** On the Scan step: the manual-entry key, revealed if need be, without its spaces. */
export async function readManualKey(page: Page): Promise<string> {
  await expect(scanHeading(page)).toBeVisible();
  await waitHydrated(page);
  const key = page.getByTestId("manual-key");
  if (!(await key.isVisible())) {
    await page.getByRole("button", { name: t("Can't scan? Enter this key") }).click();
  }
  await expect(key).toBeVisible();
  const grouped = (await key.innerText()).trim();
  expect(grouped, "the key is shown in groups of four").toMatch(/^[A-Z2-7]{1,4}( [A-Z2-7]{1,4})*$/);
  return grouped.replace(/\s+/g, "");
}

/** On the Verify step: enters the authenticator's next code and submits it. */
export async function enterVerificationCode(page: Page, code: string): Promise<void> {
  await expect(verifyHeading(page)).toBeVisible();
  await waitHydrated(page);
  await page.getByLabel("Verification code").fill(code);
  await page.getByRole("button", { name: "Verify", exact: true }).click();
}

/** On the Save codes step: the ten codes as listed. */
export async function readBackupCodes(page: Page): Promise<string[]> {
  await expect(saveCodesHeading(page)).toBeVisible();
  await waitHydrated(page);
  const items = page.getByTestId("backup-codes").getByRole("listitem");
  await expect(items).toHaveCount(10);
  const codes = (await items.allInnerTexts()).map((c) => c.trim());
  for (const code of codes) expect(code).toMatch(BACKUP_CODE);
  return codes;
}

/** On the Save codes step: confirms the codes are saved and leaves the wizard. */
export async function finishSavingCodes(page: Page): Promise<void> {
  await page.getByLabel("I have saved these codes").check();
  await page.getByRole("button", { name: "Finish" }).click();
  await expect(saveCodesHeading(page)).toBeHidden();
  // In case finishing reloaded the page: its buttons work once hydrated again.
  await waitHydrated(page);
}

/**
 * From anywhere: opens Security, turns two-factor on with a new authenticator (passing the
 * password prompt if it comes) and returns that authenticator and the backup codes shown.
 */
export async function enableTotp(
  page: Page,
  password: string,
): Promise<{ authenticator: Authenticator; backupCodes: string[] }> {
  await gotoHydrated(page, "/settings/security");
  await expect(page.getByTestId("two-factor-status")).toHaveText("Off");
  await page.getByRole("button", { name: "Enable two-factor authentication" }).click();
  await passStepUpIfAsked(page, password, scanHeading(page));
  const authenticator = new Authenticator(await readManualKey(page));
  await page.getByRole("button", { name: "Next" }).click();
  await enterVerificationCode(page, await authenticator.nextCode());
  const backupCodes = await readBackupCodes(page);
  await finishSavingCodes(page);
  await expect(page.getByTestId("two-factor-status")).toHaveText("On");
  return { authenticator, backupCodes };
}

/**
 * Decodes the QR code an element shows, from a screenshot of it: what a phone camera would read.
 * A white margin is added first, since the image may have no quiet zone of its own.
 */
export async function decodeQr(element: Locator): Promise<string> {
  await expect(element).toBeVisible();
  // An <img> is screenshotted as soon as it is laid out; wait for its pixels.
  await expect
    .poll(() =>
      element.evaluate((el) => !(el instanceof HTMLImageElement) || (el.complete && el.naturalWidth > 0)),
    )
    .toBe(true);
  return decodeQrPng(await element.screenshot({ animations: "disabled" }));
}

/** Reads the QR code in a PNG image, adding a quiet zone around it first. */
export function decodeQrPng(png: Buffer): string {
  const shot = PNG.sync.read(png);
  // A light margin for dark modules on light; a dark one in case the colours are inverted.
  for (const shade of [255, 0]) {
    const margin = 32;
    const width = shot.width + 2 * margin;
    const height = shot.height + 2 * margin;
    const pixels = new Uint8ClampedArray(width * height * 4).fill(shade);
    for (let i = 3; i < pixels.length; i += 4) pixels[i] = 255;
    for (let y = 0; y < shot.height; y++) {
      const from = y * shot.width * 4;
      pixels.set(shot.data.subarray(from, from + shot.width * 4), ((y + margin) * width + margin) * 4);
    }
    const decoded = jsQR(pixels, width, height, { inversionAttempts: "attemptBoth" });
    if (decoded) return decoded.data;
  }
  throw new Error("the QR code in the screenshot could not be read");
}
