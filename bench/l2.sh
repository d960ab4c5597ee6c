#!/usr/bin/env bash
# Compare an L2 Get through rustci-perf's cache Manager with redis-benchmark
# -t get on the same redis-server at the same concurrency (50), and print
# the ratio. Needs redis-server and redis-benchmark (Debian: redis-server).
set -euo pipefail
cd "$(dirname "$0")/.."
C=${C:-50}
N=${N:-200000}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
  --logfile "$dir/redis.log" --daemonize yes --pidfile "$dir/redis.pid"
trap 'kill "$(cat "$dir/redis.pid")" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done

rb=$(redis-benchmark -p "$port" -t get -c "$C" -n "$N" -d 3 -r 1000 --csv | awk -F'"' '/^"GET"/ {print $4}')
out=$(RUSTCI_PERF_BENCH_REDIS_URL="redis://127.0.0.1:$port" \
  go test -run '^$' -bench 'L2Get' -benchtime "${N}x" -count 3 ./pkg/cache)
echo "$out" | grep Benchmark
mgr=$(echo "$out" | awk '/impl=manager/ {for (i=1;i<=NF;i++) if ($(i+1)=="ops/s") print $i}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
raw=$(echo "$out" | awk '/impl=goredis/ {for (i=1;i<=NF;i++) if ($(i+1)=="ops/s") print $i}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
printf '\nconcurrency %s, %s requests, same redis-server on 127.0.0.1:%s\n' "$C" "$N" "$port"
printf '%-32s %12.0f ops/s\n' "redis-benchmark -t get" "$rb" "go-redis GET (median of 3)" "$raw" "Manager.Get via L2 (median of 3)" "$mgr"
awk -v m="$mgr" -v r="$rb" -v g="$raw" 'BEGIN { printf "ratio Manager / redis-benchmark: %.2f (go-redis alone: %.2f)\n", m/r, g/r }'
