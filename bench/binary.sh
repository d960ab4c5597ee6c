#!/usr/bin/env bash
# The built binary beside the references it must reach (issue 12), each
# pair run back to back, ROUNDS times, alternating, so that both sides of a
# ratio see the same machine: this 2-vCPU VM's speed drifts by a factor of
# two between minutes, and only pairs taken together can be compared.
#
#   cache-read (L1 hits, 10000 keys, one worker per CPU)
#       vs BenchmarkTimedLoop: raw ristretto Gets in b.RunParallel, each
#       timed as the harness times it, keys stored with the TTL L1 gives
#       them (ttl=10m) and with none (ttl=0)
#   limiter --redis-url, concurrency 50, --keys 1 and 100000
#       vs redis-benchmark -c 50 EVALSHA of redis_rate's GCRA script, -r KEYS
#   cache-l2 --redis-url, concurrency 50
#       vs redis-benchmark -t get -c 50 -d 128 (cache-l2's value size)
#
# Prints each pair's medians and the median of the rounds' ratios. Needs
# redis-server, redis-cli, redis-benchmark and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-3}
C=50

. bench/redis.sh
url="redis://127.0.0.1:$port"

go build -o bin/rustci-perf ./cmd/rustci-perf
go test -c -o bin/scenarios.test ./pkg/scenarios

mod=$(go list -m -f '{{.Dir}}' github.com/go-redis/redis_rate/v10)
script=$(python3 -c 'import sys; s=open(sys.argv[1]).read(); a=s.index("var allowN = redis.NewScript(`")+len("var allowN = redis.NewScript(`"); print(s[a:s.index("`)", a)], end="")' "$mod/lua.go")
sha=$(redis-cli -p "$port" script load "$script")

# throughput RUN-ARGS...: the binary's throughput for one scenario.
throughput() {
  ./bin/rustci-perf run "$@" -q --format json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["scenarios"][0]["throughput_ops_per_sec"])'
}
# rb N ARGS...: redis-benchmark's requests per second.
rb() {
  local n=$1; shift
  redis-benchmark -p "$port" -c "$C" -n "$n" --csv "$@" | awk -F'"' 'NR==2 {print $4}'
}
# timed TTL: BenchmarkTimedLoop's ops/s for keys stored with TTL.
timed() {
  ./bin/scenarios.test -test.run '^$' -test.bench "TimedLoop/impl=timed-bare/ttl=$1\$" -test.benchtime "${SECS}s" |
    awk '{for (i=1;i<=NF;i++) if ($(i+1)=="ops/s") print $i}'
}

out=$(mktemp)
trap 'kill "$(cat "$dir/redis.pid")" 2>/dev/null; rm -rf "$dir" "$out"' EXIT
for r in $(seq "$ROUNDS"); do
  echo "round $r of $ROUNDS" >&2
  echo "cache-read $(throughput cache-read --keys 10000 --duration "${SECS}s") $(timed 10m) $(timed 0)" >>"$out"
  for keys in 1 100000; do
    echo "limiter-keys-$keys $(throughput limiter --redis-url "$url" --concurrency $C --keys $keys --duration "${SECS}s") $(rb $((SECS * 80000)) -r $keys evalsha "$sha" 1 "rate:p:__rand_int__" 2000 100000 1 1)" >>"$out"
  done
  echo "cache-l2 $(throughput cache-l2 --redis-url "$url" --concurrency $C --duration "${SECS}s") $(rb $((SECS * 100000)) -t get -d 128 -r 16384)" >>"$out"
done

python3 - "$out" "$ROUNDS" <<'PY'
import statistics as st, sys
rows = {}
for line in open(sys.argv[1]):
    name, *v = line.split()
    rows.setdefault(name, []).append([float(x) for x in v])
ref = {"cache-read": ["timed bare loop, ttl=10m", "timed bare loop, ttl=0"],
       "limiter-keys-1": ["redis-benchmark EVALSHA -r 1"], "limiter-keys-100000": ["redis-benchmark EVALSHA -r 100000"],
       "cache-l2": ["redis-benchmark -t get"]}
print(f"\n{sys.argv[2]} rounds, each pair back to back; medians, and the median of the rounds' ratios")
print(f"{'binary scenario':22} {'binary ops/s':>13}  {'reference':34} {'ops/s':>12} {'ratio':>6}")
for name, runs in rows.items():
    for j, label in enumerate(ref[name]):
        b = st.median(r[0] for r in runs)
        x = st.median(r[j + 1] for r in runs)
        ratio = st.median(r[0] / r[j + 1] for r in runs)
        print(f"{name:22} {b:13.0f}  {label:34} {x:12.0f} {ratio:6.2f}")
PY
