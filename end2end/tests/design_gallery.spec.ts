import { expect, test } from "@playwright/test";

// The component gallery exists in development builds only (a Rust test checks it there); the
// release server the end-to-end tests run answers like any unknown address.
test("the design gallery is not served in production", async ({ page }) => {
  const response = await page.goto("/design");
  expect(response!.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});
