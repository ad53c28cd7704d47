import { defineConfig } from "@playwright/test";

// The release server on a throw-away database (scripts/test.sh creates it and passes its URL),
// served on localhost: WebAuthn, later, refuses 127.0.0.1.
const port = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://localhost:${port}`;

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"], ["html", { open: "never" }]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  projects: [
    { name: "chromium", testIgnore: /no_script\.spec\.ts/ },
    // Pages and forms as a person without JavaScript meets them.
    { name: "no-script", testMatch: /no_script\.spec\.ts/, use: { javaScriptEnabled: false } },
  ],
  webServer: {
    command: "./target/release/server",
    cwd: "..",
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      DATABASE_URL: process.env.E2E_DATABASE_URL ?? "",
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: "target/site",
      KEYWARD_PUBLIC_URL: baseURL,
      KEYWARD_ENCRYPTION_KEYS: process.env.KEYWARD_ENCRYPTION_KEYS ?? "",
      // Every spec signs up from 127.0.0.1; the default of 10 per hour per address is for people.
      KEYWARD_SIGN_UPS_PER_HOUR: "10000",
      RUST_LOG: "info,tower_http=warn",
    },
  },
});
