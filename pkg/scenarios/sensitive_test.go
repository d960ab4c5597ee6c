package scenarios

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/redistest"
	"github.com/rustci/rustci-perf/pkg/cache"
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/limiter"
	"github.com/rustci/rustci-perf/pkg/threshold"
)

// Default thresholds that no fault from outside the process can push past
// their limits (cache-l3 has no tier but Pebble, limiter-fallback never
// reaches a Redis, L2's allocations are go-redis's), pushed here by a
// component broken on purpose, and judged as the suite judges them. The
// rest are pushed through the binary: see cmd/rustci-perf
// TestDefaultThresholdsStillFail.

// defaultSettings are the embedded defaults of scenario name, with L2 in
// the stack or not, sized to ops operations.
func defaultSettings(t *testing.T, name string, l2 bool, ops int) config.Settings {
	t.Helper()
	cl := config.CommandLine()
	cl.Defaults.Ops = ops
	cl.Set("defaults.ops", "--ops")
	if l2 {
		// The L2 stack's defaults; tests point it at their own Redis.
		cl.Cache.L2.URL = "redis://127.0.0.1:1"
		cl.Set("cache.l2.url", "--redis-url")
	}
	return settingsOf(t, name, cl)
}

// settingsOf resolves scenario name's settings over the embedded defaults
// and the command-line layer cl.
func settingsOf(t *testing.T, name string, cl *config.Layer) config.Settings {
	t.Helper()
	c, err := config.New(Names(), cl)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Settings(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// judgeDefault judges out against the default threshold expr of s, which
// must be one of s's thresholds.
func judgeDefault(t *testing.T, s config.Settings, out *Outcome, expr string) threshold.Outcome {
	t.Helper()
	if !slices.Contains(s.Thresholds, expr) {
		t.Fatalf("%s is not a default threshold: %q", expr, s.Thresholds)
	}
	th, err := threshold.Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	l := out.Latency.Summary()
	return threshold.Eval(th, threshold.Figures{
		Ops: float64(out.Ops), Errors: float64(out.Errors), Throughput: out.Throughput(), Duration: float64(out.Duration),
		Min: float64(l.Min), Mean: l.Mean, Stdev: l.Stdev, Max: float64(l.Max),
		Latencies:  out.Latency.Count() > 0,
		Percentile: func(p float64) float64 { return float64(out.Latency.Percentile(p)) },
		Metrics:    out.Metrics, Counters: out.Counters,
	}.Source())
}

// checkPushed fails t unless expr misses with the fault and holds without.
func checkPushed(t *testing.T, s config.Settings, expr string, faulty, clean *Outcome) {
	t.Helper()
	if o := judgeDefault(t, s, faulty, expr); o.Pass {
		t.Errorf("with the fault: %s held (actual %g); want it missed", expr, o.Actual)
	}
	if o := judgeDefault(t, s, clean, expr); !o.Pass {
		t.Errorf("without the fault: %s missed (actual %g); want it held", expr, o.Actual)
	}
}

// faultyTier is a cache tier with faults put in on purpose.
type faultyTier struct {
	cache.Tier
	getDelay time.Duration // each Get takes this long at least
	getErr   error         // each Get fails with it
	setAlloc int           // each Set allocates this many objects more
}

var _ cache.Tier = (*faultyTier)(nil)

func (f *faultyTier) Get(ctx context.Context, key string) (cache.Item, bool, error) {
	if f.getDelay > 0 {
		time.Sleep(f.getDelay)
	}
	if f.getErr != nil {
		return cache.Item{}, false, f.getErr
	}
	return f.Tier.Get(ctx, key)
}

// sink keeps setAlloc's allocations from being optimised away.
var sink []*[16]byte

func (f *faultyTier) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	for i := 0; i < f.setAlloc; i++ {
		sink = append(sink[:0], new([16]byte))
	}
	return f.Tier.Set(ctx, key, value, ttl)
}

// rigOf is a rig over tiers, as newRig builds one.
func rigOf(t *testing.T, s config.Settings, tiers ...cache.Tier) *rig {
	t.Helper()
	m, err := cache.New(cache.Options{BreakerFailures: uint32(s.Cache.Breaker.Failures), BreakerBackoff: time.Duration(s.Cache.Breaker.Backoff)}, tiers...)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{m: m, ttl: time.Duration(s.Cache.TTL), desc: "test rig"}
}

func newL3(t *testing.T) cache.Tier {
	t.Helper()
	l3, err := cache.NewL3(cache.L3Config{})
	if err != nil {
		t.Fatal(err)
	}
	return l3
}

// TestL3Faults: cache-l3's throughput floor and errors==0 fail when its
// only tier, L3, is slowed or fails, and hold on L3 as it is.
func TestL3Faults(t *testing.T) {
	read := func(t *testing.T, s config.Settings, l3 cache.Tier) *Outcome {
		t.Helper()
		r := rigOf(t, s, l3)
		defer r.close()
		out, err := r.readAll(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	tests := []struct {
		expr  string
		fault func(cache.Tier) cache.Tier
	}{
		// 5ms a Get: two workers make at most 400 reads a second
		{"throughput>1000", func(l3 cache.Tier) cache.Tier { return &faultyTier{Tier: l3, getDelay: 5 * time.Millisecond} }},
		// every Get fails: every read is an error
		{"errors==0", func(l3 cache.Tier) cache.Tier { return &faultyTier{Tier: l3, getErr: errors.New("disk on fire")} }},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			s := defaultSettings(t, "cache-l3", false, 200)
			s.Concurrency, s.Warmup = 2, config.Warmup{Ops: 10}
			checkPushed(t, s, tt.expr, read(t, s, tt.fault(newL3(t))), read(t, s, newL3(t)))
		})
	}
}

// TestMemoryAllocatingTier: with L2 in the stack the memory scenario allows
// 64 allocations a Set (go-redis's few dozen). A tier that allocates 100
// objects a Set beside L1 pushes allocs_per_op past that; the same tier
// that allocates nothing more does not. Go-redis's allocations cannot be
// raised from outside without failing the calls, which opens L2's breaker
// and lowers them.
func TestMemoryAllocatingTier(t *testing.T) {
	s := defaultSettings(t, "memory", true, 1000)
	measure := func(allocs int) *Outcome {
		l1, err := cache.NewL1(cache.L1Config{MaxCostBytes: s.Cache.L1.MaxCostBytes, NumCounters: s.Cache.L1.NumCounters})
		if err != nil {
			t.Fatal(err)
		}
		r := rigOf(t, s, l1, &faultyTier{Tier: newL3(t), setAlloc: allocs})
		defer r.close()
		out, err := r.memory(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		addCost(out) // as Scenario.Run does
		return out
	}
	checkPushed(t, s, "allocs_per_op<64", measure(100), measure(0))
}

// failingLimiter fails one check in every few.
type failingLimiter struct {
	limiter.Limiter
	n, every int
}

func (f *failingLimiter) AllowN(ctx context.Context, policy, key string, n int) (limiter.Result, error) {
	f.n++ // one worker: no race
	if f.n%f.every == 0 {
		return limiter.Result{}, fmt.Errorf("check %d: failed on purpose", f.n)
	}
	return f.Limiter.AllowN(ctx, policy, key, n)
}

// TestLimiterFallbackFaults: limiter-fallback's errors==0 fails when
// checks fail (the Redis limiter never fails one: its failure mode
// answers), and fallback_rate==1 fails when the Redis it is pointed at
// answers, so that decisions are not the fallback's.
func TestLimiterFallbackFaults(t *testing.T) {
	t.Run("errors==0", func(t *testing.T) {
		s := defaultSettings(t, "limiter-fallback", false, 5000)
		s.Concurrency = 1
		run := func(every int) *Outcome {
			pol := limiter.Policy{Name: limiterPolicy, Rate: s.Limiter.Policy.Rate, Burst: s.Limiter.Policy.Burst, Period: s.Limiter.Policy.Period}
			b, err := newBackend(s, pol, onUnreachable)
			if err != nil {
				t.Fatal(err)
			}
			defer b.close()
			if every > 0 {
				b.lim = &failingLimiter{Limiter: b.lim, every: every}
			}
			out, err := measureLimiter(context.Background(), s, pol, b, true)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		// one check in a hundred fails
		checkPushed(t, s, "errors==0", run(100), run(0))
	})
	t.Run("fallback_rate==1", func(t *testing.T) {
		srv := redistest.Start(t)
		s := defaultSettings(t, "limiter-fallback", false, 2000)
		s.Limiter.Timeout = 2 * time.Second // a loaded test machine
		run := func(where string) *Outcome {
			s := s
			s.Cache.L2.URL = srv.URL()
			out, err := runLimiter(context.Background(), s, where)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		// the "unreachable" Redis is the live one: Redis decides
		checkPushed(t, s, "fallback_rate==1", run(onRedis), run(onUnreachable))
	})
}
