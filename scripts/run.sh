#!/usr/bin/env bash
# Installs what is missing, builds and serves Keyward at http://localhost:3000.
# Without DATABASE_URL it provisions and starts a local PostgreSQL, and stops it on exit.
#   scripts/run.sh          release build (what users get)
#   scripts/run.sh --watch  cargo leptos watch: rebuilds and reloads the page on every change
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ROOT/scripts/db.sh"
cd "$ROOT"
bash scripts/setup.sh run
db_up keyward
ensure_encryption_keys
trap db_down EXIT
trap "exit 130" INT TERM
if [ "${1:-}" = "--watch" ]; then
  export SQLX_OFFLINE=true LEPTOS_ENV=DEV
  # Unhashed file names in development: the live reloader swaps the stylesheet by its plain
  # name (pkg/keyward.css), so a token edit shows in the open page at once. Its own site
  # folder, so a development build never stands in for the release one `make run` serves.
  export LEPTOS_HASH_FILES=false LEPTOS_SITE_ROOT=target/dev-site
  step "watch: cargo leptos watch --split (http://localhost:3000, reloads on change)"
  # --split: every island is lazy (its own WASM file), which only a split build provides.
  cargo leptos watch --split
else
  bash scripts/build.sh
  step "Keyward: http://localhost:3000 (Ctrl-C stops it and the local database)"
  # Not exec: the trap above must run to stop the database.
  target/release/server
fi
