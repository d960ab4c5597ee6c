package scenarios

import (
	"context"
	"runtime"
	"testing"
)

// TestOperationPathsAllocateNothing: the measured phase of each scenario
// whose component allocates nothing per operation (L1 reads, the
// in-memory limiter) allocates nothing per operation either: not the
// harness's loop, its collector, the key picking, nor the scenario's own
// checks and tallies. Counted over the whole process, from just before
// the phase to just after it (Settings.Observe), so a thousand are allowed
// (ristretto's own goroutines refill a pool of read buffers now and then:
// about a hundred here) where one allocation per operation would show as
// 100000.
func TestOperationPathsAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector (make test runs this test without it)")
	}
	const ops = 100_000
	for _, tt := range []struct {
		name string
		mix  bool // reads only, in a scenario that mixes writes in
	}{
		{name: "cache-read"},
		{name: "latency", mix: true},
		{name: "concurrent", mix: true},
		{name: "limiter"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc, _ := Lookup(tt.name)
			s := small(t, tt.name, ops)
			s.Cache.Tiers = []string{"l1"}
			s.Keys = 1000
			if tt.mix {
				s.ReadRatio = 1
			}
			var before, after runtime.MemStats
			s.Observe = func() func() {
				runtime.ReadMemStats(&before)
				return func() { runtime.ReadMemStats(&after) }
			}
			out, err := sc.Run(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			if out.Ops != ops {
				t.Fatalf("%d operations; want %d", out.Ops, ops)
			}
			// The limiter makes a key's state on its first check (the
			// measured phase checks keys of its own): per key, not per
			// operation.
			allowed := uint64(1000)
			if tt.name == "limiter" {
				allowed += 4 * uint64(s.Keys)
			}
			if n := after.Mallocs - before.Mallocs; n > allowed {
				t.Errorf("%d allocations in a measured phase of %d operations (%.3f per operation); want at most %d", n, ops, float64(n)/ops, allowed)
			}
		})
	}
}
