#!/usr/bin/env bash
# Release build: WASM (size profile, wasm-opt), CSS, hashed file names, brotli/gzip copies, and
# the server binary (target/release/server). Skipped when nothing it depends on has changed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
export SQLX_OFFLINE=true
stamp="target/site/.keyward-build"
if [ -f "$stamp" ] && [ -x target/release/server ] && [ -z "$(find app core domain frontend server style public migrations .sqlx Cargo.toml Cargo.lock -newer "$stamp" -print -quit)" ]; then
  step "build: up to date"
  exit 0
fi
step "build: cargo leptos build --release --precompress --split"
cargo leptos build --release --precompress --split
touch "$stamp"
