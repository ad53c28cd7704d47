#!/usr/bin/env bash
# Every file of the build a browser may download: the hashed JS glue, the main WASM, each lazy
# island's WASM chunks (cargo leptos --split) and the CSS, raw, gzip -9 and brotli -q 11 as
# served; what every page loads, against the empty Leptos 0.8 app of the toolchain notes (151,540
# bytes brotli). What one page downloads, against its budget, is bench/page_weight.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ROOT"
bash scripts/build.sh >/dev/null
node - "$ROOT/target/site/pkg" <<'JS'
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");
const dir = process.argv[2];
const EMPTY_APP = 145820 + 5720;
const files = fs.readdirSync(dir).filter((f) => /\.(js|wasm|css)$/.test(f) && !f.endsWith(".d.ts"));
let allBrotli = 0;
let everyPage = 0;
const brotli = (raw) =>
  zlib.brotliCompressSync(raw, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
console.log("file                                         raw      gzip    brotli");
for (const f of files.sort()) {
  const raw = fs.readFileSync(path.join(dir, f));
  const gz = zlib.gzipSync(raw, { level: 9 }).length;
  const br = brotli(raw);
  if (/\.(js|wasm)$/.test(f)) allBrotli += br;
  // What every page with an island loads before its own chunks: the glue, the main module and
  // the split loader.
  if (/^(keyward\.|__wasm_split\.).*\.(js|wasm)$/.test(f)) everyPage += br;
  console.log(`${f.padEnd(40)} ${String(raw.length).padStart(8)} ${String(gz).padStart(9)} ${String(br).padStart(9)}`);
}
console.log(`JS+WASM brotli, every file together: ${(allBrotli / 1000).toFixed(1)} KB (no page loads them all: bench/page_weight.sh)`);
console.log(`  main module, glue and split loader (every page): ${(everyPage / 1000).toFixed(1)} KB`);
console.log(`  vs empty Leptos 0.8 app (151.5 KB): ${(everyPage / EMPTY_APP).toFixed(3)}x`);
JS
