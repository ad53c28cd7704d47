import { expect, test } from "@playwright/test";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

// The designer's loop under `make dev` (cargo leptos watch): a design token edited in
// style/main.css reaches the open gallery by itself, without a reload by hand. The watcher
// rebuilds the stylesheet and tells the page to swap it; the page must link it under the name
// the reloader swaps (unhashed in development).

const styleFile = path.resolve(__dirname, "../../style/main.css");

test("a token edited in style/main.css shows in the open gallery without a reload", async ({ page }) => {
  await page.goto("/design");
  await expect(page.getByRole("heading", { name: "Design gallery" })).toBeVisible();
  // The primary button's colour is the accent token (the light theme's, as headless Chromium
  // prefers light).
  const button = page.locator(".button--primary").first();
  const accent = () => button.evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(await accent()).toBe("rgb(9, 105, 218)");

  // A mark on the page: gone if the page were reloaded instead of restyled.
  await page.evaluate(() => {
    (window as unknown as { keptOpen: boolean }).keptOpen = true;
  });
  const original = readFileSync(styleFile, "utf8");
  const edited = original.replace("--color-accent: light-dark(#0969da,", "--color-accent: light-dark(#c0ffee,");
  expect(edited).not.toBe(original);
  try {
    writeFileSync(styleFile, edited);
    await expect
      .poll(accent, { timeout: 60_000, message: "the token reaches the page" })
      .toBe("rgb(192, 255, 238)");
    expect(await page.evaluate(() => (window as unknown as { keptOpen?: boolean }).keptOpen)).toBe(true);
  } finally {
    writeFileSync(styleFile, original);
  }
  // And back, once the edit is undone.
  await expect.poll(accent, { timeout: 60_000 }).toBe("rgb(9, 105, 218)");
});
