# rustci-perf: build, run, test, bench, lint. `make help` lists the targets.

# The Go release everything is built, tested and linted with: go1.26.8
# has 14 standard-library vulnerabilities that go1.27.3 fixes (make lint
# fails on any the code calls or imports). The go command fetches it from
# the module proxy once (~76 MB). go.mod still asks for Go 1.26 only, so
# `go install` with a 1.26 toolchain works too; GOTOOLCHAIN=local make ...
# builds with the local Go.
export GOTOOLCHAIN ?= go1.27.3

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
BIN     := bin/rustci-perf
# release: static binaries for these platforms into DIST.
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
DIST      := dist
# Benchmark repetitions: benchstat needs several to give a confidence interval.
COUNT   ?= 6

.PHONY: all build run test vet fmt-check staticcheck vulncheck fuzz bench bench-l2 bench-limiter bench-binary gate-check lint release clean help

# Linters, pinned: `go run pkg@version` builds each once into the build
# cache, so a fresh machine needs only the module proxy.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

all: build

build: ## build bin/rustci-perf
	go build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/rustci-perf

run: build ## run every scenario with the default thresholds
	./$(BIN) run all

test: vet fmt-check ## go vet, gofmt check, every test under the race detector, then those that need it off
	go test -race ./...
	go test -run Process ./pkg/compare
	go test -run AllocateNothing ./pkg/scenarios

vet:
	go vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

FUZZTIME ?= 30s
fuzz: ## run each fuzz target for FUZZTIME
	go test ./pkg/threshold -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	go test ./pkg/config -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	go test ./pkg/report -run '^$$' -fuzz FuzzReadJSON -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	go test ./pkg/metric -run '^$$' -fuzz FuzzValuesJSON -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	go test ./pkg/compare -run '^$$' -fuzz FuzzCompare -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	go test ./pkg/merge -run '^$$' -fuzz FuzzMerge -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	go test ./pkg/redisconn -run '^$$' -fuzz FuzzRedact -fuzztime $(FUZZTIME)
	go test ./pkg/fault -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	go test ./pkg/provenance -run '^$$' -fuzz FuzzParsePair -fuzztime $(FUZZTIME)

bench: ## benchmarks, each beside the raw library it wraps, compared by benchstat
	go test -run '^$$' -bench . -benchmem -count $(COUNT) ./pkg/... | tee bench.txt
	@echo; echo "== L2 beside redis-benchmark on the same server =="
	bash bench/l2.sh
	@echo; echo "== Redis limiter beside redis-benchmark EVALSHA of the same script =="
	bash bench/limiter.sh
	@echo; echo "== Manager vs raw ristretto, GCRA vs golang.org/x/time/rate, fallback vs memory (ratio vs the first column) =="
	go tool benchstat -col /impl bench.txt

bench-binary: ## the built binary beside what it must reach: a timed bare loop, redis-benchmark (bench/binary.sh)
	bash bench/binary.sh

bench-l2: ## an L2 Get through the Manager beside redis-benchmark -t get on one redis-server
	bash bench/l2.sh

bench-limiter: ## Redis limiter checks beside redis-benchmark EVALSHA of the GCRA script
	bash bench/limiter.sh

gate-check: build ## how often the default verdict is wrong here: run all 30x, beside busy loops, with Redis, A/A
	bash bench/gate-check.sh

staticcheck:
	go run $(STATICCHECK) ./...

vulncheck: ## govulncheck against the pinned golang.org/x/vulndb module's data (scripts/vulncheck.sh)
	bash scripts/vulncheck.sh

lint: vet fmt-check staticcheck vulncheck ## go vet, gofmt check, staticcheck, govulncheck (CI runs it)

release: ## static binaries (CGO_ENABLED=0, -trimpath) for PLATFORMS into dist/, with SHA256SUMS; VERSION from git describe --tags
	@case "$(VERSION)" in *-dirty) echo "release: uncommitted changes ($(VERSION)): commit them, or set VERSION"; exit 1;; esac
	rm -rf $(DIST)
	mkdir -p $(DIST)
	@for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; out=$(DIST)/rustci-perf-$(VERSION)-$$os-$$arch; \
	  echo "build $$out"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -buildvcs=true -ldflags "$(LDFLAGS)" -o $$out ./cmd/rustci-perf || exit 1; \
	done
	cd $(DIST) && sha256sum rustci-perf-* >SHA256SUMS && cat SHA256SUMS

clean:
	rm -rf bin bench.txt $(DIST)

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'
