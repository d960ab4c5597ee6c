#!/usr/bin/env bash
# trend-demo.sh: build a history of 30 real runs and judge it with trend, as
# a nightly job would. Two histories:
#   clean:      30 runs of the same binary; from run 11 to run 20 a CPU hog
#               (another tenant) shares the machine. trend must not alert:
#               the machine's canary moved with the figures.
#   regression: 15 runs, then 15 with a regression injected into the L1
#               cache's reads (1% of them wait 20µs more: --inject; INJECT=SPEC for another). trend
#               --injected must alert on cache-read, between commits c15
#               and c16, and on nothing else.
# Usage: bench/trend-demo.sh STORE clean|regression [RUNS]
#   STORE: a SQLite file (a new one) or a postgres:// URL (an empty database).
set -euo pipefail
store=$1 mode=$2 runs=${3:-30}
bin=${BIN:-./bin/rustci-perf}
half=$((runs / 2))
hog=
trap '[ -n "$hog" ] && kill "$hog" 2>/dev/null || true' EXIT
for i in $(seq 1 "$runs"); do
  extra=()
  commit=$(printf 'c%02d' "$i")
  case $mode in
  clean)
    if [ "$i" = $((runs / 3 + 1)) ]; then (while :; do :; done) & hog=$!; fi
    if [ "$i" = $((2 * runs / 3 + 1)) ] && [ -n "$hog" ]; then kill "$hog"; hog=; fi
    ;;
  regression)
    if [ "$i" -gt "$half" ]; then extra=(--inject "${INJECT:-l1:latency=p=0.01:20us}"); fi
    ;;
  *) echo "mode: clean or regression" >&2; exit 2 ;;
  esac
  # A missed threshold still keeps the run (exit 1); anything else stops.
  code=0
  "$bin" run cache-read limiter --duration 500ms -q --history "$store" \
    --meta commit="$commit" --meta branch=main "${extra[@]}" >/dev/null 2>>"${TMPDIR:-/tmp}/trend-demo.err" || code=$?
  if [ "$code" != 0 ] && [ "$code" != 1 ]; then echo "run $i exited $code" >&2; exit 1; fi
done
injected=()
[ "$mode" = regression ] && injected=(--injected)
code=0
"$bin" trend --history "$store" --branch main "${injected[@]}" || code=$?
echo "trend exit $code"
