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
		return func(i int) (Kind, error) {
			calls[w] = append(calls[w], i)
			if i%100 == 99 {
				return 0, errors.New("boom")
			}
			return 0, nil
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
		return func(int) (Kind, error) { n.Add(1); return 0, nil }
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
	if res.Scheduled != 0 {
		t.Errorf("Scheduled = %d in closed loop; want 0", res.Scheduled)
	}
}

func TestRunCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	var once atomic.Bool
	done := make(chan *Result)
	go func() {
		res, _ := Run(ctx, Config{Workers: 2, Duration: time.Hour}, func(int) Op {
			return func(int) (Kind, error) {
				if once.CompareAndSwap(false, true) {
					close(started)
				}
				return 0, nil
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
		if _, err := Run(context.Background(), c, func(int) Op { return func(int) (Kind, error) { return 0, nil } }); err == nil {
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
	}, func(int) Op { return func(int) (Kind, error) { return 0, nil } })
	if err != nil {
		t.Fatal(err)
	}
	if n := after.Mallocs - before.Mallocs; n > 100 {
		t.Errorf("measured phase of 200000 ops allocated %d times; want a fixed handful", n)
	}
}

// TestTimedPhaseDoesNotAllocate: a time-bound phase of 25 intervals
// allocates a fixed handful, not per interval: the collector made its
// accumulators before, so no garbage collection runs beside the workers.
func TestTimedPhaseDoesNotAllocate(t *testing.T) {
	var before, after runtime.MemStats
	res, err := Run(context.Background(), Config{
		Workers: 2, Duration: 500 * time.Millisecond, Interval: 20 * time.Millisecond, Kinds: []string{"a", "b"},
		BeforeMeasure: func() { runtime.ReadMemStats(&before) },
		AfterMeasure:  func() { runtime.ReadMemStats(&after) },
	}, func(int) Op { return func(i int) (Kind, error) { return Kind(i % 2), nil } })
	if err != nil {
		t.Fatal(err)
	}
	if n := after.Mallocs - before.Mallocs; n > 100 || after.NumGC != before.NumGC {
		t.Errorf("measured phase of %d intervals allocated %d times, %d GC cycles; want a fixed handful, none", len(res.Intervals), n, after.NumGC-before.NumGC)
	}
}

// TestMemoryFlatInOps: a 10-million-operation run allocates no more during
// its measured phase than a 100-thousand-operation one: nothing is kept per
// operation, histograms are fixed-size. (What is kept per interval is
// allocated by the collector as intervals close: one interval here.)
func TestMemoryFlatInOps(t *testing.T) {
	if testing.Short() {
		t.Skip("10 million operations")
	}
	alloc := func(ops int) uint64 {
		var before, after runtime.MemStats
		_, err := Run(context.Background(), Config{
			Workers: 2, Ops: ops, Interval: time.Hour,
			BeforeMeasure: func() { runtime.ReadMemStats(&before) },
			AfterMeasure:  func() { runtime.ReadMemStats(&after) },
		}, func(int) Op { return func(int) (Kind, error) { return 0, nil } })
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
	}, func(int) Op { return func(int) (Kind, error) { return 0, nil } })
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
			return func(i int) (Kind, error) {
				if w == 0 && i == 1 {
					time.Sleep(slow)
				}
				return 0, nil
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
		if p99.Load() <= 0 {
			t.Errorf("rate %g: no tick saw a p99", c.Rate)
		}
	}
}

// TestKinds checks that each kind of operation gets its own histogram and
// counts, and that together they are the whole.
func TestKinds(t *testing.T) {
	res, err := Run(context.Background(), Config{Workers: 3, Ops: 3000, Kinds: []string{"read", "write"}}, func(int) Op {
		return func(i int) (Kind, error) {
			switch {
			case i%10 == 9:
				return 1, errors.New("write failed") // every 10th: a failed write
			case i%5 == 4:
				return 1, nil // a write
			}
			return 0, nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Kinds) != 2 || res.Kinds[0].Name != "read" || res.Kinds[1].Name != "write" {
		t.Fatalf("kinds = %+v; want read, write", res.Kinds)
	}
	r, w := res.Kinds[0], res.Kinds[1]
	// Per worker 1000 calls: 800 reads, 100 writes, 100 failed writes.
	if r.Ops != 2400 || r.Errors != 0 || w.Ops != 300 || w.Errors != 300 {
		t.Errorf("read %d ok %d failed, write %d ok %d failed; want 2400/0, 300/300", r.Ops, r.Errors, w.Ops, w.Errors)
	}
	if r.Latency.Count() != r.Ops || w.Latency.Count() != w.Ops || res.Latency.Count() != res.Ops || res.Ops != 2700 {
		t.Errorf("histogram counts read %d, write %d, all %d of %d ops", r.Latency.Count(), w.Latency.Count(), res.Latency.Count(), res.Ops)
	}
}

// TestIntervals checks that the intervals cover the phase without gaps,
// hold every operation once, and put an operation in the interval it ended
// in.
func TestIntervals(t *testing.T) {
	const every = 20 * time.Millisecond
	for _, c := range []Config{
		{Workers: 2, Duration: 5 * every, Interval: every},
		{Workers: 2, Duration: 5 * every, Interval: every, Rate: 20000},
		{Workers: 2, Ops: 4000, Interval: every, Kinds: []string{"a", "b"}},
	} {
		res, err := Run(context.Background(), c, func(w int) Op {
			return func(i int) (Kind, error) {
				if w == 0 && i == 50 {
					time.Sleep(3 * every) // one slow operation
				}
				if i%7 == 6 {
					return Kind(i % max(1, len(c.Kinds))), errors.New("failed")
				}
				return Kind(i % max(1, len(c.Kinds))), nil
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		var ops, errs, hist int64
		slowest, at := time.Duration(0), -1
		for i, iv := range res.Intervals {
			if iv.Start != time.Duration(i)*every {
				t.Fatalf("%+v: interval %d starts at %s; want %s", c, i, iv.Start, time.Duration(i)*every)
			}
			ops, errs, hist = ops+iv.Ops, errs+iv.Errors, hist+iv.Latency.Count()
			if m := iv.Latency.Recorder().Max(); m > slowest {
				slowest, at = m, i
			}
			if len(iv.Kinds) != len(c.Kinds) && len(c.Kinds) > 1 {
				t.Errorf("%+v: interval %d has %d kinds", c, i, len(iv.Kinds))
			}
		}
		if ops != res.Ops || errs != res.Errors || hist != res.Ops {
			t.Errorf("%+v: intervals hold %d ops (%d in histograms), %d errors; the run %d, %d", c, ops, hist, errs, res.Ops, res.Errors)
		}
		// The slow operation ended at least 3 intervals in.
		if slowest < 3*every || at < 3 {
			t.Errorf("%+v: slowest %s in interval %d; want >= %s in interval >= 3", c, slowest, at, 3*every)
		}
		if n := len(res.Intervals); n < 4 || res.Intervals[n-1].Length <= 0 || res.Intervals[n-1].Length > every {
			t.Errorf("%+v: %d intervals, last %+v", c, n, res.Intervals[n-1])
		}
	}
}

func TestIntervalFor(t *testing.T) {
	tests := []struct{ d, want time.Duration }{
		{0, MinInterval},                                         // count-bound: unknown length
		{time.Second, MinInterval},                               // 10 intervals
		{time.Minute, 600 * time.Millisecond},                    // 100 of them
		{time.Hour + time.Millisecond, 36001 * time.Millisecond}, // rounded up to a ms
	}
	for _, tt := range tests {
		if got := IntervalFor(tt.d); got != tt.want {
			t.Errorf("IntervalFor(%s) = %s; want %s", tt.d, got, tt.want)
		}
	}
}

// TestBegan: a Result says when its measured phase began on the wall
// clock, after the warmup, so that its intervals can be placed in time.
func TestBegan(t *testing.T) {
	before := time.Now()
	res, err := Run(context.Background(), Config{Workers: 2, Ops: 100, WarmupOps: 10}, func(int) Op {
		return func(int) (Kind, error) { return 0, nil }
	})
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if res.Began.Before(before) || res.Began.After(after) {
		t.Errorf("Began %s; want between %s and %s", res.Began, before, after)
	}
}

// TestTickTotals: a tick is told the latencies and errors folded so far,
// every kind's part of them, and how much of the phase they cover; what it
// is told only grows, never past what the Result holds, and a tick that
// reads all of it makes the collector allocate nothing while the phase
// runs.
func TestTickTotals(t *testing.T) {
	errOdd := errors.New("odd")
	var before, after runtime.MemStats
	type seen struct {
		ok, errs, through int64
		kindsOK, kindsErr int64
		kinds             int
	}
	// Written by the collector's goroutine, read after Run returns; made
	// beforehand so that the tick allocates nothing.
	ticks := make([]seen, 0, 1000)
	res, err := Run(context.Background(), Config{
		Workers: 2, Duration: 6 * TickEvery, Interval: 50 * time.Millisecond, Kinds: []string{"read", "write"},
		BeforeMeasure: func() { runtime.ReadMemStats(&before) },
		AfterMeasure:  func() { runtime.ReadMemStats(&after) },
		Tick: func(p Progress) {
			s := seen{ok: p.Latency.Count(), errs: p.Errors, through: int64(p.Through), kinds: len(p.Kinds)}
			for _, k := range p.Kinds {
				s.kindsOK += k.Latency.Count()
				s.kindsErr += k.Errors
			}
			if len(ticks) < cap(ticks) {
				ticks = append(ticks, s)
			}
		},
	}, func(int) Op {
		return func(i int) (Kind, error) {
			if i%10 == 9 {
				return 1, errOdd
			}
			return Kind(i % 2), nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := after.Mallocs - before.Mallocs; n > 100 {
		t.Errorf("measured phase with a reading tick allocated %d times; want a fixed handful", n)
	}
	if len(ticks) == 0 {
		t.Fatal("no tick")
	}
	var prev seen
	for i, s := range ticks {
		if s.kinds != 2 || s.kindsOK != s.ok || s.kindsErr != s.errs {
			t.Errorf("tick %d: %d kinds holding %d ok and %d errors; want 2 holding %d and %d", i, s.kinds, s.kindsOK, s.kindsErr, s.ok, s.errs)
		}
		if s.ok < prev.ok || s.errs < prev.errs || s.through < prev.through {
			t.Errorf("tick %d: %+v after %+v; want counts that only grow", i, s, prev)
		}
		if s.through%int64(50*time.Millisecond) != 0 {
			t.Errorf("tick %d: through %v; want whole intervals", i, time.Duration(s.through))
		}
		prev = s
	}
	if prev.ok == 0 || prev.ok > res.Ops || prev.errs > res.Errors {
		t.Errorf("last tick: %d ok, %d errors; want some, at most the result's %d and %d", prev.ok, prev.errs, res.Ops, res.Errors)
	}
}
