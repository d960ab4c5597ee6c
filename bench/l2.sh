#!/usr/bin/env bash
# Compare an L2 Get through rustci-perf's cache Manager with redis-benchmark
# -t get on the same redis-server at the same concurrency (50), and print
# the ratio. Needs redis-server and redis-benchmark (Debian: redis-server).
set -euo pipefail
cd "$(dirname "$0")/.."
C=${C:-50}
N=${N:-200000}

. bench/redis.sh

rb=$(redis-benchmark -p "$port" -t get -c "$C" -n "$N" -d 3 -r 1000 --csv | awk -F'"' '/^"GET"/ {print $4}')
out=$(RUSTCI_PERF_BENCH_REDIS_URL="redis://127.0.0.1:$port" \
  go test -run '^$' -bench 'L2Get' -benchtime "${N}x" -count 3 ./pkg/cache)
echo "$out" | grep Benchmark
mgr=$(echo "$out" | awk '/impl=manager/ {for (i=1;i<=NF;i++) if ($(i+1)=="ops/s") print $i}' | median)
raw=$(echo "$out" | awk '/impl=goredis/ {for (i=1;i<=NF;i++) if ($(i+1)=="ops/s") print $i}' | median)
printf '\nconcurrency %s, %s requests, same redis-server on 127.0.0.1:%s\n' "$C" "$N" "$port"
printf '%-32s %12.0f ops/s\n' "redis-benchmark -t get" "$rb" "go-redis GET (median of 3)" "$raw" "Manager.Get via L2 (median of 3)" "$mgr"
awk -v m="$mgr" -v r="$rb" -v g="$raw" 'BEGIN { printf "ratio Manager / redis-benchmark: %.2f (go-redis alone: %.2f)\n", m/r, g/r }'
