#!/usr/bin/env bash
# govulncheck against a local vulnerability database: the Go vulnerability
# database's reports as published in the golang.org/x/vulndb module, at a
# pinned version, fetched through the Go module proxy and indexed by that
# module's own cmd/indexdb into the layout `govulncheck -db file://DIR`
# reads (index/db.json, index/modules.json, ID/<id>.json). No other
# network: vuln.go.dev is not needed.
#
# The database is built once per version into a cache directory
# (RUSTCI_PERF_VULNDB_DIR, default ~/.cache/rustci-perf/vulndb-VERSION).
# To refresh it: set VULNDB_VERSION below to the newest pseudo-version of
# golang.org/x/vulndb (`cd /tmp && go list -m golang.org/x/vulndb@latest`
# names it; the module has no tagged versions), run make lint, and update
# what it fails on.
#
# scripts/vulngate reads govulncheck's findings: a vulnerability in a
# module the code calls or imports fails (exit 1); the standard library's
# are printed with the Go release that fixes them.
set -euo pipefail
cd "$(dirname "$0")/.."

VULNDB_VERSION=${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}
GOVULNCHECK=golang.org/x/vuln/cmd/govulncheck@v1.9.0
db=${RUSTCI_PERF_VULNDB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rustci-perf/vulndb-$VULNDB_VERSION}

if [ ! -f "$db/index/db.json" ]; then
  echo "vulncheck: building the database from golang.org/x/vulndb@$VULNDB_VERSION into $db"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # Outside this module, so that go.mod is not touched.
  info=$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION")
  src=$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$src/data/osv" ] || { echo "vulncheck: no data/osv in $src"; exit 2; }
  (cd "$tmp" && go run "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION" -vulns "$src/data/osv" -out "$tmp/db")
  # indexdb leaves the database's modified time zero; govulncheck reports
  # it, so it is the module's commit time, the date of its data.
  infofile=$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Info": "\(.*\)",$/\1/p')
  modified=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$infofile")
  [ -n "$modified" ] || { echo "vulncheck: no commit time for golang.org/x/vulndb@$VULNDB_VERSION"; exit 2; }
  printf '{"modified":"%s"}' "$modified" >"$tmp/db/index/db.json"
  gzip -n -c "$tmp/db/index/db.json" >"$tmp/db/index/db.json.gz"
  mkdir -p "$(dirname "$db")"
  rm -rf "$db"
  mv "$tmp/db" "$db"
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
# govulncheck -format json exits 0 whatever it finds; vulngate judges.
go run "$GOVULNCHECK" -db "file://$db" -format json ./... >"$out"
go run ./scripts/vulngate <"$out"
