package harness

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// TestCostOfTheMeasuredPhase: what the measured phase cost the process is
// the operations' cost, read at the phase's two ends: an operation that
// allocates 512 bytes is charged that (within 5%: the collector, the
// meter and the runtime allocate a little beside it), one that forces a
// collection a GC cycle each (one worker: runtime.GC calls at the same
// time may share a cycle), and the CPU time is more than nothing and
// at most every CPU for the whole phase.
func TestCostOfTheMeasuredPhase(t *testing.T) {
	const size = 512
	run := func(workers, ops int, op func(w int)) *Result {
		t.Helper()
		res, err := Run(context.Background(), Config{Workers: workers, Ops: ops, WarmupOps: 100}, func(w int) Op {
			return func(int) (Kind, error) { op(w); return 0, nil }
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Cost == nil {
			t.Fatal("no cost measured")
		}
		return res
	}

	sinks := make([][]byte, 2) // a worker's own: one sink would be a data race
	res := run(2, 20_000, func(w int) { sinks[w] = make([]byte, size) })
	c := res.Cost
	if per := float64(c.AllocBytes) / float64(res.Ops); per < size*0.98 || per > size*1.05 {
		t.Errorf("%d bytes allocated over %d operations of %d bytes each: %.1f per operation; want %.0f to %.0f",
			c.AllocBytes, res.Ops, size, per, size*0.98, size*1.05)
	}
	if per := float64(c.Allocs) / float64(res.Ops); per < 0.98 || per > 1.05 {
		t.Errorf("%d allocations over %d operations of one each: %.3f per operation; want 0.98 to 1.05", c.Allocs, res.Ops, per)
	}
	if c.Wall < res.Duration {
		t.Errorf("cost measured over %s, shorter than the phase's %s", c.Wall, res.Duration)
	}
	if cpu, bound := c.User+c.System, c.Wall*time.Duration(runtime.NumCPU())+2*time.Millisecond; c.CPU && (cpu <= 0 || cpu > bound) {
		t.Errorf("CPU %s over %s of wall time on %d CPUs; want more than 0, at most %s", cpu, c.Wall, runtime.NumCPU(), bound)
	}
	if c.Goroutines < 2 {
		t.Errorf("%d goroutines while 2 workers ran; want at least 2", c.Goroutines)
	}

	const collections = 20
	res = run(1, collections, func(int) { runtime.GC() })
	if res.Cost.GCCycles < collections || res.Cost.GCPause <= 0 {
		t.Errorf("%d GC cycles, %s paused, over %d operations that each force one; want at least %d, more than 0",
			res.Cost.GCCycles, res.Cost.GCPause, collections, collections)
	}
}

// TestNoCostBeforeMeasuring: a run stopped before its measured phase has
// no cost to report.
func TestNoCostBeforeMeasuring(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	res, err := Run(ctx, Config{Workers: 1, Ops: 10, WarmupDuration: time.Hour}, func(int) Op {
		return func(int) (Kind, error) { cancel(); return 0, nil }
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.Cost != nil {
		t.Errorf("Interrupted %t, Cost %+v; want true, nil", res.Interrupted, res.Cost)
	}
}
