import { expect, test } from "@playwright/test";

// Visual regression: every specimen of the design gallery, in the light and the dark theme side
// by side, compared with the screenshots committed in dev/__screenshots__/. A change that alters
// a screen by accident fails here, with the expected, actual and diff images kept in
// test-results/ for review. After an intended change: `make screenshots`, look at the new
// images, commit them.
//
// Rendering is pinned: the font is Debian's DejaVu (fonts-dejavu-core, which scripts/setup.sh
// installs) whatever else the machine has, the viewport is fixed, and the caret and animations
// are stilled by toHaveScreenshot.

// The font is pinned with a style tag, which the app's CSP would refuse.
test.use({ viewport: { width: 1100, height: 900 }, bypassCSP: true });

test("every gallery specimen looks as committed, in light and dark", async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto("/design");
  const slugs = await page
    .getByRole("navigation", { name: "Screens and states" })
    .getByRole("link", { name: /alone$/ })
    .evaluateAll((links) =>
      links.map((link) => new URL((link as HTMLAnchorElement).href).searchParams.get("only") ?? ""),
    );
  expect(slugs.length).toBeGreaterThan(30);
  for (const slug of slugs) {
    await page.goto(`/design?theme=both&only=${slug}`);
    await page.addStyleTag({
      content: ':root { --font-sans: "DejaVu Sans"; --font-mono: "DejaVu Sans Mono"; }',
    });
    await page.evaluate(() => document.fonts.ready);
    await expect.soft(page.locator("section.specimen"), slug).toHaveScreenshot(`${slug}.png`);
  }
});
