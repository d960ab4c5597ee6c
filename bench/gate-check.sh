#!/usr/bin/env bash
# gate-check: how often the default verdict is wrong on this machine.
#
# Runs the built binary as a pipeline would and prints passes out of runs:
#   1. run all, defaults, RUNS times (a healthy machine must pass every time);
#   2. run all beside one busy-loop process per CPU, HOG_RUNS times;
#   3. run all --redis-url against a local redis-server, REDIS_RUNS times;
#   4. A/A: run all, then run all --baseline of it, AA_RUNS times (no
#      regression may be called between two identical runs);
# then the run-to-run coefficient of variation of each scenario's throughput
# and p99 over the default runs of step 1.
#
# No test asserts these: they are measurements of a shared, noisy machine.
# Usage: bash bench/gate-check.sh   (RUNS=30 HOG_RUNS=10 REDIS_RUNS=10 AA_RUNS=10)
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-30} HOG_RUNS=${HOG_RUNS:-10} REDIS_RUNS=${REDIS_RUNS:-10} AA_RUNS=${AA_RUNS:-10}
bin=./bin/rustci-perf
[ -x "$bin" ] || make build >/dev/null
tmp=$(mktemp -d)
hogs=()
cleanup() {
  for p in "${hogs[@]}"; do kill "$p" 2>/dev/null; done
  [ -f "$tmp/redis.pid" ] && kill "$(cat "$tmp/redis.pid")" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# tally NAME: run "$@" and count exit 0; failures keep their report.
pass=0 fails=()
tally() {
  local name=$1; shift
  if "$@" >"$tmp/$name.out" 2>&1; then
    pass=$((pass + 1))
  else
    fails+=("$name: exit $? $(grep -E 'FAIL$|regression$|  error: ' "$tmp/$name.out" | head -3 | tr -s ' ' | tr '\n' ';')")
  fi
}
report() {
  echo "$1: $pass passed, $(( $2 - pass )) failed of $2"
  for f in "${fails[@]}"; do echo "  $f"; done
  pass=0 fails=()
}

echo "== gate-check on $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $($bin version)"

for i in $(seq "$RUNS"); do
  tally "default-$i" $bin run all -q --format json --output "$tmp/default-$i.json"
done
report "run all (defaults)" "$RUNS"

for _ in $(seq "$(nproc)"); do (while :; do :; done) & hogs+=($!); done
for i in $(seq "$HOG_RUNS"); do
  tally "hog-$i" $bin run all -q
done
for p in "${hogs[@]}"; do kill "$p" 2>/dev/null; done
hogs=()
report "run all beside $(nproc) busy loops" "$HOG_RUNS"

if command -v redis-server >/dev/null; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
    --logfile "$tmp/redis.log" --daemonize yes --pidfile "$tmp/redis.pid"
  for _ in $(seq 100); do [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
  for i in $(seq "$REDIS_RUNS"); do
    tally "redis-$i" $bin run all -q --redis-url "redis://127.0.0.1:$port"
  done
  report "run all --redis-url (local redis-server)" "$REDIS_RUNS"
else
  echo "run all --redis-url: skipped, no redis-server"
fi

regressions=0
for i in $(seq "$AA_RUNS"); do
  $bin run all -q --format json --output "$tmp/a-$i.json" >/dev/null 2>&1
  tally "aa-$i" $bin run all -q --baseline "$tmp/a-$i.json"
  grep -q '^REGRESSION' "$tmp/aa-$i.out" && regressions=$((regressions + 1))
done
report "A/A: run all --baseline of the run before" "$AA_RUNS"
echo "  comparisons that called a regression: $regressions of $AA_RUNS"

echo "== run-to-run coefficient of variation over the $RUNS default runs"
python3 - "$tmp" "$RUNS" <<'PY'
import json, statistics, sys, os
tmp, runs = sys.argv[1], int(sys.argv[2])
series = {}
for i in range(1, runs + 1):
    p = os.path.join(tmp, f"default-{i}.json")
    if not os.path.exists(p):
        continue
    for s in json.load(open(p))["scenarios"]:
        if s["status"] not in ("passed", "failed"):
            continue
        d = series.setdefault(s["name"], {"throughput": [], "p99": [], "prec_t": [], "prec_p99": []})
        d["throughput"].append(s["throughput_ops_per_sec"])
        d["p99"].append(s["latency_ns"]["p99"])
        pr = s.get("precision") or {}
        if pr.get("throughput_pct") is not None:
            d["prec_t"].append(pr["throughput_pct"])
        if pr.get("p99_pct") is not None:
            d["prec_p99"].append(pr["p99_pct"])
def cv(v):
    m = statistics.mean(v)
    return 100 * statistics.pstdev(v) / m if len(v) > 1 and m else float("nan")
def med(v):
    return statistics.median(v) if v else float("nan")
print(f"{'scenario':18} {'runs':>4} {'throughput CV':>14} {'p99 CV':>8} {'reported ±thr':>14} {'reported ±p99':>14}")
for name, d in series.items():
    print(f"{name:18} {len(d['throughput']):4d} {cv(d['throughput']):13.1f}% {cv(d['p99']):7.1f}% {med(d['prec_t']):13.1f}% {med(d['prec_p99']):13.1f}%")
PY
