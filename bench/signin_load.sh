#!/usr/bin/env bash
# Password sign-ins per second under load, against the Argon2id ceiling measured in the same run:
# what the machine's cores do hashing in parallel with nothing else running (every core one
# verifier), measured between rounds of load, each round compared with the ceiling on its two
# sides, since this kind of machine's speed drifts by 10-20 % from minute to minute. (One hash
# alone runs faster than each of two side by side, so "cores / time of one hash" overstates the
# ceiling; it is printed for reference.) Loopback only, bounded in time. Also reports the server's peak memory, and
# what happens past the hashing bound (503 + Retry-After rather than a queue).
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
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  db_drop "$bench_db"
  db_down
}
trap cleanup EXIT
db_up "$bench_db" >/dev/null
ensure_encryption_keys

cores=$(nproc)
hash_ms=$(target/release/examples/hash_time 30)
naive=$(awk -v c="$cores" -v ms="$hash_ms" 'BEGIN { printf "%.1f", c * 1000 / ms }')

# A hundred sign-ups from one address: far past the per-address limit meant for people.
LEPTOS_SITE_ADDR="127.0.0.1:$PORT" KEYWARD_PUBLIC_URL="http://localhost:$PORT" \
  KEYWARD_SIGN_UPS_PER_HOUR=100000 \
  KEYWARD_TRUST_FORWARDED_FOR=true \
  RUST_LOG=warn target/release/server >/tmp/keyward-bench-server.log 2>&1 &
server_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done

origin="http://localhost:$PORT"
page=$(curl -sf "http://127.0.0.1:$PORT/signup")
signup_url=$(grep -o 'action="/api/sign_up[^"]*"' <<<"$page" | cut -d'"' -f2)
signin_url="${signup_url/sign_up/sign_in}"
password="correct horse battery staple"
# A hundred accounts: the clients spread over them, as real sign-ins do (the throttle lets at
# most five attempts at one address be checked at once).
ACCOUNTS=100
# Eight client addresses: as many as connections under load, so the per-address limit counts
# what eight browsers would, not one address hammered by all of them.
CLIENTS=8
for i in $(seq 0 $((ACCOUNTS - 1))); do
  curl -sf -o /dev/null -X POST -H "Origin: $origin" -H "Accept: application/json" \
    --data-urlencode "email=load-test-$i@example.com" --data-urlencode "password=$password" \
    --data-urlencode "password_confirm=$password" "http://127.0.0.1:$PORT$signup_url"
done
password_field="correct+horse+battery+staple"

peak_rss() { awk '/VmHWM/ { print $2 }' "/proc/$server_pid/status"; }
# CPU time (clock ticks) of processes, and of the whole machine busy / idle: where the cores went
# during the load, to tell the server's own work from the database's on the same cores.
ticks_of() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
postgres_ticks() {
  local sum=0 pid
  for pid in $(pgrep -x postgres); do sum=$((sum + $(ticks_of "$pid" || echo 0))); done
  echo "$sum"
}
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat; }

run_load() { # connections seconds
  BENCH_ORIGIN="$origin" BENCH_PASSWORD="$password_field" BENCH_ACCOUNTS="$ACCOUNTS" \
    BENCH_CLIENTS="$CLIENTS" wrk -t1 -c"$1" -d"$2"s --latency -s bench/signin.lua "http://127.0.0.1:$PORT$signin_url"
}

echo "Argon2id m=19 MiB t=2 p=1: one hash alone takes $hash_ms ms ($cores cores x that: $naive/s)"
echo
# Short rounds, each between two measurements of the ceiling: this kind of machine's speed
# drifts by 10-20 % within seconds, so a round is compared with the ceiling just before and just
# after it, and the median of the rounds is the figure (a round during which the machine
# changed speed says little); the pooled ratio of all rounds is printed beside it. The load
# generator runs one thread (it shares the server's cores; the ceiling does not pay for it).
ROUNDS=8
ROUND_SECS=3
CEILING_RUNS=30
echo "--- load within the bound: 8 connections over $ACCOUNTS accounts, $ROUNDS x $ROUND_SECS s, throttle on ---"
# The ratio is of things measured seconds apart: each round against the ceiling on its sides.
ceilings=("$(target/release/examples/hash_time "$CEILING_RUNS" --parallel)")
ratios=()
server_ticks=0; postgres_cpu=0; busy=0; idle=0; ceiling_sum=0; rps_sum=0
for round in $(seq "$ROUNDS"); do
  server_0=$(ticks_of "$server_pid"); postgres_0=$(postgres_ticks); read -r busy_0 idle_0 < <(machine_ticks)
  out=$(run_load 8 "$ROUND_SECS")
  server_1=$(ticks_of "$server_pid"); postgres_1=$(postgres_ticks); read -r busy_1 idle_1 < <(machine_ticks)
  ceilings+=("$(target/release/examples/hash_time "$CEILING_RUNS" --parallel)")
  server_ticks=$((server_ticks + server_1 - server_0)); postgres_cpu=$((postgres_cpu + postgres_1 - postgres_0))
  busy=$((busy + busy_1 - busy_0)); idle=$((idle + idle_1 - idle_0))
  rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
  ceiling=$(awk -v a="${ceilings[round - 1]}" -v b="${ceilings[round]}" 'BEGIN { printf "%.1f", (a + b) / 2 }')
  rps_sum=$(awk -v s="$rps_sum" -v r="$rps" 'BEGIN { print s + r }')
  ceiling_sum=$(awk -v s="$ceiling_sum" -v c="$ceiling" 'BEGIN { print s + c }')
  ratio=$(awk -v r="$rps" -v c="$ceiling" 'BEGIN { printf "%.1f", 100 * r / c }')
  ratios+=("$ratio")
  echo "round $round: $rps sign-ins/s against a ceiling of $ceiling/s (${ceilings[round - 1]} before, ${ceilings[round]} after) = $ratio%"
  if [ "$round" = "$ROUNDS" ]; then echo "$out" | grep -E "Latency|Non-2xx|50%|99%"; fi
done
rps=$(awk -v s="$rps_sum" -v n="$ROUNDS" 'BEGIN { printf "%.2f", s / n }')
ceiling=$(awk -v s="$ceiling_sum" -v n="$ROUNDS" 'BEGIN { printf "%.1f", s / n }')
echo "Argon2 ceiling: $cores hashers at once, nothing else running, around each round: $ceiling/s on average"
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
echo "sign-ins/s against the Argon2 ceiling: median of the rounds $median% (budget: at least 90%); pooled $(awk -v r="$rps" -v c="$ceiling" 'BEGIN { printf "%.1f", 100 * r / c }')% ($rps/s on average); $(awk -v r="$rps" -v c="$naive" 'BEGIN { printf "%.1f", 100 * r / c }')% of cores x one hash alone"
awk -v s="$server_ticks" -v p="$postgres_cpu" -v b="$busy" -v i="$idle" -v r="$rps" \
  -v secs=$((ROUNDS * ROUND_SECS)) -v hz="$(getconf CLK_TCK)" -v cores="$cores" -v ceiling="$ceiling" 'BEGIN {
    all = b + i; n = r * secs
    printf "where the cores went: server %.1f%%, PostgreSQL %.1f%%, other %.1f%%, idle %.1f%%\n",
      100 * s / all, 100 * p / all, 100 * (b - s - p) / all, 100 * i / all
    printf "CPU per sign-in: server %.2f ms, PostgreSQL %.2f ms; one hash of the ceiling: %.2f ms\n",
      1000 * s / hz / n, 1000 * p / hz / n, 1000 * cores / ceiling
  }'
echo "server peak RSS so far: $(( $(peak_rss) / 1024 )) MiB"
echo
echo "--- overload: 128 connections, 10 s (hashing bound = cores + 32 waiting) ---"
out=$(run_load 128 10)
echo "$out" | grep -E "Requests/sec|Latency|Non-2xx|50%|99%"
echo "server peak RSS after overload: $(( $(peak_rss) / 1024 )) MiB"
