#!/usr/bin/env bash
# Installs what Keyward needs, skipping what is already present. Safe to run again: every step
# checks first.
#   scripts/setup.sh run   what building and running need (make run, make dev)
#   scripts/setup.sh       that, and what testing needs too: Chromium, shellcheck, sqlx-cli and the
#                          Playwright packages (make test, make setup)
# On a machine with Rust and Node.js, almost all the time goes into compiling cargo-leptos and
# wasm-bindgen-cli (and sqlx-cli for tests): see the README for what a first run measured.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for_tests=true
if [ "${1:-}" = run ]; then for_tests=false; fi

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
if $for_tests; then
  need_cmd chromium chromium
  need_cmd shellcheck shellcheck
fi
need_cmd curl curl
need_cmd pkg-config pkg-config
need_cmd cc build-essential
need_cmd make make
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

# The cargo tools, each built in the background with its output in a log and a line when it is
# done; on four cores or more they build side by side (on two, one after another is as fast and
# each finishes sooner).
tools_dir="$(mktemp -d)"
parallel=false
if [ "$(nproc)" -ge 4 ]; then parallel=true; fi
pending=()
cargo_tool() { # name "what" cargo-install-args...
  local name="$1" what="$2"
  shift 2
  step "cargo: installing $what (log: $tools_dir/$name.log)"
  (
    started=$SECONDS
    if cargo install "$@" >"$tools_dir/$name.log" 2>&1; then
      echo "    $name: installed in $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s"
    else
      echo "    $name: FAILED; the end of its log:" >&2
      tail -n 30 "$tools_dir/$name.log" >&2
      exit 1
    fi
  ) &
  pending+=($!)
  if ! $parallel; then wait_for_tools; fi
}
wait_for_tools() {
  local pid failed=0
  local last=$SECONDS
  for pid in "${pending[@]}"; do
    # A line a minute while the tools compile (crates done so far), so a long step is
    # visibly alive.
    while kill -0 "$pid" 2>/dev/null; do
      sleep 2
      if [ $((SECONDS - last)) -ge 60 ]; then
        last=$SECONDS
        printf '    … %s crates compiled, %d min into setup\n' \
          "$(cat "$tools_dir"/*.log 2>/dev/null | grep -c '^ *Compiling')" "$((SECONDS / 60))"
      fi
    done
    wait "$pid" || failed=1
  done
  pending=()
  [ "$failed" -eq 0 ] || exit 1
}

if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  # Not --locked: one dependency pinned in its lock file is no longer on crates.io.
  cargo_tool wasm-bindgen "wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes on 2 cores)" \
    wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if $for_tests && ! sqlx --version 2>/dev/null | grep -q " $SQLX_CLI_VERSION\$"; then
  cargo_tool sqlx-cli "sqlx-cli $SQLX_CLI_VERSION, for the tests (about 3 minutes on 2 cores)" \
    sqlx-cli --version "$SQLX_CLI_VERSION" --no-default-features --features postgres,rustls --locked --force
fi

if ! cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION\$"; then
  cargo_tool cargo-leptos "cargo-leptos $CARGO_LEPTOS_VERSION (about 11 minutes on 2 cores)" \
    cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --force
fi
wait_for_tools
rm -rf "$tools_dir"

if ! "$BINARYEN_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
  step "npm: installing binaryen@$BINARYEN_VERSION (wasm-opt) into $BINARYEN_DIR"
  mkdir -p "$BINARYEN_DIR"
  (cd "$BINARYEN_DIR" && npm install --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION")
fi

if $for_tests && { [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ] || [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]; }; then
  step "npm: installing end2end packages (browsers are not downloaded: Debian's Chromium is used)"
  (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

step "setup complete"
