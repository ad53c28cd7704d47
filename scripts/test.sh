#!/usr/bin/env bash
# Runs everything that tests Keyward: formatting, clippy for each feature set, unit and
# integration tests against PostgreSQL, the committed .sqlx query data, and the Playwright suite
# in Chromium against a release build. Exits non-zero on the first failure.
#   scripts/test.sh          everything
#   scripts/test.sh e2e      only the Playwright suite (still builds what it needs)
#   scripts/test.sh e2e ARGS the same, passing ARGS to Playwright (e.g. a spec's name)
#   scripts/test.sh dev [ARGS] only the designer's set-up (gallery, screenshots, live tokens)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ROOT/scripts/db.sh"
cd "$ROOT"
only="${1:-all}"
shift || true
bash scripts/setup.sh
export SQLX_OFFLINE=true

e2e_db=""
server_log=""
cleanup() {
  [ -n "$server_log" ] && rm -f "$server_log"
  [ -n "$e2e_db" ] && db_drop "$e2e_db"
  db_down
}
trap cleanup EXIT
trap "exit 130" INT TERM

if [ "$only" = all ]; then
  step "check: cargo fmt"
  cargo fmt --all -- --check

  step "check: shellcheck (scripts, bench, CI)"
  shellcheck scripts/*.sh bench/*.sh .ci/run

  step "check: clippy (server: domain, keyward-core, test-support, app+ssr, server)"
  cargo clippy -p domain -p keyward-core -p test-support --all-targets -- -D warnings
  cargo clippy -p app --features ssr --all-targets -- -D warnings
  cargo clippy -p server --all-targets -- -D warnings
  step "check: clippy (browser: domain, app+hydrate, frontend on wasm32)"
  cargo clippy -p domain -p frontend --target wasm32-unknown-unknown -- -D warnings
  cargo clippy -p app --features hydrate --target wasm32-unknown-unknown -- -D warnings
fi

db_up keyward_test

if [ "$only" = all ]; then
  step "check: .sqlx matches the queries (cargo sqlx prepare --check)"
  sqlx migrate run
  SQLX_OFFLINE=false cargo sqlx prepare --check --workspace -- \
    -p keyward-core -p app --features app/ssr --all-targets

  step "test: unit and integration tests (cargo test)"
  cargo test -p domain
  cargo test -p keyward-core
  cargo test -p app --features ssr
  cargo test -p server
fi

e2e_db="keyward_e2e_$$"
db_create "$e2e_db"
E2E_DATABASE_URL="$(db_url_for "$e2e_db")"
ensure_encryption_keys

if [ "$only" != dev ]; then
  bash scripts/build.sh
  step "test: Playwright end-to-end suite (Chromium, release build, throw-away database)"
  # Some specs let time pass by editing the throw-away database; they use this psql.
  E2E_PSQL="$(pg_bin_dir)/psql"
  server_log="$(mktemp)"
  (cd end2end && E2E_DATABASE_URL="$E2E_DATABASE_URL" E2E_PSQL="$E2E_PSQL" npx playwright test "$@") 2>&1 |
    tee "$server_log"
  # A panic in the server fails the run even when every spec passed: the page may have been
  # sent before it (a panic while a response's owner is cleaned up), so no spec would notice.
  # Only the server's lines count (a browser's console may say "panicked at" too).
  if grep -qE '^\[WebServer\] .*panicked at' "$server_log"; then
    echo "error: the server panicked during the end-to-end suite (see the [WebServer] lines above)" >&2
    exit 1
  fi
fi

# The designer's set-up (`make dev`'s watcher on ports of its own), when the whole suite runs or
# alone (`scripts/test.sh dev [playwright args]`; `make screenshots` passes --update-snapshots):
# the gallery as a workbench, its visual regression, and a token edited in style/main.css
# restyling the open gallery without a reload. That spec puts the file back; so does this,
# should the run be cut short.
if [ "$only" = dev ] || [ "$#" -eq 0 ]; then
  step "test: the designer's set-up (cargo leptos watch): gallery, screenshots, live tokens"
  style_backup="$(mktemp)"
  cp style/main.css "$style_backup"
  restore_style() {
    cmp -s "$style_backup" style/main.css || cp "$style_backup" style/main.css
    rm -f "$style_backup"
  }
  trap 'restore_style; cleanup' EXIT
  dev_args=()
  if [ "$only" = dev ]; then dev_args=("$@"); fi
  (cd end2end && E2E_DATABASE_URL="$E2E_DATABASE_URL" npx playwright test --config dev.config.ts "${dev_args[@]}")
fi
