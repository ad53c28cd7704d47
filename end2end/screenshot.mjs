// Takes the README's screenshots: signs up on a running Keyward and captures the account page
// and the first step of the two-factor wizard.
// usage: node screenshot.mjs http://localhost:3000 ../docs/screenshot-account.png
import { chromium } from "@playwright/test";

const [base = "http://localhost:3000", out = "../docs/screenshot-account.png"] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});
const page = await browser.newPage({ viewport: { width: 1100, height: 760 }, colorScheme: "light" });
await page.goto(`${base}/signup`);
await page.locator("body[data-hydrated]").waitFor();
await page.getByLabel("Email address").fill(`ada.${Date.now()}@example.com`);
await page.getByLabel("Password", { exact: true }).fill("analytical engine 1843");
await page.getByLabel("Confirm password").fill("analytical engine 1843");
await page.getByRole("button", { name: "Create account" }).click();
await page.waitForURL(/settings\/account/);
await page.locator("body[data-hydrated]").waitFor();
await page.getByLabel("New password", { exact: true }).fill("difference engine");
await page.screenshot({ path: out });
console.log(`wrote ${out}`);

const wizardOut = out.replace("screenshot-account", "screenshot-two-factor");
await page.goto(`${base}/settings/security`);
await page.getByRole("button", { name: "Enable two-factor authentication" }).click();
await page.getByRole("heading", { name: "Scan the QR code" }).waitFor();
await page.getByRole("button", { name: "Can't scan? Enter this key" }).click();
await page.screenshot({ path: wizardOut });
await browser.close();
console.log(`wrote ${wizardOut}`);
