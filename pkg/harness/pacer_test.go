package harness

import (
	"context"
	"math"
	"testing"
	"time"
)

// due is when worker w of workers is to start its k-th operation (k from
// 0) for rate operations per second in all: how paced reads the schedule.
func due(w, k, workers int, rate float64) time.Duration {
	return dueAt(int64(w)+int64(k)*int64(workers), rate)
}

func TestDue(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		w, k, workers int
		rate          float64
		want          time.Duration
	}{
		{0, 0, 1, 1000, 0},              // the first operation is due at the start
		{0, 1, 1, 1000, ms},             // 1000/s, one worker: one per ms
		{0, 5, 1, 1000, 5 * ms},         // ... the 6th at 5ms
		{1, 0, 4, 1000, ms},             // 4 workers take turns: worker 1 goes second
		{3, 2, 4, 1000, 11 * ms},        // worker 3's 3rd is the 12th overall (3 + 2*4)
		{0, 1000, 2, 2000, time.Second}, // 2000/s over 2 workers: each at 1000/s
		{0, 1, 1, 3, time.Second / 3},   // rates that do not divide a second
	}
	for _, tt := range tests {
		if got := due(tt.w, tt.k, tt.workers, tt.rate); got != tt.want {
			t.Errorf("due(%d, %d, %d, %g) = %s; want %s", tt.w, tt.k, tt.workers, tt.rate, got, tt.want)
		}
	}
}

func TestOpenLoopCountsAndRate(t *testing.T) {
	res, err := Run(context.Background(), Config{Workers: 2, Ops: 200, Rate: 2000}, func(int) Op {
		return func(int) (Kind, error) { return 0, nil }
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops != 200 || res.Uncorrected == nil || res.Uncorrected.Count() != 200 || res.Latency.Count() != 200 {
		t.Fatalf("ops %d, corrected %d, uncorrected %v; want 200 of each", res.Ops, res.Latency.Count(), res.Uncorrected)
	}
	// The last operation is due 99.5ms after the start, and a late first
	// start only shortens the measured window: the run cannot end sooner
	// than its first start plus that, so Duration is under 99.5ms only by
	// the first start's lateness. What always holds: the rate achieved
	// is not above the target by more than that lateness allows, and no
	// operation ran before it was due (corrected >= uncorrected).
	if res.Latency.Summary().Min < res.Uncorrected.Summary().Min {
		t.Errorf("corrected min %s below uncorrected min %s: an operation started before it was due", res.Latency.Summary().Min, res.Uncorrected.Summary().Min)
	}
}

// TestOpenLoopShowsAStall: an operation that stalls for 200ms in a 1000/s
// open loop delays every operation due during the stall; measured from when
// they were due, about rate x (stall - 100ms) = 100 of them exceed 100ms and
// the worst is about the stall. Measured from when they started (the closed
// loop's view), only the stalled one does.
func TestOpenLoopShowsAStall(t *testing.T) {
	const stall = 200 * time.Millisecond
	// slept is how long the stall really took: on a busy machine a sleep
	// overruns, and every extra millisecond makes one more operation late.
	var slept time.Duration
	res, err := Run(context.Background(), Config{Workers: 1, Ops: 600, Rate: 1000}, func(int) Op {
		return func(i int) (Kind, error) {
			if i == 100 {
				start := time.Now()
				time.Sleep(stall) // the component under test hangs once
				slept = time.Since(start)
			}
			return 0, nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	above := func(rec interface{ Percentile(float64) time.Duration }, total int64) int64 {
		// Count values over 100ms by bisecting the percentile curve.
		n := int64(0)
		for p := 0; p < int(total); p++ {
			if rec.Percentile(100*float64(p+1)/float64(total)) > 100*time.Millisecond {
				n++
			}
		}
		return n
	}
	corr := above(res.Latency, res.Latency.Count())
	unc := above(res.Uncorrected, res.Uncorrected.Count())
	if max := res.Latency.Max(); max < stall || max > slept+150*time.Millisecond {
		t.Errorf("corrected max %s; want about the %s stall", max, slept)
	}
	// The operations due in the stall's first slept-100ms wait over 100ms.
	if want := int64((slept - 100*time.Millisecond) / time.Millisecond); corr < want-30 || corr > want+30 {
		t.Errorf("%d operations above 100ms measured from when due; want about %d (a %s stall at 1000/s)", corr, want, slept)
	}
	if unc < 1 || unc > 5 {
		t.Errorf("%d operations above 100ms measured from their start; want the one that stalled", unc)
	}
}

// TestOpenLoopStopsWhileWaiting: a slow schedule (one operation every 10s)
// still stops promptly when cancelled.
func TestOpenLoopStopsWhileWaiting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *Result)
	go func() {
		res, _ := Run(ctx, Config{Workers: 1, Ops: 10, Rate: 0.1}, func(int) Op { return func(int) (Kind, error) { return 0, nil } })
		done <- res
	}()
	cancel()
	select {
	case res := <-done:
		if !res.Interrupted {
			t.Error("Interrupted = false")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("an open loop waiting 10s for its next operation did not stop within 5s of cancellation")
	}
}

func TestScheduleBefore(t *testing.T) {
	ms := time.Millisecond
	rate := func(r float64) schedule { return Config{Rate: r}.schedule() }
	ramp := Config{Stages: Stages{{200 * ms, 2000}}}.schedule() // 0 -> 2000/s: 200 operations
	tests := []struct {
		name  string
		sched schedule
		d     time.Duration
		want  int64
	}{
		{"1000/s over 1s", rate(1000), time.Second, 1000},                    // due at 0, 1ms, ... 999ms
		{"1000/s, just past the 2nd", rate(1000), ms + 1, 2},                 // 0 and 1ms are before 1ms+1ns
		{"1000/s, no time", rate(1000), 0, 0},                                // not even the first, due at 0
		{"1e9/s over 2s", rate(1e9), 2 * time.Second, 2_000_000_000},         // the rate Validate allows at most
		{"0.1/s over 2s", rate(0.1), 2 * time.Second, 1},                     // only the first, due at 0
		{"ramp, whole", ramp, 200 * ms, 200},                                 // the stages' count
		{"ramp, past its end", ramp, time.Hour, 200},                         // the schedule ends first
		{"ramp, first 101ms", ramp, 101 * ms, 52},                            // 5000 t^2 operations by t: 51.005
		{"ramp, first 1ms", ramp, ms, 1},                                     // 0.005 by then: only the first
		{"1e9/s for ever", rate(1e9), math.MaxInt64, 1 << 61},                // capped, not overflowed
		{"3/s over 1s", rate(3), time.Second, 3},                             // 0, 1/3, 2/3
		{"3/s, just short of the 4th", rate(3), time.Second - 1, 3},          // the 4th is due at 1s
		{"3/s, at the 3rd", rate(3), time.Second / 3 * 2, 2},                 // due at d is not before it
		{"3/s, a nanosecond after the 3rd", rate(3), time.Second/3*2 + 1, 3}, // 666.666666ms < d
	}
	for _, tt := range tests {
		if got := tt.sched.before(tt.d); got != tt.want {
			t.Errorf("%s: before(%s) = %d; want %d", tt.name, tt.d, got, tt.want)
		}
	}
}

// TestOpenLoopStopsAtItsDeadlineWhenBehind: a generator that cannot keep up
// (operations of a millisecond at a million a second, a thousand times
// what two workers can do) stops at the deadline, not when it has worked
// through its backlog (100 seconds of it), and says how much it issued of
// what was scheduled.
func TestOpenLoopStopsAtItsDeadlineWhenBehind(t *testing.T) {
	const d = 100 * time.Millisecond
	start := time.Now()
	res, err := Run(context.Background(), Config{Workers: 2, Rate: 1e6, Duration: d}, func(int) Op {
		return func(int) (Kind, error) { time.Sleep(time.Millisecond); return 0, nil }
	})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if took > d+2*time.Second {
		t.Errorf("Run took %s with --duration %s; want it to stop within 2s of the deadline", took, d)
	}
	if res.Scheduled != 100_000 {
		t.Errorf("Scheduled = %d; want 100000 (1e6/s over %s)", res.Scheduled, d)
	}
	if n := res.Ops + res.Errors; n < 1 || n >= res.Scheduled {
		t.Errorf("issued %d of %d scheduled; want some, far from all", n, res.Scheduled)
	}
	if res.Interrupted {
		t.Error("Interrupted = true; nothing cancelled the run")
	}
	if res.Duration > took {
		t.Errorf("Duration = %s, over the %s Run took", res.Duration, took)
	}
}

// TestOpenLoopOnScheduleIssuesAll: a generator that keeps up issues every
// operation its schedule holds, whether bound by time or by count.
func TestOpenLoopOnScheduleIssuesAll(t *testing.T) {
	noop := func(int) Op { return func(int) (Kind, error) { return 0, nil } }
	for _, c := range []Config{
		{Workers: 2, Rate: 2000, Duration: 100 * time.Millisecond}, // due at 0, 0.5ms, ... 99.5ms
		{Workers: 2, Rate: 2000, Ops: 150},
	} {
		res, err := Run(context.Background(), c, noop)
		if err != nil {
			t.Fatal(err)
		}
		want := int64(200)
		if c.Ops > 0 {
			want = int64(c.Ops)
		}
		if res.Scheduled != want || res.Ops != want {
			t.Errorf("%+v: Scheduled %d, Ops %d; want %d of each", c, res.Scheduled, res.Ops, want)
		}
	}
}

// TestOpenLoopLastsItsWindow: at a low rate the phase lasts its window,
// idle waits included, not just its few operations: throughput is the
// rate, not the inverse of one operation's time.
func TestOpenLoopLastsItsWindow(t *testing.T) {
	const d = 300 * time.Millisecond
	res, err := Run(context.Background(), Config{Workers: 1, Rate: 5, Duration: d}, func(int) Op {
		return func(int) (Kind, error) { return 0, nil }
	})
	if err != nil {
		t.Fatal(err)
	}
	// Due at 0 and 200ms: two operations in a 300ms window.
	if res.Ops != 2 || res.Duration < d-time.Millisecond {
		t.Errorf("%d operations over %s; want 2 over the %s window", res.Ops, res.Duration, d)
	}
	if tp := res.Throughput(); tp > 1.001*2/d.Seconds() {
		t.Errorf("throughput %.1f ops/s; want at most %.1f", tp, 2/d.Seconds())
	}
}
