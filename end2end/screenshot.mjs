// Takes the README's screenshot: signs up on a running Keyward and captures the account page.
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
await browser.close();
console.log(`wrote ${out}`);
