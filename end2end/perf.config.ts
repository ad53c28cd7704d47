import base from "./playwright.config";
import { defineConfig } from "@playwright/test";

// The end-to-end set-up (release server, throw-away database, Debian's Chromium), pointed at the
// measurements in perf/ instead of the specs (bench/page_weight.sh runs it).
export default defineConfig({
  ...base,
  testDir: "./perf",
  testMatch: /page_weight\.spec\.ts/,
  timeout: 120_000,
  reporter: [["list"]],
  projects: [{ name: "chromium" }],
});
