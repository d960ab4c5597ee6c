package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rustci/rustci-perf/internal/redistest"
	"github.com/rustci/rustci-perf/internal/slowproxy"
	"github.com/rustci/rustci-perf/internal/wait"
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
)

// A push is one run of the binary, faulty or clean, whose report the rows
// of TestDefaultThresholdsStillFail read. Several rows share one run.
type push struct {
	// args follow "run"; every run adds -q and a JSON report.
	args []string
	// redis: the cache stack has L2, a redis-server of the run's own
	// reached through a slowproxy (--redis-url), so configs/stack-l2.yaml
	// applies.
	redis bool
	// config is YAML for --config; it sets no threshold unless said.
	config string
	// The proxy's faults: every nth reply chunk of a connection held d;
	// values corrupted.
	delay   time.Duration
	every   int
	corrupt bool
	// cut, when set, cuts Redis off (the proxy closes: connections cut,
	// then refused) once the server has run cut.cmd cut.after times:
	// the measured phase is then under way.
	cut *cut
}

type cut struct {
	cmd   string
	after int64
}

// Settings every run shares: two workers whatever the machine, so that a
// delay of d per Redis round trip caps throughput at 2/d; a short measured
// phase; a key space small enough to fill quickly through a slow Redis.
var short = []string{"--concurrency", "2", "--duration", "300ms", "--keys", "20"}

// timeouts gives Redis calls 2s instead of 50ms, as the other Redis tests
// do: the machine may be running every package's tests at once, and the
// delays injected here stay far below it.
const timeouts = "cache: {l2: {timeout: 2s}}\nlimiter: {timeout: 2s}\n"

// tinyL1 is an L1 that holds nothing (every item costs more than a
// byte): every read goes on to L2.
const tinyL1 = "cache: {l2: {timeout: 2s}, l1: {max_cost_bytes: 1}}\nlimiter: {timeout: 2s}\n"

// runArgs joins argument lists.
func runArgs(lists ...[]string) []string { return slices.Concat(lists...) }

// pushes are the runs, by name. Each fault pushes a figure past a default
// threshold; the clean runs are the same without it.
var pushes = map[string]push{
	// L2 through a proxy that adds nothing: every default threshold of
	// these scenarios holds on a healthy machine.
	"fast": {args: runArgs([]string{"cache-write", "cache-read", "cache-l2", "cache-l3", "limiter", "concurrent", "latency"}, short), redis: true, config: timeouts},
	// Every Redis reply 20ms late: a write through L2, a read of L2, a
	// check of the limiter on Redis each take 20ms at least.
	"slow": {args: runArgs([]string{"cache-write", "cache-l2", "limiter", "concurrent", "latency"}, short), redis: true, config: timeouts, delay: 20 * time.Millisecond, every: 1},
	// ... with an L1 that holds nothing, so reads that L1 would answer go
	// to the slow Redis.
	"slow, tiny l1": {args: runArgs([]string{"cache-read"}, short), redis: true, config: tinyL1, delay: 20 * time.Millisecond, every: 1},
	// One Redis reply in ten, per connection, 50ms late: a jittery Redis.
	"jitter": {args: runArgs([]string{"latency"}, short), redis: true, config: timeouts, delay: 50 * time.Millisecond, every: 10},
	// ... read on every L1 miss, with an L1 that holds nothing.
	"jitter, tiny l1": {args: runArgs([]string{"latency"}, short), redis: true, config: tinyL1, delay: 50 * time.Millisecond, every: 10},
	// Items live 1ms: gone from every tier when read.
	"ttl 1ms": {args: runArgs([]string{"cache-read", "cache-l2", "cache-l3"}, short), redis: true, config: "cache: {l2: {timeout: 2s}, ttl: 1ms}\n"},
	// L2 alone, values of 4 KiB; corrupted by the proxy, or not.
	"l2 alone, corrupt": {args: runArgs([]string{"concurrent", "--tiers", "l2", "--value-size", "4096"}, short), redis: true, config: timeouts, corrupt: true},
	"l2 alone":          {args: runArgs([]string{"concurrent", "--tiers", "l2", "--value-size", "4096"}, short), redis: true, config: timeouts},
	// Redis cut off once the measured phase is under way. Warmups by
	// count (200 ops) so that the count of commands tells when measuring
	// has begun.
	"l2 alone, cut": {args: []string{"concurrent", "--tiers", "l2", "--value-size", "4096", "--concurrency", "2", "--duration", "2s", "--warmup", "200"},
		redis: true, config: timeouts, cut: &cut{"set", 200}}, // the warmup sets at most 200 keys
	"cut, cache-write": {args: []string{"cache-write", "--concurrency", "2", "--duration", "2s", "--warmup", "200"},
		redis: true, config: timeouts, cut: &cut{"set", 400}}, // 200 warmup sets, then 200 measured
	"cut, cache-read, tiny l1": {args: []string{"cache-read", "--concurrency", "2", "--duration", "2s", "--warmup", "200", "--keys", "100"},
		redis: true, config: tinyL1, cut: &cut{"get", 400}}, // every read an L1 miss: 200 warmup gets, then 200 measured
	"cut, concurrent": {args: []string{"concurrent", "--concurrency", "2", "--duration", "2s", "--warmup", "200"},
		redis: true, config: timeouts, cut: &cut{"set", 200}},
	"cut, latency": {args: []string{"latency", "--concurrency", "2", "--duration", "2s", "--warmup", "200", "--keys", "100"},
		redis: true, config: timeouts, cut: &cut{"set", 350}}, // 100 filled, at most 200 in the warmup, then 50 measured
	// The in-process stack (L1 and L3, no Redis), as by default.
	"in process":            {args: runArgs([]string{"latency"}, short)},
	"memory":                {args: []string{"memory"}},
	"memory, 64 KiB values": {args: []string{"memory", "--value-size", "65536"}},
	// limiter-fallback against a listener that never answers; with a
	// breaker that never opens, every check waits out the 50ms timeout.
	"silent":                      {args: runArgs([]string{"limiter-fallback"}, short), config: "limiter: {unreachable: silent}\n"},
	"silent, breaker never opens": {args: runArgs([]string{"limiter-fallback"}, short), config: "limiter: {unreachable: silent, breaker: {failures: 1000000000}}\n"},
}

func init() {
	// The latency thresholds of default.yaml, the in-process stack's,
	// judged with L2 in the stack: configs/stack-l2.yaml replaces them
	// there, and only L2 can be slowed from outside the process. The
	// expressions are read from the embedded defaults, not copied.
	c, err := config.Load(nil, "", scenarios.Names())
	if err != nil {
		panic(err)
	}
	s, err := c.Settings("latency")
	if err != nil {
		panic(err)
	}
	y, err := yaml.Marshal(map[string]any{"scenarios": map[string]any{"latency": map[string]any{"thresholds": s.Thresholds}}})
	if err != nil {
		panic(err)
	}
	pushes["slow, default.yaml's latency thresholds"] = push{args: runArgs([]string{"latency"}, short), redis: true,
		config: timeouts + string(y), delay: 20 * time.Millisecond, every: 1}
}

// sensitivity is a default threshold, the run that pushes its figure past
// the limit, and the same run without the fault, where it holds.
type sensitivity struct {
	scenario, expr string
	fault, clean   string // names in pushes
}

// sensitivities covers every default threshold TestEveryDefaultThresholdIsPushed
// does not find in pushedElsewhere. The expression is judged in the same
// way whichever file set it; where both configs/default.yaml and
// configs/stack-l2.yaml set it, one row covers both.
var sensitivities = []sensitivity{
	// 20ms a write: two workers make 100 writes a second
	{"cache-write", "throughput>1000", "slow", "fast"},
	// Redis cut mid-run: L1 and L3 take the writes, L2's fail
	{"cache-write", "l2_errors==0", "cut, cache-write", "fast"},
	// L1 holds nothing, every read waits 20ms for Redis
	{"cache-read", "throughput>5000", "slow, tiny l1", "fast"},
	// items expired before they are read
	{"cache-read", "hit_rate>0.95", "ttl 1ms", "fast"},
	// L1 holds nothing, so reads reach L2, which is cut mid-run
	{"cache-read", "l2_errors==0", "cut, cache-read, tiny l1", "fast"},
	// 20ms a read
	{"cache-l2", "throughput>1000", "slow", "fast"},
	// items expired in Redis before they are read
	{"cache-l2", "hit_rate>0.99", "ttl 1ms", "fast"},
	// items expired on disk before they are read
	{"cache-l3", "hit_rate>0.99", "ttl 1ms", "fast"},
	// 20ms a check in Redis
	{"limiter", "throughput>1000", "slow", "fast"},
	// every check waits out the 50ms timeout of a silent Redis
	{"limiter-fallback", "throughput>1000", "silent, breaker never opens", "silent"},
	// one operation in five a 20ms write
	{"concurrent", "throughput>1000", "slow", "fast"},
	// L2 the only tier, cut mid-run: operations fail
	{"concurrent", "errors==0", "l2 alone, cut", "l2 alone"},
	// L2 the only tier, its values corrupted on the way back
	{"concurrent", "integrity_violations==0", "l2 alone, corrupt", "l2 alone"},
	// Redis cut mid-run: writes to L2 fail
	{"concurrent", "l2_errors==0", "cut, concurrent", "fast"},
	// 64 KiB values through L3: Pebble keeps about 6 MB of heap for
	// 64 MB written, 5.8 KB an item
	{"memory", "heap_bytes_per_item<1024", "memory, 64 KiB values", "memory"},
	// ... and allocates as it flushes: 8 allocations a Set
	{"memory", "allocs_per_op<4", "memory, 64 KiB values", "memory"},
	// one operation in ten a 20ms write: the mix's p99, p95 and mean
	{"latency", "p99<10ms", "slow", "fast"},
	{"latency", "p95<5ms", "slow", "fast"},
	{"latency", "mean<1ms", "slow", "fast"},
	// reads all go to a Redis whose every tenth reply is 50ms late
	{"latency", "read.p99/read.p50<20", "jitter, tiny l1", "fast"},
	// a 20ms write, judged on default.yaml's thresholds with L2 in the
	// stack; clean: the in-process stack they are set for
	{"latency", "write.p99<1ms", "slow, default.yaml's latency thresholds", "in process"},
	// one write in ten 50ms late
	{"latency", "write.p99/write.p50<20", "jitter", "fast"},
	// Redis cut mid-run: the mix's writes to L2 fail
	{"latency", "l2_errors==0", "cut, latency", "fast"},
}

// pushedElsewhere are the default thresholds pushed past their limits by
// other tests, which say how.
var pushedElsewhere = map[[2]string]string{
	{"cache-l2", "errors==0"}:                "TestRedisFailsMidRun (Redis killed or stopped mid-run; clean: TestRedisStack)",
	{"cache-l3", "throughput>1000"}:          "pkg/scenarios TestL3Faults (an L3 whose Gets take 5ms)",
	{"cache-l3", "errors==0"}:                "pkg/scenarios TestL3Faults (an L3 whose Gets fail)",
	{"limiter", "admission_error==0"}:        "pkg/scenarios TestLimiterCatchesOverAdmission, TestAdmissionCatchesWrongLimiters (limiters that admit too many or too few)",
	{"limiter", "fallback==0"}:               "TestLimiterRedisDiesMidRun (Redis killed mid-run; clean: TestRedisStack)",
	{"limiter", "redis_errors==0"}:           "TestLimiterRedisDiesMidRun (Redis killed mid-run; clean: TestRedisStack)",
	{"limiter-fallback", "errors==0"}:        "pkg/scenarios TestLimiterFallbackFaults (a limiter whose checks fail)",
	{"limiter-fallback", "fallback_rate==1"}: "pkg/scenarios TestLimiterFallbackFaults (an unreachable Redis that answers)",
	{"memory", "allocs_per_op<64"}:           "pkg/scenarios TestMemoryAllocatingTier (a tier that allocates 100 objects a Set)",
}

// TestEveryDefaultThresholdIsPushed: every threshold the embedded defaults
// judge, on the in-process stack or with L2, has a row below or a test
// elsewhere that pushes its figure past the limit. A threshold added to
// the defaults fails this until a test shows that it can fail.
func TestEveryDefaultThresholdIsPushed(t *testing.T) {
	covered := map[[2]string]bool{}
	for _, r := range sensitivities {
		covered[[2]string{r.scenario, r.expr}] = true
		for _, name := range []string{r.fault, r.clean} {
			if _, ok := pushes[name]; !ok {
				t.Errorf("%s %s: no run %q", r.scenario, r.expr, name)
			}
		}
	}
	for k := range pushedElsewhere {
		covered[k] = true
	}
	for _, l2 := range []bool{false, true} {
		cl := config.CommandLine()
		if l2 {
			cl.Cache.L2.URL = "redis://127.0.0.1:1"
			cl.Set("cache.l2.url", "--redis-url")
		}
		c, err := config.New(scenarios.Names(), cl)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range scenarios.Names() {
			s, err := c.Settings(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, expr := range s.Thresholds {
				if !covered[[2]string{name, expr}] {
					t.Errorf("default threshold %s of %s (L2 in the stack: %t): no test pushes it past its limit", expr, name, l2)
				}
			}
		}
	}
}

// TestDefaultThresholdsStillFail: each default threshold fails, through the
// built binary, when a component slowed or broken on purpose pushes its
// figure past the limit (exit 1, and that threshold among those missed),
// and holds in the same run without the fault, so that the row can fail
// both ways. The faults are made to dominate: a delay of 20ms against a
// limit of 1ms, a throughput capped at two workers over 20ms against a
// floor of 1000, so that no machine is fast enough to pass them. The
// clean runs judge what the defaults were tuned for, on a healthy
// machine; a clean run that misses a threshold on timing is run again, up
// to three times, as a noisy neighbour is no fault of the component.
func TestDefaultThresholdsStillFail(t *testing.T) {
	runs := &pushRuns{runs: map[string]ran{}}
	for _, r := range sensitivities {
		t.Run(r.scenario+" "+r.expr, func(t *testing.T) {
			th, s, code := runs.threshold(t, r.fault, r.scenario, r.expr)
			if th.Pass || s.Status != report.StatusFailed || code != 1 {
				t.Errorf("with %q: %s pass %t (actual %s), %s %s, exit %d; want it missed, the scenario failed, exit 1",
					r.fault, r.expr, th.Pass, actual(th), r.scenario, s.Status, code)
			}
			for try := 1; ; try++ {
				th, _, _ := runs.threshold(t, r.clean, r.scenario, r.expr)
				if th.Pass {
					break
				}
				if try == 3 {
					t.Errorf("without the fault (%q): %s missed %d times (actual %s); want it held", r.clean, r.expr, try, actual(th))
					break
				}
				runs.forget(r.clean)
			}
		})
	}
}

func actual(th report.Threshold) string {
	if th.Actual == nil {
		return "n/a"
	}
	return fmt.Sprintf("%g", float64(*th.Actual))
}

// pushRuns runs each push once, when a row first needs it.
type pushRuns struct {
	mu   sync.Mutex
	runs map[string]ran
}

func (p *pushRuns) forget(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.runs, name)
}

// threshold returns the threshold expr of scenario in the run named, the
// scenario, and the run's exit code.
func (p *pushRuns) threshold(t *testing.T, name, scenario, expr string) (report.Threshold, report.Scenario, int) {
	t.Helper()
	p.mu.Lock()
	r, ok := p.runs[name]
	p.mu.Unlock()
	if !ok {
		r = runPush(t, name, pushes[name])
		p.mu.Lock()
		p.runs[name] = r
		p.mu.Unlock()
	}
	s, ok := byScenario(r.report)[scenario]
	if !ok {
		t.Fatalf("run %q did not run %s", name, scenario)
	}
	return thresholdOf(t, s, expr), s, r.code
}

// ran is what a run of the binary gave.
type ran struct {
	code   int
	report *report.Report
}

// runPush runs the binary as pu says. It must exit 0 or 1 (thresholds
// judged, whatever they said), never 2 or 3.
func runPush(t *testing.T, name string, pu push) ran {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"run"}, pu.args...)
	args = append(args, "-q", "--format", "json", "--output", "r.json")
	if pu.config != "" {
		if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(pu.config), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", "c.yaml")
	}
	var srv *redistest.Server
	var proxy *slowproxy.Proxy
	if pu.redis {
		srv = redistest.Start(t)
		proxy = slowproxy.Start(t, srv.Addr)
		proxy.Delay(pu.delay, pu.every)
		proxy.Corrupt(pu.corrupt)
		args = append(args, "--redis-url", proxy.URL())
	}
	cmd := exec.Command(binary, args...)
	cmd.Dir, cmd.Env = dir, cleanEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if pu.cut != nil {
		wait.Until(t, time.Minute, fmt.Sprintf("%d %s calls in Redis (run %q under way)", pu.cut.after, pu.cut.cmd, name), func() bool {
			select {
			case err := <-exited:
				t.Fatalf("run %q ended (%v) before Redis was cut\n%s", name, err, out.String())
			default:
			}
			n, err := srv.Calls(pu.cut.cmd)
			return err == nil && n >= pu.cut.after
		})
		proxy.Close()
	}
	var err error
	select {
	case err = <-exited:
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("run %q did not end", name)
	}
	r := ran{code: exitCodeOf(t, err)}
	if r.code != 0 && r.code != 1 {
		t.Fatalf("run %q: exit %d; want 0 or 1 (thresholds judged)\n%s", name, r.code, out.String())
	}
	r.report = readReportFile(t, filepath.Join(dir, "r.json"))
	return r
}
