# shellcheck shell=bash
# Shared helpers for the scripts in this folder. Sourced, not executed.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Tools installed from npm live outside the checkout so that fresh clones (CI) reuse them.
TOOLS_HOME="${KEYWARD_TOOLS_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/keyward}"
BINARYEN_DIR="$TOOLS_HOME/binaryen"
export PATH="$BINARYEN_DIR/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }

# Prints the directory holding initdb/pg_ctl, preferring the newest installed PostgreSQL.
pg_bin_dir() {
  local dir
  for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

# Exports KEYWARD_ENCRYPTION_KEYS (the keys that seal two-factor secrets) unless already set:
# for local use, one key generated once into .data/encryption-keys (mode 600) and kept, so
# secrets stay readable across restarts. Production sets the variable itself.
ensure_encryption_keys() {
  if [ -n "${KEYWARD_ENCRYPTION_KEYS:-}" ]; then return 0; fi
  local file="$ROOT/.data/encryption-keys"
  if [ ! -s "$file" ]; then
    mkdir -p "$ROOT/.data"
    (umask 077 && printf 'local-%s:%s\n' "$(date +%Y%m%d)" "$(head -c 32 /dev/urandom | base64 -w0)" >"$file")
  fi
  KEYWARD_ENCRYPTION_KEYS="$(cat "$file")"
  export KEYWARD_ENCRYPTION_KEYS
}
