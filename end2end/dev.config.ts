import base from "./playwright.config";
import { defineConfig } from "@playwright/test";

// The development set-up as `make dev` runs it (cargo leptos watch, unhashed file names, live
// reload), on ports of its own, against the throw-away database scripts/test.sh passes: the
// designer's loop in dev/. The first build of the development bundle takes minutes.
const port = Number(process.env.E2E_DEV_PORT ?? 3200);
const baseURL = `http://localhost:${port}`;

export default defineConfig({
  ...base,
  testDir: "./dev",
  // Baselines beside the specs, one name per specimen (no platform suffix: the rendering is
  // pinned to Debian's Chromium and DejaVu fonts).
  snapshotPathTemplate: "{testDir}/__screenshots__/{arg}{ext}",
  expect: { ...base.expect, toHaveScreenshot: { maxDiffPixels: 0 } },
  timeout: 180_000,
  reporter: [["list"]],
  projects: [{ name: "chromium" }],
  use: { ...base.use, baseURL },
  webServer: {
    command: "cargo leptos watch --split",
    cwd: "..",
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 1_800_000,
    stdout: "pipe",
    stderr: "pipe",
    // As Ctrl-C in `make dev`: the watcher stops the server it started (killed outright, it
    // would leave the server running on the port).
    gracefulShutdown: { signal: "SIGINT", timeout: 10_000 },
    env: {
      SQLX_OFFLINE: "true",
      LEPTOS_ENV: "DEV",
      LEPTOS_HASH_FILES: "false",
      LEPTOS_SITE_ROOT: "target/dev-site",
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_RELOAD_PORT: String(port + 1),
      DATABASE_URL: process.env.E2E_DATABASE_URL ?? "",
      KEYWARD_PUBLIC_URL: baseURL,
      KEYWARD_ENCRYPTION_KEYS: process.env.KEYWARD_ENCRYPTION_KEYS ?? "",
      RUST_LOG: "info,tower_http=warn",
    },
  },
});
