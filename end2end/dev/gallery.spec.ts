import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Locator } from "@playwright/test";

// The design gallery as a workbench: an index of every screen and state, each specimen in the
// light theme, the dark one or both side by side, at page or phone width, and alone; every
// choice kept in the address, so a link shows a designer exactly one state.

const background = (frame: Locator) => frame.evaluate((el) => getComputedStyle(el).backgroundColor);
const LIGHT_BG = "rgb(246, 248, 250)";
const DARK_BG = "rgb(13, 17, 23)";

test("the gallery's index leads to each screen and state", async ({ page }) => {
  await page.goto("/design");
  const index = page.getByRole("navigation", { name: "Screens and states" });
  const entries = index.getByRole("listitem");
  const specimens = page.locator("section.specimen");
  await expect(entries).toHaveCount(await specimens.count());
  expect(await specimens.count()).toBeGreaterThan(30);
  // The workbench's own parts (the specimens, the app's screens, are checked by their flows'
  // specs; side by side they repeat their ids on purpose).
  const results = await new AxeBuilder({ page })
    .include(".gallery__toolbar")
    .include(".gallery__index")
    .analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`)).toEqual([]);

  await index.getByRole("link", { name: "Wizard 2 · Verify, wrong code with attempts left", exact: true }).click();
  await expect(page).toHaveURL(/#wizard-2-verify-wrong-code-with-attempts-left$/);
  const specimen = page.getByRole("region", { name: "Wizard 2 · Verify, wrong code with attempts left" });
  await expect(specimen).toBeInViewport();
  await expect(specimen.getByText("That code didn't match. 4 attempts left.")).toBeVisible();
});

test("a specimen is shown alone, in light and dark side by side, at phone width, from its link", async ({
  page,
}) => {
  await page.goto("/design");
  await page.getByRole("link", { name: "Challenge · backup code alone" }).click();
  await expect(page).toHaveURL(/\/design\?only=challenge-backup-code$/);
  await expect(page.locator("section.specimen")).toHaveCount(1);

  // The view switches keep what else was chosen.
  const toolbar = page.getByRole("navigation", { name: "Gallery view" });
  await toolbar.getByRole("link", { name: "Light and dark" }).click();
  await expect(page).toHaveURL(/\/design\?theme=both&only=challenge-backup-code$/);
  const frames = page.locator(".specimen__frame");
  await expect(frames).toHaveCount(2);
  expect(await background(frames.nth(0))).toBe(LIGHT_BG);
  expect(await background(frames.nth(1))).toBe(DARK_BG);
  // The tokens follow inside the dark frame: its card is the dark surface, its text light.
  const darkCard = frames.nth(1).locator(".card");
  expect(await background(darkCard)).toBe("rgb(21, 27, 35)");
  expect(await darkCard.evaluate((el) => getComputedStyle(el).color)).toBe("rgb(240, 246, 252)");

  await toolbar.getByRole("link", { name: "Phone width" }).click();
  await expect(page).toHaveURL(/\/design\?theme=both&width=phone&only=challenge-backup-code$/);
  for (const frame of await frames.all()) {
    expect(await frame.evaluate((el) => el.getBoundingClientRect().width)).toBe(375);
  }

  await toolbar.getByRole("link", { name: "Dark", exact: true }).click();
  await expect(page).toHaveURL(/\/design\?theme=dark&width=phone&only=challenge-backup-code$/);
  await expect(frames).toHaveCount(1);
  expect(await background(frames.first())).toBe(DARK_BG);

  await toolbar.getByRole("link", { name: "Show every specimen" }).click();
  await expect(page).toHaveURL(/\/design\?theme=dark&width=phone$/);
  expect(await page.locator("section.specimen").count()).toBeGreaterThan(30);
});
