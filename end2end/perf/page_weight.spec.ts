// What each page downloads to run: the JS and WASM files Chromium fetches for it with an empty
// cache (the page and its islands' chunks), counted at their brotli size as served
// (target/site/pkg/*.br), against the 120 KB per-page budget of issue 9. Prints; asserts nothing.
import { test, type Browser, type BrowserContext } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { signUp, uniqueEmail } from "../tests/helpers";
import { enableTotp, signInToChallenge, signOut } from "../tests/totp";

const PKG = path.resolve(__dirname, "../../target/site/pkg");
const BUDGET = 120 * 1000;
const PASSWORD = "correct horse battery staple";

function brotliSize(file: string): number {
  const precompressed = path.join(PKG, `${file}.br`);
  if (fs.existsSync(precompressed)) return fs.statSync(precompressed).size;
  const raw = fs.readFileSync(path.join(PKG, file));
  return zlib.brotliCompressSync(raw, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 },
  }).length;
}

type Weight = { page: string; files: string[]; bytes: number };

/** Loads `url` in a fresh context (empty cache) carrying `from`'s cookies, and weighs it. */
async function weigh(browser: Browser, from: BrowserContext | null, url: string): Promise<Weight> {
  const context = await browser.newContext(
    from ? { storageState: await from.storageState() } : {},
  );
  const page = await context.newPage();
  const files = new Set<string>();
  page.on("response", (response) => {
    const { pathname } = new URL(response.url());
    if (pathname.startsWith("/pkg/") && /\.(js|wasm)$/.test(pathname)) {
      files.add(path.basename(pathname));
    }
  });
  await page.goto(url);
  await page.waitForLoadState("networkidle");
  await context.close();
  const sorted = [...files].sort();
  return { page: url, files: sorted, bytes: sorted.reduce((sum, f) => sum + brotliSize(f), 0) };
}

test("JS+WASM brotli bytes per page", async ({ browser, page, context }) => {
  const weights: Weight[] = [];
  weights.push(await weigh(browser, null, "/signin"));
  weights.push(await weigh(browser, null, "/signup"));

  const email = uniqueEmail("page-weight");
  await signUp(page, email, PASSWORD);
  weights.push(await weigh(browser, context, "/settings/account"));
  weights.push(await weigh(browser, context, "/settings/security"));
  weights.push(await weigh(browser, context, "/settings/security/two-factor?action=enable"));

  await enableTotp(page, PASSWORD);
  await signOut(page);
  await signInToChallenge(page, email, PASSWORD);
  weights.push(await weigh(browser, context, "/signin/challenge"));

  const lines = ["page                                           files   brotli  vs 120 KB"];
  for (const w of weights) {
    lines.push(
      `${w.page.padEnd(46)} ${String(w.files.length).padStart(5)} ${String(w.bytes).padStart(8)}` +
        `  ${(w.bytes / BUDGET).toFixed(3)}x ${w.bytes <= BUDGET ? "within" : "OVER"}`,
    );
  }
  const largest = weights.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const signIn = weights[0];
  lines.push(`largest: ${largest.page} (${(largest.bytes / 1000).toFixed(1)} KB)`);
  // Of the pages with a form (an island): a page without one loads only the shared module.
  const withForms = weights.filter((w) => w.files.some((f) => f.startsWith("split_")));
  lines.push(
    `sign-in page the smallest of the pages with a form: ${withForms.every((w) => signIn.bytes <= w.bytes) ? "yes" : "no"}`,
  );
  for (const w of weights) lines.push(`  ${w.page}: ${w.files.join(" ")}`);
  console.log(lines.join("\n"));
});
