// Package harness drives an operation from many workers, in a closed loop or
// on an open-loop schedule, for a count or a duration, after an unrecorded
// warmup, and records every latency: per operation kind (a read, a write),
// and per interval of the measured phase.
//
// The model: each worker owns an Op and a chunk of latency.Recorders, one
// per kind. Workers wait on a start barrier, then loop. Closed loop: call
// the Op, read the monotonic clock once, record the time since the previous
// read (the end of one operation is the start of the next) under the kind
// the Op returned. Open loop: wait until the worker's next operation is due
// on a fixed schedule (constant rate or ramping stages), call the Op, and
// record from when it was due (and, apart, from when it started). Workers
// stop at their share of the count, at the deadline, or at the schedule's
// end. The deadline holds in open loop too: workers that fell behind do not
// start, after it, the operations that were due before it (see overrun),
// and the Result says how many were scheduled.
//
// The measured phase is cut into intervals (Interval long, from the phase's
// start). When an operation ends past the current interval, its worker
// hands its filled chunk to the collector goroutine in exchange for an
// empty one (two atomic pointers, one token passing back and forth) before
// recording it, so a chunk holds the operations that ended in one interval.
// The collector merges chunks into per-interval histograms and running
// totals, encodes each interval once every worker has moved past it, and
// calls Tick; it never reads a histogram a worker is writing. Nothing on a
// worker's path locks, allocates or writes memory another worker reads; the
// shared words are a stop flag written once, on cancellation, and each
// worker's hand-over words, on a cache line of their own.
//
// What the measured phase cost the process (CPU time, heap allocations,
// garbage collection: package cost) is read twice, once every worker is
// made and waiting to be released and once the last one has ended, and
// never by the workers themselves.
//
// A panic in an Op is recovered on its worker's goroutine, where nothing
// else could: the other workers stop, and Run returns it as a *PanicError.
package harness

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rustci/rustci-perf/pkg/cost"
	"github.com/rustci/rustci-perf/pkg/latency"
)

// Kind says which kind of operation an Op performed (a read, a write), as
// an index into Config.Kinds; 0 when the run has one kind.
type Kind uint8

// MaxKinds is how many kinds of operation one run can tell apart.
const MaxKinds = 4

// Op performs one operation and says which kind it was. i counts the
// worker's calls from 0, through the warmup and then the measured phase,
// so a workload can map it to a key. An Op is called by one goroutine only.
type Op func(i int) (Kind, error)

// Config says how much load to apply and how.
type Config struct {
	// Workers is the number of goroutines, each calling its own Op.
	Workers int
	// Ops is the number of measured operations in all, split across workers
	// (the remainder goes one each to the first workers). Used when Duration
	// is zero.
	Ops int
	// Duration bounds the measured phase by time instead of by count.
	Duration time.Duration
	// Rate, when not zero, makes the measured phase open-loop: operations
	// are due at fixed times, Rate per second in all (the j-th at j/Rate,
	// dealt to the workers in turn), and each latency is measured from
	// when the operation was due, so a stall shows in every operation
	// that should have started during it. Zero keeps the closed loop,
	// where each worker starts an operation when its previous one ends.
	// The warmup is always closed-loop.
	Rate float64
	// Stages, instead of Rate, ramp the open-loop target rate (see
	// Stages); the measured phase lasts as long as they do.
	Stages Stages
	// WarmupOps and WarmupDuration bound an unrecorded phase run before the
	// measured one; it is excluded from every figure of the Result.
	WarmupOps      int
	WarmupDuration time.Duration
	// Kinds names the kinds of operation the Ops return ("read", "write"),
	// at most MaxKinds; each gets its own latency histogram. Empty: one
	// kind, not broken out.
	Kinds []string
	// Interval is the length of the intervals the measured phase is cut
	// into; zero chooses one (see IntervalFor).
	Interval time.Duration
	// Tick, when set, is called every TickEvery while the measured phase
	// runs, with its Progress.
	Tick func(Progress)
	// BeforeMeasure and AfterMeasure, when set, run on the coordinating
	// goroutine just before workers are released into the measured phase and
	// just after the last one finished: outside the timed window, with no
	// harness allocation in between, so a scenario can read memory statistics.
	BeforeMeasure, AfterMeasure func()
	// Observe, when set, is called just before BeforeMeasure, and the
	// function it returns just after AfterMeasure: to profile the measured
	// phase (package profile) with nothing else in it, and so that what
	// the profiler holds is there for both of a scenario's memory readings.
	Observe func() (end func())
}

// Progress is what Tick is told while the measured phase runs. Workers
// hand over what they did at each interval's end, so it lags them by up to
// an interval.
type Progress struct {
	// Elapsed is the time since the measured phase began.
	Elapsed time.Duration
	// Ops is the number of measured operations done, failed ones included.
	Ops int64
	// P99 is the 99th percentile of the successful operations' latencies
	// handed over so far (from when due, in the open loop); 0 before any.
	P99 time.Duration
	// Through is how much of the measured phase, from its start, Latency
	// and Errors cover: the whole intervals the collector has folded into
	// its running totals (0 before the first). It lags Elapsed by one to
	// two intervals; operations that ended after it are in Ops only.
	Through time.Duration
	// Latency holds the latencies of the successful operations that ended
	// before Through, every kind merged (the histogram P99 is read from),
	// and Errors counts the failed ones. Latency is the collector's own:
	// valid only during the call, to be read or copied (Recorder.Merge),
	// never kept or written.
	Latency *latency.Recorder
	Errors  int64
	// Kinds, when the run mixes kinds of operation, are each kind's part
	// of Latency and Errors, in Config.Kinds order; nil otherwise. The
	// slice and its histograms are the collector's, as Latency is.
	Kinds []KindProgress
	// Counters are the scenario's own counts over the measured phase so
	// far (l1_hits, allowed), named as its report names them; the harness
	// sets none: a scenario that can read its component's counters from
	// another goroutine while it runs adds them to the Progress its Tick
	// passes on. Valid only during the call.
	Counters []Counter
}

// KindProgress is one kind of operation's part of a Progress.
type KindProgress struct {
	Name    string
	Latency *latency.Recorder
	Errors  int64
}

// Counter is a count a scenario reads while it runs (Progress.Counters).
type Counter struct {
	Name  string
	Value int64
}

// Validate reports the first thing wrong with c.
func (c Config) Validate() error {
	switch {
	case c.Workers < 1:
		return fmt.Errorf("concurrency %d: want at least 1", c.Workers)
	case c.Duration < 0:
		return fmt.Errorf("duration %s: want a positive duration", c.Duration)
	case c.Duration == 0 && c.Ops < 1 && len(c.Stages) == 0:
		return fmt.Errorf("ops %d: want at least 1 (or a duration)", c.Ops)
	case c.WarmupOps < 0:
		return fmt.Errorf("warmup %d: want 0 or more operations", c.WarmupOps)
	case c.WarmupDuration < 0:
		return fmt.Errorf("warmup %s: want a positive duration", c.WarmupDuration)
	case !(c.Rate >= 0 && c.Rate <= 1e9):
		return fmt.Errorf("rate %g: want 0 (closed loop) to 1e9 operations per second", c.Rate)
	case len(c.Stages) > 0 && c.Rate > 0:
		return errors.New("rate and stages: give one")
	case len(c.Stages) > 0 && c.Stages.Count() < 1:
		return errors.New("stages schedule no operation")
	case len(c.Kinds) > MaxKinds:
		return fmt.Errorf("%d kinds of operation: at most %d", len(c.Kinds), MaxKinds)
	case c.Interval < 0:
		return fmt.Errorf("interval %s: want a positive duration", c.Interval)
	}
	return nil
}

// MinInterval is the shortest interval IntervalFor chooses; MaxIntervals
// how many it aims for at most in a run of known length.
const (
	MinInterval  = 100 * time.Millisecond
	MaxIntervals = 100
)

// IntervalFor returns the interval length for a measured phase of length
// d (0 when unknown, as in a count-bound run): MinInterval, or d /
// MaxIntervals rounded up to a millisecond when that is longer, so a long
// run keeps about MaxIntervals of them.
func IntervalFor(d time.Duration) time.Duration {
	i := (d/MaxIntervals + time.Millisecond - 1).Truncate(time.Millisecond)
	return max(MinInterval, i)
}

// paddedFlag is an atomic.Bool alone on its cache line.
type paddedFlag struct {
	_ [64]byte
	atomic.Bool
	_ [60]byte
}

// Share returns how many of total operations worker w of workers performs:
// total/workers, plus one for the first total%workers workers, so nothing is
// dropped.
func Share(total, workers, w int) int {
	n := total / workers
	if w < total%workers {
		n++
	}
	return n
}

// Run applies the load described by c, calling newOp once per worker (before
// any clock starts) to get that worker's Op. It returns an error when c is
// invalid, or when an Op panicked (a *PanicError: the other workers stop,
// and what ran is not reported); operation errors are counted in the
// Result.
func Run(ctx context.Context, c Config, newOp func(worker int) Op) (*Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if newOp == nil {
		return nil, errors.New("harness: no operation")
	}
	kinds := max(1, len(c.Kinds))
	planned := c.Duration
	if len(c.Stages) > 0 {
		planned = c.Stages.Total()
	}
	every := c.Interval
	if every == 0 {
		every = IntervalFor(planned)
	}
	ws := make([]*worker, c.Workers)
	for i := range ws {
		ws[i] = &worker{op: newOp(i), errRec: latency.NewRecorder(), every: every, cur: newChunk(kinds)}
		if c.Rate > 0 || len(c.Stages) > 0 {
			ws[i].unc = latency.NewRecorder()
		}
	}

	// stop is the one word workers share. It is written once, when ctx ends;
	// until then every worker only reads it, so its cache line stays shared
	// and clean in every core's cache, provided nothing written lives on
	// it: hence the padding (a bare atomic.Bool is a tiny allocation that
	// can share its line with anything).
	stop := &new(paddedFlag).Bool
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			stop.Store(true)
		case <-done:
		}
	}()

	res := &Result{IntervalLength: every}
	if c.WarmupOps > 0 || c.WarmupDuration > 0 {
		phase(ws, c.WarmupOps, c.WarmupDuration, nil, stop, false)
		if err := panicked(ws); err != nil {
			return nil, err
		}
		for _, w := range ws {
			res.WarmupOps += int64(w.next)
		}
	}
	if cut(ws) {
		res.Interrupted = true
		res.Latency, res.ErrorLatency = latency.NewRecorder(), latency.NewRecorder()
		return res, nil
	}

	// The collector allocates what it needs, and starts, before
	// BeforeMeasure, so that
	// a scenario reading the heap there and after the phase sees only its
	// component's growth.
	col := newCollector(ws, kinds, c.Kinds, every, planned, c.Tick)
	// As testing.B does before a benchmark: the garbage of the setup, the
	// warmup and whatever ran before is collected now, not by a GC cycle
	// during the measured phase that would take a CPU from the workers.
	runtime.GC()
	go col.run()
	end := func() {}
	if c.Observe != nil {
		end = c.Observe()
	}
	if c.BeforeMeasure != nil {
		c.BeforeMeasure()
	}
	sched := c.schedule()
	ops, dur := c.Ops, c.Duration
	if len(c.Stages) > 0 {
		ops, dur = 0, c.Stages.Total()
	}
	res.Began, res.Cost = phase(ws, ops, dur, sched, stop, true)
	// The collector stops before AfterMeasure and finishes after it, so
	// that it allocates nothing while a scenario reads the heap.
	col.stop()
	if err := panicked(ws); err != nil {
		return nil, err
	}
	if c.AfterMeasure != nil {
		c.AfterMeasure()
	}
	end()
	col.finish(res, c.Kinds)

	res.Interrupted = cut(ws)
	res.ErrorLatency, res.Uncorrected, res.Rate = ws[0].errRec, ws[0].unc, c.Rate
	if sched != nil {
		res.Scheduled = int64(ops)
		if dur > 0 {
			res.Scheduled = sched.before(dur)
		}
	}
	if len(c.Stages) > 0 {
		res.Rate = c.Stages.Count() / c.Stages.Total().Seconds()
	}
	var first, last, firstEnd, lastStart time.Duration
	var any bool
	for i, w := range ws {
		if i > 0 {
			res.ErrorLatency.Merge(w.errRec)
			if w.unc != nil {
				res.Uncorrected.Merge(w.unc)
			}
		}
		res.Ops += w.ok
		res.Errors += w.errs
		if res.FirstError == nil {
			res.FirstError = w.firstErr
		}
		if !w.ran {
			continue
		}
		if !any || w.first < first {
			first = w.first
		}
		if !any || w.last > last {
			last = w.last
		}
		if !any || w.firstEnd < firstEnd {
			firstEnd = w.firstEnd
		}
		if !any || w.lastStart > lastStart {
			lastStart = w.lastStart
		}
		any = true
	}
	res.Duration = last - first
	res.Inner = max(0, lastStart-firstEnd)
	res.Issued = max(0, lastStart-first)
	// Open loop: the load was offered over the schedule's window, its idle
	// waits included. A phase whose last operation ended before the window
	// did (one operation at --rate 1 in --duration 1s) lasted the window,
	// not that operation's microseconds.
	if sched != nil && !res.Interrupted && any {
		window := dur
		if dur == 0 && res.Rate > 0 {
			window = time.Duration(float64(ops) / res.Rate * float64(time.Second))
		}
		res.Duration = max(res.Duration, window-first)
	}
	if n := len(res.Intervals); n > 0 {
		// The last interval ends with the phase.
		iv := &res.Intervals[n-1]
		iv.Length = max(0, min(iv.Length, last-iv.Start))
	}
	return res, nil
}

// phase runs one phase on every worker and waits for them. With dur > 0 it is
// time-bound (every worker stops at the same deadline), else each worker runs
// its Share of ops; with a schedule it is open-loop. record says whether
// latencies are recorded (the measured phase) or not (warmup). It returns
// the time the workers were released, from which they time the phase,
// and, when latencies are recorded, what the phase cost the process,
// measured from when every worker is made and waiting to be released to
// when the last one has ended (nil for the warmup).
func phase(ws []*worker, ops int, dur time.Duration, sched schedule, stop *atomic.Bool, record bool) (time.Time, *cost.Usage) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	// base is written before start is closed and read by workers after it
	// is: the channel close orders the two.
	var base time.Time
	for i, w := range ws {
		n := -1
		if dur == 0 {
			n = Share(ops, len(ws), i)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A panic in the Op is recovered here, on the worker's own
			// goroutine (nothing else could), and stops the others.
			defer func() {
				if r := recover(); r != nil {
					w.panic = Recovered(r)
					stop.Store(true)
				}
			}()
			<-start
			if sched != nil {
				w.paced(base, i, len(ws), sched, n, dur, stop)
			} else {
				w.loop(base, n, dur, stop, record)
			}
			if record {
				w.final.Store(w.cur)
			}
		}()
	}
	var m *cost.Meter
	if record {
		m = cost.Start()
	}
	base = time.Now()
	close(start)
	wg.Wait()
	if m == nil {
		return base, nil
	}
	u := m.Stop()
	return base, &u
}

func cut(ws []*worker) bool {
	for _, w := range ws {
		if w.cut {
			return true
		}
	}
	return false
}
