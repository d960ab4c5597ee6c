#!/usr/bin/env bash
# Compare checks through rustci-perf's Redis limiter with redis-benchmark
# running EVALSHA of the same GCRA script (redis_rate's, read from the Go
# module cache) on the same redis-server at the same concurrency (50), and
# print the ratio. Needs redis-server, redis-cli and redis-benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
C=${C:-50}
N=${N:-200000}

. bench/redis.sh

mod=$(go list -m -f '{{.Dir}}' github.com/go-redis/redis_rate/v10)
script=$(python3 -c 'import sys; s=open(sys.argv[1]).read(); a=s.index("var allowN = redis.NewScript(`")+len("var allowN = redis.NewScript(`"); print(s[a:s.index("`)", a)], end="")' "$mod/lua.go")
sha=$(redis-cli -p "$port" script load "$script")
# Same arguments as the Go benchmark's policy: burst 1000, 1e6 per 1s, cost 1.
rb=$(redis-benchmark -p "$port" -c "$C" -n "$N" -r 1000 --csv \
  evalsha "$sha" 1 "rate:p:__rand_int__" 1000 1000000 1 1 | awk -F'"' 'NR==2 {print $4}')
out=$(RUSTCI_PERF_BENCH_REDIS_URL="redis://127.0.0.1:$port" \
  go test -run '^$' -bench 'RedisCheck' -benchtime "${N}x" -count 3 ./pkg/limiter)
echo "$out" | grep Benchmark
lim=$(echo "$out" | awk '/RedisCheck/ {for (i=1;i<=NF;i++) if ($(i+1)=="checks/s") print $i}' | median)
printf '\nconcurrency %s, %s requests, same redis-server on 127.0.0.1:%s\n' "$C" "$N" "$port"
printf '%-40s %12.0f ops/s\n' "redis-benchmark EVALSHA (GCRA script)" "$rb" "Redis limiter checks (median of 3)" "$lim"
awk -v l="$lim" -v r="$rb" 'BEGIN { printf "ratio limiter / redis-benchmark: %.2f\n", l/r }'
