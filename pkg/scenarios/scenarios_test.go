package scenarios

import (
	"context"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/redistest"
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/limiter"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/workload"
)

// small returns a scenario's default settings cut down to a quick run.
func small(t *testing.T, name string, ops int) config.Settings {
	t.Helper()
	return defaultSettings(t, name, false, ops)
}

// TestEveryScenarioReportsItsMetrics runs each scenario briefly on the full
// stack (L1, L2 on a real redis-server, L3) and checks that every metric it
// declares (and so lets thresholds name) is reported, and that nothing is
// reported that it does not declare.
func TestEveryScenarioReportsItsMetrics(t *testing.T) {
	srv := redistest.Start(t)
	for _, sc := range All() {
		t.Run(sc.Name, func(t *testing.T) {
			s := small(t, sc.Name, 500)
			s.Cache.L2.URL = srv.URL()
			s.Cache.L2.Timeout = 2 * time.Second // a loaded test machine
			out, err := sc.Run(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			if out.Ops+out.Errors != 500 || out.Errors != 0 {
				t.Errorf("ops %d, errors %d; want 500, 0", out.Ops, out.Errors)
			}
			if out.Latency.Count() != out.Ops {
				t.Errorf("%d latencies for %d ops", out.Latency.Count(), out.Ops)
			}
			tiers := map[string]bool{}
			for _, ts := range out.Tiers {
				tiers[ts.Name] = true
			}
			for _, m := range sc.Metrics {
				_, inM := out.Metrics[m]
				_, inC := out.Counters[m]
				if tier, _, isTier := strings.Cut(m, "_"); isTier && strings.HasPrefix(tier, "l") && len(tier) == 2 && !tiers[tier] {
					continue // a tier this scenario does not stack
				}
				if !inM && !inC {
					t.Errorf("declared metric %q not reported", m)
				}
			}
			// What the measured phase cost, every scenario (Scenario.Run)
			for _, d := range metric.CostFigures() {
				_, inM := out.Metrics[d.Name]
				_, inC := out.Counters[d.Name]
				if (d.Source == metric.Counted && !inC) || (d.Source == metric.Derived && !inM) {
					t.Errorf("%s not reported", d.Name)
				}
			}
			for m := range out.Metrics {
				if !sc.HasMetric(m) {
					t.Errorf("reports metric %q it does not declare", m)
				}
				if d, _ := metric.Lookup(m); d.Source != metric.Derived {
					t.Errorf("reports %q among metrics; the catalogue has it as source %d", m, d.Source)
				}
			}
			for m := range out.Counters {
				if !sc.HasMetric(m) {
					t.Errorf("reports counter %q it does not declare", m)
				}
				if d, _ := metric.Lookup(m); d.Source != metric.Counted {
					t.Errorf("reports %q among counters; the catalogue has it as source %d", m, d.Source)
				}
			}
			if out.Component == "" {
				t.Error("no component description")
			}
		})
	}
}

func TestCacheReadHitsEverything(t *testing.T) {
	out, err := cacheRead.Run(context.Background(), small(t, "cache-read", 2000))
	if err != nil {
		t.Fatal(err)
	}
	// Every key was written and waited for, and the cache is far from
	// full: every read hits, and only measured reads are counted.
	if out.Counters["hits"] != 2000 || out.Counters["misses"] != 0 || out.Metrics["hit_rate"] != 1 {
		t.Errorf("hits %d, misses %d, rate %g; want 2000, 0, 1", out.Counters["hits"], out.Counters["misses"], out.Metrics["hit_rate"])
	}
	if out.Counters["l1_hits"] != 2000 {
		t.Errorf("l1_hits = %d; want the 2000 measured reads only", out.Counters["l1_hits"])
	}
}

func TestCacheWriteCountsOnlyMeasuredSets(t *testing.T) {
	out, err := cacheWrite.Run(context.Background(), small(t, "cache-write", 3000))
	if err != nil {
		t.Fatal(err)
	}
	kept := out.Counters["l1_sets"] + out.Counters["l1_sets_dropped"] + out.Counters["l1_sets_rejected"]
	if kept != 3000 {
		t.Errorf("l1 sets+dropped+rejected = %d; want the 3000 measured writes", kept)
	}
}

func TestConcurrentIntegrity(t *testing.T) {
	s := small(t, "concurrent", 5000)
	out, err := concurrent.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	c := out.Counters
	if c["integrity_violations"] != 0 {
		t.Errorf("%d integrity violations", c["integrity_violations"])
	}
	// read_ratio 0.8 of 5000: about 1000 writes.
	if c["writes"]+c["reads"] != 5000 || c["writes"] < 850 || c["writes"] > 1150 || c["hits"]+c["misses"] != c["reads"] {
		t.Errorf("writes %d, reads %d, hits %d, misses %d; want about 1000 writes of 5000 and hits+misses = reads", c["writes"], c["reads"], c["hits"], c["misses"])
	}
	if c["hits"] == 0 {
		t.Error("no read hit: the check compared nothing")
	}
}

func TestLimiterAdmissionHolds(t *testing.T) {
	out, err := limiterScenario.Run(context.Background(), small(t, "limiter", 50000))
	if err != nil {
		t.Fatal(err)
	}
	c := out.Counters
	if c["allowed"]+c["denied"] != 50000 {
		t.Errorf("allowed %d + denied %d; want 50000 checks", c["allowed"], c["denied"])
	}
	for _, n := range out.Notes {
		if strings.Contains(n, "disagree") {
			t.Error(n)
		}
	}
	if out.Metrics["admission_error"] != 0 {
		t.Errorf("admission_error %g: allowed %d outside [%d, %d]; notes: %q", out.Metrics["admission_error"], c["allowed"], c["admission_expected_min"], c["admission_expected_max"], out.Notes)
	}
}

func TestSelect(t *testing.T) {
	tests := []struct {
		names []string
		want  string
	}{
		{[]string{"all"}, "cache-write cache-read cache-l2 cache-l3 limiter limiter-fallback concurrent memory latency"},
		{[]string{"cache"}, "cache-write cache-read cache-l2 cache-l3"},
		{[]string{"latency", "limiter"}, "limiter limiter-fallback latency"}, // run order, not argument order
		{[]string{"cache-read", "cache"}, "cache-write cache-read cache-l2 cache-l3"},
	}
	for _, tt := range tests {
		got, err := Select(tt.names)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, sc := range got {
			names = append(names, sc.Name)
		}
		if strings.Join(names, " ") != tt.want {
			t.Errorf("Select(%v) = %v; want %s", tt.names, names, tt.want)
		}
	}
	if _, err := Select([]string{"cahce"}); err == nil || !strings.Contains(err.Error(), `"cahce"`) || !strings.Contains(err.Error(), "cache-read") {
		t.Errorf("Select(cahce) error = %v; want one quoting it and listing the names", err)
	}
}

// TestZipfianHitRatioIsPlausible reads a Zipfian key space ten times what
// L1 can hold. L1's hit ratio must stay under what a perfect frequency
// policy would get on the very same draws (the share of reads that go to
// the C most-read keys, C the most items L1 can hold): above it, the
// measurement would be wrong. The reads L1 misses are served by L3 and
// promoted, so the overall hit rate stays 1.
func TestZipfianHitRatioIsPlausible(t *testing.T) {
	const ops, workers, valueSize, capacity = 40_000, 2, 100, 1000
	s := small(t, "cache-read", ops)
	s.Concurrency, s.Warmup = workers, config.Warmup{}
	s.ValueSize, s.ValueSizeMax = valueSize, valueSize
	s.Cache.L1.MaxCostBytes = valueSize * capacity // at most 1000 items; fewer with ristretto's own cost
	s.Keys = 10 * capacity
	s.Distribution = workload.Distribution{Name: "zipfian", Theta: 0.99}
	out, err := cacheRead.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}

	// The same draws, from the same seeds, counted.
	space, _ := s.Distribution.Prepare(s.Keys)
	counts := make([]int, s.Keys)
	for w := 0; w < workers; w++ {
		k := space.Keys(s.Seed, w, workers)
		for i := 0; i < harness.Share(ops, workers, w); i++ {
			counts[k.Next()]++
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(counts)))
	top := 0
	for _, c := range counts[:capacity] {
		top += c
	}
	ceiling := float64(top) / ops

	l1 := out.Metrics["l1_hit_rate"]
	t.Logf("L1 hit ratio %.4f; frequency-policy ceiling %.4f; l3 hits %d; promotions into l1 %d", l1, ceiling, out.Counters["l3_hits"], out.Counters["l1_promotions"])
	if l1 > ceiling+0.01 {
		t.Errorf("L1 hit ratio %.4f is above the ceiling %.4f of a perfect frequency policy: the measurement is wrong", l1, ceiling)
	}
	if l1 < 0.2 {
		t.Errorf("L1 hit ratio %.4f: implausibly low for Zipfian 0.99 with a tenth of the keys cached", l1)
	}
	if out.Metrics["hit_rate"] != 1 || out.Counters["l3_hits"] == 0 || out.Counters["l1_promotions"] == 0 {
		t.Errorf("hit_rate %g, l3 hits %d, l1 promotions %d; want 1 with L1's misses served by L3 and promoted",
			out.Metrics["hit_rate"], out.Counters["l3_hits"], out.Counters["l1_promotions"])
	}
}

func TestLimiterFallbackNeverFails(t *testing.T) {
	for _, kind := range []string{"refused", "silent"} {
		t.Run(kind, func(t *testing.T) {
			s := small(t, "limiter-fallback", 20000)
			s.Limiter.Unreachable = kind
			out, err := limiterFallback.Run(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			c := out.Counters
			if out.Errors != 0 || out.Metrics["fallback_rate"] != 1 || c["fallback"] != 20000 {
				t.Errorf("errors %d, fallback %d (rate %g); want none, every measured decision", out.Errors, c["fallback"], out.Metrics["fallback_rate"])
			}
			if out.Metrics["admission_error"] != 0 {
				t.Errorf("fallback admission: allowed %d outside [%d, %d]; notes %q", c["allowed"], c["admission_expected_min"], c["admission_expected_max"], out.Notes)
			}
		})
	}
}

func TestLimiterOnRedis(t *testing.T) {
	srv := redistest.Start(t)
	s := small(t, "limiter", 20000)
	s.Cache.L2.URL = srv.URL()
	s.Limiter.Timeout = 2 * time.Second // a loaded test machine
	s.Limiter.Policy.Rate, s.Limiter.Policy.Burst = 10000, 500
	out, err := limiterScenario.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	c := out.Counters
	if c["fallback"] != 0 || c["redis_errors"] != 0 || c["allowed"]+c["denied"] != 20000 || !strings.Contains(out.Component, "redis GCRA") {
		t.Errorf("counters %v, component %q; want every decision from Redis", c, out.Component)
	}
	if out.Metrics["admission_error"] != 0 {
		t.Errorf("admission on Redis: allowed %d outside [%d, %d]; notes %q", c["allowed"], c["admission_expected_min"], c["admission_expected_max"], out.Notes)
	}
}

func TestLimiterManyKeys(t *testing.T) {
	s := small(t, "limiter", 50000)
	s.Keys = 1000
	s.Limiter.Policy.Burst = 20 // 50 checks per key: more than a burst each
	out, err := limiterScenario.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	c := out.Counters
	if c["admission_expected_min"] < 20000 || out.Metrics["admission_error"] != 0 {
		t.Errorf("1000 keys x 50 checks, burst 20: allowed %d in [%d, %d]; want at least every key's burst", c["allowed"], c["admission_expected_min"], c["admission_expected_max"])
	}
}

// TestLimiterCatchesOverAdmission: the scenario, measuring a limiter that
// admits one burst too many, fails its admission check. The policy's burst
// is two seconds of rate, so the extra burst shows whatever the machine's
// pauses.
func TestLimiterCatchesOverAdmission(t *testing.T) {
	s := small(t, "limiter", 50000)
	pol := limiter.Policy{Name: limiterPolicy, Rate: 1000, Burst: 2000, Period: time.Second}
	over := pol
	over.Burst *= 2
	m, err := limiter.NewMemory(nil, over)
	if err != nil {
		t.Fatal(err)
	}
	out, err := measureLimiter(context.Background(), s, pol, &backend{lim: m, desc: "over-admitting", close: func() {}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if e := out.Metrics["admission_error"]; e < 1 {
		t.Errorf("admission_error %g: allowed %d in [%d, %d]; want the extra burst caught", e,
			out.Counters["allowed"], out.Counters["admission_expected_min"], out.Counters["admission_expected_max"])
	}
}

// TestLimiterUnusableRedis: the limiter scenario pointed at a Redis that
// refuses connections, never answers, or refuses the password is an
// error that names the Redis (password masked), not a run of the fallback
// labelled Redis.
func TestLimiterUnusableRedis(t *testing.T) {
	srv := redistest.Start(t, "--requirepass", "right-pa55")
	tests := []struct{ name, url, why string }{
		{"refused", "redis://" + redistest.Refused(t), "connection refused"},
		{"silent", "redis://" + redistest.Silent(t), "timeout"},
		{"wrong password", "redis://:wrong-pa55@" + srv.Addr, "WRONGPASS"},
		{"no password", srv.URL(), "NOAUTH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := small(t, "limiter", 2000)
			s.Cache.L2.URL = tt.url
			out, err := limiterScenario.Run(context.Background(), s)
			if err == nil {
				t.Fatalf("no error; counters %v, notes %q", out.Counters, out.Notes)
			}
			msg := err.Error()
			if !strings.Contains(msg, "unreachable") || !strings.Contains(msg, tt.why) || strings.Contains(msg, "pa55") {
				t.Errorf("error %q; want it to say the Redis at the masked URL is unreachable: %s", msg, tt.why)
			}
		})
	}
	// The right password: measured in Redis.
	s := small(t, "limiter", 2000)
	s.Cache.L2.URL = "redis://:right-pa55@" + srv.Addr
	s.Limiter.Timeout = 2 * time.Second // a loaded test machine
	out, err := limiterScenario.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if c := out.Counters; c["redis_ok"] != 2000 || c["fallback"] != 0 {
		t.Errorf("counters %v; want every decision from Redis", c)
	}
}

// TestLimiterFallbackFailOpen: with fail-open, limiter-fallback still
// measures the failure mode, and says that the admission check does not
// apply rather than reporting a figure that cannot be computed.
func TestLimiterFallbackFailOpen(t *testing.T) {
	s := small(t, "limiter-fallback", 5000)
	s.Limiter.Policy.OnFailure = limiter.FailOpen
	out, err := limiterFallback.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if c := out.Counters; c["allowed"] != 5000 || c["fallback"] != 5000 {
		t.Errorf("counters %v; want all 5000 allowed by the failure mode", c)
	}
	if _, ok := out.Metrics["admission_error"]; ok {
		t.Errorf("admission_error %g reported; want none", out.Metrics["admission_error"])
	}
	if !strings.Contains(strings.Join(out.Notes, "\n"), "admission not checked: every decision was fail-open") {
		t.Errorf("notes %q; want the admission check said not to apply", out.Notes)
	}
	for k, v := range out.Metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("%s = %g", k, v)
		}
	}
}
