#!/usr/bin/env bash
# JS+WASM brotli bytes per page, as Chromium downloads them with an empty cache: each page loaded
# on the release build against a throw-away database (end2end/perf/page_weight.spec.ts says how).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
source "$ROOT/scripts/db.sh"
cd "$ROOT"
bash scripts/build.sh >/dev/null
bench_db="keyward_weight_$$"
cleanup() {
  db_drop "$bench_db"
  db_down
}
trap cleanup EXIT
db_up "$bench_db" >/dev/null
ensure_encryption_keys
cd end2end
E2E_PORT=3101 E2E_DATABASE_URL="$(db_url_for "$bench_db")" \
  npx playwright test --config perf.config.ts 2>&1 |
  grep -v '^\[WebServer\]'
