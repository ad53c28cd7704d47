import { expect, test, type Browser, type Page } from "@playwright/test";
import { gotoHydrated, signIn, signUp, uniqueEmail } from "./helpers";
import {
  atPath,
  Authenticator,
  enableTotp,
  passStepUpIfAsked,
  signInToChallenge,
  signOut,
  submitChallengeCode,
  t,
} from "./totp";

// Headless Chromium names itself "HeadlessChrome"; a desktop Chrome on Linux keeps the browser
// name shown in the list predictable.
const userAgent =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) " +
  "Chrome/131.0.0.0 Safari/537.36";
test.use({ userAgent });

async function freshBrowser(browser: Browser): Promise<Page> {
  return (await browser.newContext({ userAgent })).newPage();
}

function trustedBrowsersCard(page: Page) {
  return page.getByRole("region", { name: "Trusted browsers" });
}

/** Signs in, ticks "Don't ask again" at the code prompt and verifies. */
async function signInTrustingThisBrowser(
  page: Page,
  email: string,
  password: string,
  authenticator: Authenticator,
) {
  await signInToChallenge(page, email, password);
  await page.getByLabel(t("Don't ask again on this browser for 30 days")).check();
  await submitChallengeCode(page, await authenticator.nextCode());
  await expect(page).toHaveURL(atPath("/settings/account"));
}

test("a trusted browser is not asked for a code again; other browsers are", async ({ page, browser }) => {
  const email = uniqueEmail("trust");
  const password = "trusting passphrase 1";
  await signUp(page, email, password);
  const { authenticator } = await enableTotp(page, password);
  await expect(trustedBrowsersCard(page).getByText("No trusted browsers.")).toBeVisible();
  await signOut(page);

  await signInTrustingThisBrowser(page, email, password, authenticator);
  await gotoHydrated(page, "/settings/security");
  const card = trustedBrowsersCard(page);
  await expect(card.getByRole("heading", { name: "Trusted browsers", level: 2 })).toBeVisible();
  await expect(card.getByText("Chrome on Linux")).toBeVisible();
  await expect(card.getByText(/Last used \d{1,2} [A-Z][a-z]{2} \d{4}/)).toBeVisible();
  await expect(card.getByRole("button", { name: "Revoke" })).toHaveCount(1);
  await expect(card.getByText("No trusted browsers.")).toBeHidden();
  await signOut(page);

  // Same browser: the password is enough.
  await signIn(page, email, password);
  await expect(page).toHaveURL(atPath("/settings/account"));
  await expect(page.getByTestId("account-email")).toHaveText(email);

  // Another browser still gets the code prompt.
  const other = await freshBrowser(browser);
  await signIn(other, email, password);
  await expect(other).toHaveURL(atPath("/signin/challenge"));
  await expect(other.getByRole("heading", { name: "Two-factor authentication", level: 1 })).toBeVisible();
});

test("revoking a trusted browser makes it ask for a code again", async ({ page }) => {
  const email = uniqueEmail("trust-revoke");
  const password = "trusting passphrase 2";
  await signUp(page, email, password);
  const { authenticator } = await enableTotp(page, password);
  await signOut(page);
  await signInTrustingThisBrowser(page, email, password, authenticator);

  await gotoHydrated(page, "/settings/security");
  const card = trustedBrowsersCard(page);
  await expect(card.getByText("Chrome on Linux")).toBeVisible();
  await card.getByRole("button", { name: "Revoke" }).click();
  await passStepUpIfAsked(page, password, card.getByText("No trusted browsers."));
  await expect(card.getByText("No trusted browsers.")).toBeVisible();
  await expect(card.getByRole("button", { name: "Revoke" })).toHaveCount(0);
  await expect(card.getByRole("status")).toHaveText("The browser is no longer trusted.");
  // Still revoked after a reload.
  await gotoHydrated(page, "/settings/security");
  await expect(trustedBrowsersCard(page).getByText("No trusted browsers.")).toBeVisible();
  await signOut(page);

  await signIn(page, email, password);
  await expect(page).toHaveURL(atPath("/signin/challenge"));
  await expect(page.getByRole("heading", { name: "Two-factor authentication", level: 1 })).toBeVisible();
});
