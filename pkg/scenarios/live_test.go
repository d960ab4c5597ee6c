package scenarios

import (
	"context"
	"sync"
	"testing"

	"github.com/rustci/rustci-perf/pkg/harness"
)

// TestLiveCounters: while a cache scenario or a limiter scenario runs,
// its Tick is told its component's counters over the measured phase so
// far, under the names its report gives them, and never more than the
// report's.
func TestLiveCounters(t *testing.T) {
	for _, tt := range []struct {
		scenario string
		counter  string
	}{
		{"cache-read", "l1_hits"},
		{"cache-write", "l1_sets"},
		{"concurrent", "l1_hits"},
		{"limiter", "allowed"},
	} {
		t.Run(tt.scenario, func(t *testing.T) {
			sc, _ := Lookup(tt.scenario)
			s := small(t, tt.scenario, 1)
			s.Ops, s.Duration = 0, 4*harness.TickEvery
			s.Concurrency = 1
			s.Cache.Tiers = []string{"l1"}
			s.Keys = 1000
			var mu sync.Mutex // ticks run on the collector's goroutine
			var last int64
			seen := false
			s.Tick = func(p harness.Progress) {
				mu.Lock()
				defer mu.Unlock()
				for _, c := range p.Counters {
					if c.Name == tt.counter {
						seen, last = true, c.Value
					}
				}
			}
			out, err := sc.Run(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if !seen || last <= 0 || last > out.Counters[tt.counter] {
				t.Errorf("live %s: seen %t, last %d; want a count above 0, at most the report's %d", tt.counter, seen, last, out.Counters[tt.counter])
			}
		})
	}
}

// TestLiveTicksAllocateNothing: the ticks that read the cache's and the
// limiter's counters on the collector's goroutine allocate nothing.
func TestLiveTicksAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector (make test runs this test without it)")
	}
	s := small(t, "cache-read", 1)
	s.Cache.Tiers = []string{"l1", "l3"}
	r, err := newRig(s)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	r.mark()
	var n int
	cacheTick := r.liveTick(func(p harness.Progress) { n += len(p.Counters) })

	ls := small(t, "limiter", 1)
	pol := ls.Limiter.Policy
	pol.Name = limiterPolicy
	b, err := newBackend(ls, pol, onMemory)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	var live liveLimiter
	st, _ := b.lim.Stats()[pol.Name]
	live.mark(st, 0)
	limiterTick := live.tick(b, pol.Name, func(p harness.Progress) { n += len(p.Counters) })

	for name, tick := range map[string]func(harness.Progress){"cache": cacheTick, "limiter": limiterTick} {
		n = 0
		if a := testing.AllocsPerRun(100, func() { tick(harness.Progress{}) }); a != 0 || n == 0 {
			t.Errorf("%s tick: %g allocations, %d counters passed on; want none, some", name, a, n)
		}
	}
}
