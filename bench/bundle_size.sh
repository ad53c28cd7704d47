#!/usr/bin/env bash
# What a browser downloads to run Keyward's pages: the hashed JS glue and WASM (and the CSS),
# raw, gzip -9 and brotli -q 11 as served, against the 200 KB brotli budget for JS+WASM and the
# empty Leptos 0.8 app of the toolchain notes (151,540 bytes brotli).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ROOT"
bash scripts/build.sh >/dev/null
node - "$ROOT/target/site/pkg" <<'JS'
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");
const dir = process.argv[2];
const BUDGET = 200 * 1000;
const EMPTY_APP = 145820 + 5720;
const files = fs.readdirSync(dir).filter((f) => /\.(js|wasm|css)$/.test(f) && !f.endsWith(".d.ts"));
let appBrotli = 0;
console.log("file                                         raw      gzip    brotli");
for (const f of files.sort()) {
  const raw = fs.readFileSync(path.join(dir, f));
  const gz = zlib.gzipSync(raw, { level: 9 }).length;
  const br = zlib.brotliCompressSync(raw, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  if (/\.(js|wasm)$/.test(f)) appBrotli += br;
  console.log(`${f.padEnd(40)} ${String(raw.length).padStart(8)} ${String(gz).padStart(9)} ${String(br).padStart(9)}`);
}
console.log(`JS+WASM brotli: ${appBrotli} bytes = ${(appBrotli / 1000).toFixed(1)} KB`);
console.log(`  vs budget 200 KB: ${(appBrotli / BUDGET).toFixed(3)}x (${appBrotli <= BUDGET ? "within" : "OVER"} budget)`);
console.log(`  vs empty Leptos 0.8 app (151.5 KB): ${(appBrotli / EMPTY_APP).toFixed(3)}x`);
JS
