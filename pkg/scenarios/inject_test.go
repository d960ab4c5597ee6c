package scenarios

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/redistest"
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/fault"
)

// injectedSettings are scenario name's default settings for a run of
// duration, on the Redis at url, with the faults specs injected, read as
// the command line reads --inject; more changes the command-line layer
// first (its changed paths named in set).
func injectedSettings(t *testing.T, name, url string, duration time.Duration, specs []string, more func(cl *config.Layer) (set []string)) config.Settings {
	t.Helper()
	cl := config.CommandLine()
	cl.Defaults.Duration = duration
	cl.Set("defaults.duration", "--duration")
	cl.Cache.L2.URL = url
	cl.Set("cache.l2.url", "--redis-url")
	for _, s := range specs {
		sp, err := fault.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		cl.Inject = append(cl.Inject, sp)
	}
	cl.Set("inject", "--inject")
	if more != nil {
		for _, path := range more(cl) {
			cl.Set(path, path)
		}
	}
	return settingsOf(t, name, cl)
}

// TestBreakerOpensAndRecoversUnderAStall: L2 stalls for 1s, 300ms into
// cache-l2's measured phase. As documented for a tier that fails: each
// call in the stall fails at L2's 50ms timeout, not at the stall's end;
// after 5 failures in a row the breaker opens and calls skip L2; a probe
// after each 200ms backoff fails while the stall lasts, opening it again;
// the first probe after the stall closes it, and L2 serves again.
func TestBreakerOpensAndRecoversUnderAStall(t *testing.T) {
	srv := redistest.Start(t)
	const (
		at, stall = 300 * time.Millisecond, time.Second
		backoff   = 200 * time.Millisecond
	)
	s := injectedSettings(t, "cache-l2", srv.URL(), 2500*time.Millisecond, []string{"l2:stall=1s@300ms"}, func(cl *config.Layer) []string {
		cl.Cache.Breaker.Failures, cl.Cache.Breaker.Backoff = 5, backoff
		cl.Defaults.Keys = 1000
		return []string{"cache.breaker.failures", "cache.breaker.backoff", "defaults.keys"}
	})
	out, err := cacheL2.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	c := out.Counters
	t.Logf("ops %d, errors %d; l2: errors %d, skipped %d, breaker opened %d, closed %d, degraded %d",
		out.Ops, out.Errors, c["l2_errors"], c["l2_skipped"], c["l2_breaker_opens"], c["l2_breaker_closes"], c["l2_degraded"])
	switch {
	case c["l2_errors"] < 5:
		t.Errorf("l2 failed %d calls; want at least the breaker's 5", c["l2_errors"])
	case c["l2_skipped"] == 0:
		t.Error("no call skipped l2: its breaker never opened")
	case c["l2_breaker_opens"] < 2:
		t.Errorf("l2's breaker opened %d times; want it opened, then again after a probe failed in the stall", c["l2_breaker_opens"])
	case c["l2_breaker_closes"] < 1 || c["l2_degraded"] != 0:
		t.Errorf("l2's breaker closed %d times, degraded at the end %d; want it closed again after the stall", c["l2_breaker_closes"], c["l2_degraded"])
	}
	// A call in the stall fails at its own timeout: the stall is not
	// waited out (the first call into it would have waited about 1s).
	// The bound is half the stall, not the timeout's: the slowest of a
	// run's calls includes whatever pause this shared machine took.
	if lat := out.TierLatency["l2"]; lat == nil || lat.Max >= stall/2 {
		t.Errorf("l2's calls: %+v; want the slowest well under the %s stall, ended by the %s timeout", lat, stall, s.Cache.L2.Timeout)
	}
	// Nothing succeeds inside the stall (margins for the intervals'
	// hand-over); L2 serves again at the end.
	var during, after int64
	for _, iv := range out.Intervals {
		if iv.Start >= at+200*time.Millisecond && iv.Start+iv.Length <= at+stall-200*time.Millisecond {
			during += iv.Ops
		}
		if iv.Start >= at+stall+backoff+300*time.Millisecond {
			after += iv.Ops
		}
	}
	if during != 0 || after == 0 {
		t.Errorf("%d operations succeeded inside the stall, %d after it; want none, then L2 serving again", during, after)
	}
	if !strings.Contains(strings.Join(out.Notes, "\n"), "injected fault l2:stall=1s@300ms: into every call to l2 in the measured phase, inside the Redis call, within its 50ms timeout") {
		t.Errorf("no note says what was injected:\n%s", strings.Join(out.Notes, "\n"))
	}
}

// TestFaultsOnlyWhileMeasuring: with every call to L2 failing, cache-l2
// still fills its keys and warms up (faults are armed when measuring
// starts), and then every measured operation fails.
func TestFaultsOnlyWhileMeasuring(t *testing.T) {
	srv := redistest.Start(t)
	s := injectedSettings(t, "cache-l2", srv.URL(), 200*time.Millisecond, []string{"l2:error=1"}, nil)
	out, err := cacheL2.Run(context.Background(), s)
	if err != nil {
		t.Fatalf("cache-l2 with l2:error=1: %v; want the fill and warmup clean", err)
	}
	if c := out.Counters; out.Ops != 0 || out.Errors == 0 || out.WarmupOps == 0 || c["l2_errors"] < 5 || c["l2_errors"]+c["l2_skipped"] != out.Errors {
		t.Errorf("ops %d, errors %d, warmup %d, l2 errors %d and skipped %d; want every measured operation failed by the fault (or skipped, once the breaker opened), the warmup run",
			out.Ops, out.Errors, out.WarmupOps, c["l2_errors"], c["l2_skipped"])
	}
}

// TestLimiterFallsBackWithinItsTimeout: every Redis call of the limiter
// 10s late, against its 50ms timeout: each check is decided by the
// fallback, none waits the 10s out, and none fails. (That one call is
// bounded by its timeout, fault's TestHookInsideTheDeadline shows; the
// slowest of a run's millions of checks also holds whatever pause this
// shared machine took, so the bound here is half the injected latency.)
func TestLimiterFallsBackWithinItsTimeout(t *testing.T) {
	srv := redistest.Start(t)
	s := injectedSettings(t, "limiter", srv.URL(), time.Second, []string{"limiter:latency=10s"}, nil)
	out, err := limiterScenario.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	c := out.Counters
	t.Logf("ops %d; fallback %d, redis ok %d, errors %d, timeouts %d, switches %d; max %s",
		out.Ops, c["fallback"], c["redis_ok"], c["redis_errors"], c["timeouts"], c["switches"], out.Latency.Summary().Max)
	if out.Errors != 0 || c["fallback"] == 0 || c["fallback"] != c["allowed"]+c["denied"] || c["redis_ok"] != 0 {
		t.Errorf("errors %d, fallback %d of %d decisions, redis ok %d; want every check decided by the fallback, none failed",
			out.Errors, c["fallback"], c["allowed"]+c["denied"], c["redis_ok"])
	}
	if c["timeouts"] < 5 || c["timeouts"] != c["redis_errors"] || c["switches"] < 1 {
		t.Errorf("timeouts %d, redis errors %d, switches %d; want the breaker's 5 timeouts at least, every error one, the breaker opened", c["timeouts"], c["redis_errors"], c["switches"])
	}
	if max := out.Latency.Summary().Max; max > 5*time.Second {
		t.Errorf("slowest check %s; want each ended by the %s timeout, not the injected 10s", max, s.Limiter.Timeout)
	}
	if !strings.Contains(strings.Join(out.Notes, "\n"), "injected fault limiter:latency=10s: into every Redis call of the limiter's checks in the measured phase, within its 50ms timeout") {
		t.Errorf("no note says what was injected:\n%s", strings.Join(out.Notes, "\n"))
	}

	// A delay well inside the timeout slows each check by that much, and
	// Redis decides every one.
	s = injectedSettings(t, "limiter", srv.URL(), 300*time.Millisecond, []string{"limiter:latency=5ms"}, func(cl *config.Layer) []string {
		cl.Limiter.Timeout = 2 * time.Second // a loaded test machine
		return []string{"limiter.timeout"}
	})
	out, err = limiterScenario.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if c := out.Counters; c["fallback"] != 0 || out.Latency.Summary().Min < 5*time.Millisecond {
		t.Errorf("5ms on every Redis call: fallback %d, fastest check %s; want none, none under 5ms", c["fallback"], out.Latency.Summary().Min)
	}
}

// TestLimiterInMemoryNotInjected: faults go into the limiter's Redis; on
// the in-memory limiter nothing is injected, and a note says so.
func TestLimiterInMemoryNotInjected(t *testing.T) {
	s := injectedSettings(t, "limiter", "", 0, []string{"limiter:error=1"}, func(cl *config.Layer) []string {
		cl.Defaults.Ops = 2000
		return []string{"defaults.ops"}
	})
	out, err := limiterScenario.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	want := "injected fault limiter:error=1 not applied: the limiter ran in memory, and faults go into its Redis (give a Redis URL)"
	if out.Errors != 0 || !strings.Contains(strings.Join(out.Notes, "\n"), want) {
		t.Errorf("errors %d, notes:\n%s\nwant none, and %q", out.Errors, strings.Join(out.Notes, "\n"), want)
	}
}
