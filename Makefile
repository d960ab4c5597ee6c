# rustci-perf: build, run, test, bench, lint. `make help` lists the targets.

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
BIN     := bin/rustci-perf
# Benchmark repetitions: benchstat needs several to give a confidence interval.
COUNT   ?= 6

.PHONY: all build run test vet fmt-check fuzz bench bench-l2 bench-limiter bench-binary gate-check lint clean help

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
	go test ./pkg/history -run '^$$' -fuzz FuzzParseLabel -fuzztime $(FUZZTIME)

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

lint: vet fmt-check ## vet and gofmt (the checks CI runs)

clean:
	rm -rf bin bench.txt

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'
