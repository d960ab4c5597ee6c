package harness

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func TestShare(t *testing.T) {
	tests := []struct{ total, workers, w, want int }{
		{10, 3, 0, 4}, // 10 = 4 + 3 + 3: the remainder goes to the first
		{10, 3, 1, 3},
		{10, 3, 2, 3},
		{2, 4, 1, 1}, // fewer ops than workers: some get one
		{2, 4, 2, 0}, // ... and the rest none
		{0, 2, 0, 0},
	}
	for _, tt := range tests {
		if got := Share(tt.total, tt.workers, tt.w); got != tt.want {
			t.Errorf("Share(%d, %d, %d) = %d; want %d", tt.total, tt.workers, tt.w, got, tt.want)
		}
	}
	// No op is ever dropped.
	for total := 0; total < 50; total++ {
		for workers := 1; workers < 9; workers++ {
			sum := 0
			for w := 0; w < workers; w++ {
				sum += Share(total, workers, w)
			}
			if sum != total {
				t.Fatalf("shares of %d over %d workers sum to %d", total, workers, sum)
			}
		}
	}
}

func TestRunCounts(t *testing.T) {
	const workers, ops, warm = 3, 1001, 10
	calls := make([][]int, workers)
	var before, after atomic.Int32
	res, err := Run(context.Background(), Config{
		Workers: workers, Ops: ops, WarmupOps: warm,
		BeforeMeasure: func() { before.Add(1) },
		AfterMeasure:  func() { after.Add(1) },
	}, func(w int) Op {
		return func(i int) error {
			calls[w] = append(calls[w], i)
			if i%100 == 99 {
				return errors.New("boom")
			}
			return nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if before.Load() != 1 || after.Load() != 1 {
		t.Errorf("hooks ran %d, %d times; want once each", before.Load(), after.Load())
	}
	// Each worker's indices run 0, 1, 2, ... through warmup and measuring.
	total := 0
	for w, cs := range calls {
		want := Share(warm, workers, w) + Share(ops, workers, w)
		if len(cs) != want {
			t.Errorf("worker %d called %d times; want %d", w, len(cs), want)
		}
		for i, c := range cs {
			if c != i {
				t.Fatalf("worker %d call %d had index %d", w, i, c)
			}
		}
		total += len(cs)
	}
	if res.WarmupOps != warm {
		t.Errorf("WarmupOps = %d; want %d", res.WarmupOps, warm)
	}
	if res.Ops+res.Errors != ops {
		t.Errorf("Ops + Errors = %d + %d; want %d measured", res.Ops, res.Errors, ops)
	}
	if res.Latency.Count() != res.Ops || res.ErrorLatency.Count() != res.Errors {
		t.Errorf("latencies %d ok, %d failed; want %d, %d", res.Latency.Count(), res.ErrorLatency.Count(), res.Ops, res.Errors)
	}
	if res.Errors == 0 || res.FirstError == nil || res.FirstError.Error() != "boom" {
		t.Errorf("Errors = %d, FirstError = %v; want some, boom", res.Errors, res.FirstError)
	}
	if res.Duration <= 0 || res.Inner > res.Duration {
		t.Errorf("Duration %s, Inner %s; want 0 < Inner <= Duration", res.Duration, res.Inner)
	}
	if res.Interrupted {
		t.Error("Interrupted = true for a complete run")
	}
}

func TestRunDuration(t *testing.T) {
	var n atomic.Int64
	res, err := Run(context.Background(), Config{Workers: 2, Duration: 20 * time.Millisecond}, func(int) Op {
		return func(int) error { n.Add(1); return nil }
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops != n.Load() || res.Ops == 0 {
		t.Errorf("Ops = %d; want every call (%d), more than 0", res.Ops, n.Load())
	}
	if res.Duration <= 0 || res.Interrupted {
		t.Errorf("Duration = %s, Interrupted = %t; want a positive duration, not interrupted", res.Duration, res.Interrupted)
	}
}

func TestRunCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	var once atomic.Bool
	done := make(chan *Result)
	go func() {
		res, _ := Run(ctx, Config{Workers: 2, Duration: time.Hour}, func(int) Op {
			return func(int) error {
				if once.CompareAndSwap(false, true) {
					close(started)
				}
				return nil
			}
		})
		done <- res
	}()
	<-started
	cancel()
	select {
	case res := <-done:
		if !res.Interrupted || res.Ops == 0 {
			t.Errorf("Interrupted = %t, Ops = %d; want true, > 0", res.Interrupted, res.Ops)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop within 10s of cancellation")
	}
}

func TestValidate(t *testing.T) {
	bad := []Config{
		{Workers: 0, Ops: 1},
		{Workers: 1, Ops: 0},
		{Workers: 1, Duration: -1},
		{Workers: 1, Ops: 1, WarmupOps: -1},
		{Workers: 1, Ops: 1, WarmupDuration: -1},
	}
	for _, c := range bad {
		if _, err := Run(context.Background(), c, func(int) Op { return func(int) error { return nil } }); err == nil {
			t.Errorf("Run(%+v) = nil error; want one", c)
		}
	}
}

// TestHotPathDoesNotAllocate measures, between the hooks that bracket the
// measured phase, the allocations of 200k no-op operations: only the
// phase's fixed set-up (goroutines, a channel) may allocate, nothing per op.
func TestHotPathDoesNotAllocate(t *testing.T) {
	var before, after runtime.MemStats
	_, err := Run(context.Background(), Config{
		Workers: 2, Ops: 200_000,
		BeforeMeasure: func() { runtime.ReadMemStats(&before) },
		AfterMeasure:  func() { runtime.ReadMemStats(&after) },
	}, func(int) Op { return func(int) error { return nil } })
	if err != nil {
		t.Fatal(err)
	}
	if n := after.Mallocs - before.Mallocs; n > 100 {
		t.Errorf("measured phase of 200000 ops allocated %d times; want a fixed handful", n)
	}
}

// TestMemoryFlatInOps: a 10-million-operation run allocates no more during
// its measured phase than a 100-thousand-operation one: nothing is kept per
// operation, histograms are fixed-size.
func TestMemoryFlatInOps(t *testing.T) {
	if testing.Short() {
		t.Skip("10 million operations")
	}
	alloc := func(ops int) uint64 {
		var before, after runtime.MemStats
		_, err := Run(context.Background(), Config{
			Workers: 2, Ops: ops,
			BeforeMeasure: func() { runtime.ReadMemStats(&before) },
			AfterMeasure:  func() { runtime.ReadMemStats(&after) },
		}, func(int) Op { return func(int) error { return nil } })
		if err != nil {
			t.Fatal(err)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	small, big := alloc(100_000), alloc(10_000_000)
	if big > small+1<<20 {
		t.Errorf("10M ops allocated %d bytes while measuring, 100k ops %d: memory grows with operations", big, small)
	}
}

func TestTick(t *testing.T) {
	var ticks atomic.Int64
	var last atomic.Int64
	res, err := Run(context.Background(), Config{
		Workers: 2, Duration: 3 * TickEvery,
		Tick: func(p Progress) {
			ticks.Add(1)
			last.Store(p.Ops)
		},
	}, func(int) Op { return func(int) error { return nil } })
	if err != nil {
		t.Fatal(err)
	}
	if ticks.Load() == 0 || last.Load() <= 0 || last.Load() > res.Ops {
		t.Errorf("%d ticks, last count %d of %d ops; want ticks with a count that grows to at most the total", ticks.Load(), last.Load(), res.Ops)
	}
}

// TestTickHandOver checks that the recorders workers hand to the ticker
// for the p99 so far lose no latency and keep each worker's slowest: one
// slow operation early on, long handed over by the end, must be in the
// Result, every operation must be counted once, and the ticks must have
// seen a p99.
func TestTickHandOver(t *testing.T) {
	const slow = 30 * time.Millisecond
	for _, c := range []Config{
		{Workers: 2, Duration: 5 * TickEvery},
		{Workers: 2, Duration: 5 * TickEvery, Rate: 4000},
	} {
		var p99 atomic.Int64
		c.Tick = func(p Progress) { p99.Store(int64(p.P99)) }
		res, err := Run(context.Background(), c, func(w int) Op {
			return func(i int) error {
				if w == 0 && i == 1 {
					time.Sleep(slow)
				}
				return nil
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Latency.Count(); got != res.Ops {
			t.Errorf("rate %g: %d latencies recorded for %d operations", c.Rate, got, res.Ops)
		}
		if c.Rate > 0 {
			if got := res.Uncorrected.Count(); got != res.Ops {
				t.Errorf("rate %g: %d uncorrected latencies for %d operations", c.Rate, got, res.Ops)
			}
		}
		if m := res.Latency.Max(); m < slow {
			t.Errorf("rate %g: max %v, want the %v operation kept", c.Rate, m, slow)
		}
		if res.AllPaused <= 0 {
			t.Errorf("rate %g: AllPaused %v", c.Rate, res.AllPaused)
		}
		if p99.Load() <= 0 {
			t.Errorf("rate %g: no tick saw a p99", c.Rate)
		}
	}
}
