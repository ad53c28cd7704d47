#!/usr/bin/env bash
# What is in each WebAssembly file a page may download: the release build split again with
# wasm-split-cli (the splitter cargo-leptos uses, from crates.io), which names every function of
# every output; sizes are before wasm-opt, by crate. For finding what to cut when a page is over
# its budget (bench/page_weight.sh says which). Arguments go to bench/wasm_chunks.py, e.g.
# `bench/wasm_chunks.sh --top 30 --only wizard`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ROOT"
if ! command -v wasm-split-cli >/dev/null; then
  step "cargo: installing wasm-split-cli (about a minute)"
  cargo install -q wasm_split_cli_support --version 0.2.3 --features build-binary
fi
bash scripts/build.sh >/dev/null
input=target/front/wasm32-unknown-unknown/wasm-release/frontend.wasm
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
RUST_LOG=trace wasm-split-cli -v "$input" "$out" >"$out/split.log" 2>&1
python3 bench/wasm_chunks.py "$out/split.log" "$@"
