#!/usr/bin/env bash
# Password sign-ins per second under load, against the Argon2id ceiling measured in the same run
# (CPU cores / time of one hash). Loopback only, bounded in time. Also reports the server's peak
# memory, and what happens past the hashing bound (503 + Retry-After rather than a queue).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
source "$ROOT/scripts/db.sh"
cd "$ROOT"
command -v wrk >/dev/null || { step "apt: installing wrk"; apt-get install -y -q wrk >/dev/null; }
export SQLX_OFFLINE=true
bash scripts/build.sh >/dev/null
cargo build -q --release -p server --example hash_time

PORT=3900
bench_db="keyward_bench_$$"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  db_drop "$bench_db"
  db_down
}
trap cleanup EXIT
db_up "$bench_db" >/dev/null
ensure_encryption_keys

cores=$(nproc)
hash_ms=$(target/release/examples/hash_time 30)
ceiling=$(awk -v c="$cores" -v ms="$hash_ms" 'BEGIN { printf "%.1f", c * 1000 / ms }')
parallel=$(target/release/examples/hash_time 30 --parallel)

LEPTOS_SITE_ADDR="127.0.0.1:$PORT" KEYWARD_PUBLIC_URL="http://localhost:$PORT" \
  RUST_LOG=warn target/release/server >/tmp/keyward-bench-server.log 2>&1 &
server_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done

origin="http://localhost:$PORT"
page=$(curl -sf "http://127.0.0.1:$PORT/signup")
signup_url=$(grep -o 'action="/api/sign_up[^"]*"' <<<"$page" | cut -d'"' -f2)
signin_url="${signup_url/sign_up/sign_in}"
password="correct horse battery staple"
curl -sf -o /dev/null -X POST -H "Origin: $origin" -H "Accept: application/json" \
  --data-urlencode "email=load-test@example.com" --data-urlencode "password=$password" \
  --data-urlencode "password_confirm=$password" "http://127.0.0.1:$PORT$signup_url"
body="email=load-test%40example.com&password=correct+horse+battery+staple"

peak_rss() { awk '/VmHWM/ { print $2 }' "/proc/$server_pid/status"; }

run_load() { # connections seconds
  BENCH_ORIGIN="$origin" BENCH_BODY="$body" wrk -t2 -c"$1" -d"$2"s --latency \
    -s bench/signin.lua "http://127.0.0.1:$PORT$signin_url"
}

echo "Argon2id m=19 MiB t=2 p=1: one hash takes $hash_ms ms; $cores cores => ceiling $ceiling sign-ins/s"
echo "($cores hashers at once, nothing else running: $parallel hashes/s)"
echo
echo "--- load within the bound: 8 connections, 20 s ---"
out=$(run_load 8 20)
echo "$out" | grep -E "Requests/sec|Latency|Non-2xx|50%|99%"
rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
echo "sign-ins/s: $rps = $(awk -v r="$rps" -v c="$ceiling" 'BEGIN { printf "%.1f", 100 * r / c }')% of the Argon2 ceiling, $(awk -v r="$rps" -v p="$parallel" 'BEGIN { printf "%.1f", 100 * r / p }')% of bare parallel hashing"
echo "server peak RSS so far: $(( $(peak_rss) / 1024 )) MiB"
echo
echo "--- overload: 128 connections, 10 s (hashing bound = cores + 32 waiting) ---"
out=$(run_load 128 10)
echo "$out" | grep -E "Requests/sec|Latency|Non-2xx|50%|99%"
echo "server peak RSS after overload: $(( $(peak_rss) / 1024 )) MiB"
