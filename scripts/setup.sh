#!/usr/bin/env bash
# Installs everything Keyward needs to build, run and test, skipping what is already present.
# Safe to run again: every step checks first. The first run on a bare Debian machine takes
# roughly half an hour, almost all of it compiling cargo-leptos, wasm-bindgen-cli and sqlx-cli.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Pinned tool versions. wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock.
CARGO_LEPTOS_VERSION=0.3.10 # 0.3.11 needs rustc 1.96
WASM_BINDGEN_VERSION=0.2.130
SQLX_CLI_VERSION=0.8.6
BINARYEN_VERSION=132 # Debian's binaryen 108 emits WASM that Chromium rejects

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if ! command -v cargo >/dev/null 2>&1 || ! command -v rustup >/dev/null 2>&1; then
  echo "Keyward needs Rust 1.95 installed with rustup (https://rustup.rs), then run this again." >&2
  exit 1
fi

apt_packages=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || apt_packages+=("$2"); }
need_cmd node nodejs
need_cmd npm npm
need_cmd chromium chromium
need_cmd curl curl
need_cmd pkg-config pkg-config
need_cmd cc build-essential
need_cmd make make
need_cmd shellcheck shellcheck
if ! pg_bin_dir >/dev/null 2>&1; then apt_packages+=(postgresql); fi
# The visual-regression screenshots render in this font, whatever else is installed.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || apt_packages+=(fonts-dejavu-core)
if [ ${#apt_packages[@]} -gt 0 ]; then
  step "apt: installing ${apt_packages[*]}"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${apt_packages[@]}"
fi

# Playwright needs Node.js 20 or newer.
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "Node.js $(node --version) is too old for Playwright: install Node.js 20 or newer." >&2
  exit 1
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "rustup: adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  step "cargo: installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 4 minutes)"
  # Not --locked: one dependency pinned in its lock file is no longer on crates.io.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if ! sqlx --version 2>/dev/null | grep -q " $SQLX_CLI_VERSION\$"; then
  step "cargo: installing sqlx-cli $SQLX_CLI_VERSION (about 3 minutes)"
  cargo install sqlx-cli --version "$SQLX_CLI_VERSION" --no-default-features \
    --features postgres,rustls --locked --force
fi

if ! cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION\$"; then
  step "cargo: installing cargo-leptos $CARGO_LEPTOS_VERSION (about 25 minutes on 2 cores)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --force
fi

if ! "$BINARYEN_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
  step "npm: installing binaryen@$BINARYEN_VERSION (wasm-opt) into $BINARYEN_DIR"
  mkdir -p "$BINARYEN_DIR"
  (cd "$BINARYEN_DIR" && npm install --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION")
fi

if [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ] || [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]; then
  step "npm: installing end2end packages (browsers are not downloaded: Debian's Chromium is used)"
  (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

step "setup complete"
