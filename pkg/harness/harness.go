// Package harness drives an operation from many workers, in a closed loop or
// on an open-loop schedule, for a count or a duration, after an unrecorded
// warmup, and records every latency.
//
// The model: each worker owns an Op and latency.Recorders. Workers wait on a
// start barrier, then loop. Closed loop: call the Op, read the monotonic
// clock once, record the time since the previous read (the end of one
// operation is the start of the next). Open loop: wait until the worker's
// next operation is due on a fixed schedule (constant rate or ramping
// stages), call the Op, and record from when it was due (and, apart, from
// when it started). Workers stop at their share of the count, at the
// deadline, or at the schedule's end. Nothing on that path locks,
// allocates or writes memory another worker reads; the shared words are a
// stop flag written once, on cancellation, and each worker's progress
// words, written every 256 operations (or, open loop, after a sleep) on a
// cache line of its own and read by Tick. When Tick is set, a worker also
// hands its latency recorder over at those points, in exchange for an empty
// one, so that Tick can be told the p99 so far without reading a histogram
// that is being written. After every worker is done the recorders are
// merged into one Result.
package harness

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rustci/rustci-perf/pkg/latency"
)

// Op performs one operation. i counts the worker's calls from 0, through the
// warmup and then the measured phase, so a workload can map it to a key.
// An Op is called by one goroutine only.
type Op func(i int) error

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
	// are due at fixed times, Rate per second in all (see Due), and each
	// latency is measured from when the operation was due. Zero keeps the
	// closed loop, where each worker starts an operation when its previous
	// one ends. The warmup is always closed-loop.
	Rate float64
	// Stages, instead of Rate, ramp the open-loop target rate (see
	// Stages); the measured phase lasts as long as they do.
	Stages Stages
	// WarmupOps and WarmupDuration bound an unrecorded phase run before the
	// measured one; it is excluded from every figure of the Result.
	WarmupOps      int
	WarmupDuration time.Duration
	// Tick, when set, is called every TickEvery while the measured phase
	// runs, with its Progress.
	Tick func(Progress)
	// BeforeMeasure and AfterMeasure, when set, run on the coordinating
	// goroutine just before workers are released into the measured phase and
	// just after the last one finished: outside the timed window, with no
	// harness allocation in between, so a scenario can read memory statistics.
	BeforeMeasure, AfterMeasure func()
}

// Progress is what Tick is told while the measured phase runs. Workers
// publish every 256 operations (in the open loop also after a sleep), so
// it lags the workers a little.
type Progress struct {
	// Elapsed is the time since the measured phase began.
	Elapsed time.Duration
	// Ops is the number of measured operations done, failed ones included.
	Ops int64
	// P99 is the 99th percentile of the successful operations' latencies
	// handed over so far (from when due, in the open loop); 0 before any.
	P99 time.Duration
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
	}
	return nil
}

// Result is what one measured phase did.
type Result struct {
	// Ops is the number of measured operations that succeeded; Errors the
	// number that returned an error. Their latencies are in Latency and
	// ErrorLatency respectively, so an error path that is fast cannot make
	// the successful path look faster.
	Ops, Errors int64
	// FirstError is the first error any worker saw, if any.
	FirstError error
	// WarmupOps is the number of operations run in the warmup phase.
	WarmupOps int64
	// Duration is the measured wall time: from the start of the first
	// measured operation to the end of the last, on the monotonic clock.
	Duration time.Duration
	// Inner is the time from the end of the first operation to the start
	// of the last one (0 if they overlap): whatever an operation does at
	// some instant inside it, the first and last such instants are at
	// least Inner and at most Duration apart.
	Inner time.Duration
	// Latency holds every successful measured operation's latency.
	Latency *latency.Recorder
	// AllPaused bounds how long every worker can have been between
	// operations at once: twice the smallest, over workers that ran, of a
	// worker's slowest operation (a worker's gap between two consecutive
	// operation starts is at most twice its slowest). A component that
	// needs demand without pause can check it against this.
	AllPaused time.Duration
	// ErrorLatency holds the latencies of failed operations.
	ErrorLatency *latency.Recorder
	// Uncorrected, in open loop, holds the successful operations'
	// latencies from when they actually started rather than from when they
	// were due: the view that hides queueing, kept beside the corrected one
	// as wrk2 does. Nil in closed loop, where the two are the same.
	Uncorrected *latency.Recorder
	// Rate is the open-loop target (0 in closed loop); with stages, their
	// average: the operations they schedule over their length.
	Rate float64
	// Interrupted is true when the context ended the run early.
	Interrupted bool
}

// Throughput is successful operations per second of measured wall time.
func (r *Result) Throughput() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Duration.Seconds()
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

// worker is one goroutine's state. Its fields are written only by that
// goroutine until the WaitGroup says it is done.
type worker struct {
	op       Op
	unc      *latency.Recorder // open loop only
	next     int               // index of the next call to op
	rec      *latency.Recorder
	errRec   *latency.Recorder
	ok, errs int64
	firstErr error
	// first and last bound the worker's measured operations, as offsets from
	// the phase's base time; firstEnd is the end of its first operation and
	// lastStart the start of its last; ran is false when it ran none.
	first, last         time.Duration
	firstEnd, lastStart time.Duration
	ran                 bool
	// cut is set when the stop flag ended the worker's phase early.
	cut bool
	// handOver says whether the worker hands its recorder to Tick's
	// goroutine (only when there is a Tick).
	handOver bool
	// seenMax is the largest latency in the recorders handed over, kept
	// by the ticker's goroutine.
	seenMax time.Duration

	// pub publishes the measured operations done, for Tick. give and take
	// hand the latency recorder over, one token passing back and forth:
	// the ticker puts an empty recorder in give; at its next publication
	// the worker takes it, starts recording into it and puts the one it
	// filled in take; the ticker merges that, empties it and puts it back
	// in give. They sit between paddings so that no other worker's memory
	// shares their cache line: one writer and one occasional reader each.
	_    [64]byte
	pub  atomic.Int64
	give atomic.Pointer[latency.Recorder]
	take atomic.Pointer[latency.Recorder]
	_    [40]byte
}

// publish makes done visible to the ticker and, when asked to, swaps rec
// for the empty recorder the ticker left, returning the one to record into.
func (w *worker) publish(done int64, rec *latency.Recorder) *latency.Recorder {
	w.pub.Store(done)
	if w.handOver {
		if empty := w.give.Load(); empty != nil {
			w.give.Store(nil)
			w.take.Store(rec)
			return empty
		}
	}
	return rec
}

// Run applies the load described by c, calling newOp once per worker (before
// any clock starts) to get that worker's Op. It returns an error only when c
// is invalid; operation errors are counted in the Result.
func Run(ctx context.Context, c Config, newOp func(worker int) Op) (*Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if newOp == nil {
		return nil, errors.New("harness: no operation")
	}
	ws := make([]*worker, c.Workers)
	for i := range ws {
		ws[i] = &worker{op: newOp(i), rec: latency.NewRecorder(), errRec: latency.NewRecorder()}
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

	res := &Result{}
	if c.WarmupOps > 0 || c.WarmupDuration > 0 {
		phase(ws, c.WarmupOps, c.WarmupDuration, nil, stop, false)
		for _, w := range ws {
			res.WarmupOps += int64(w.next)
		}
	}
	if cut(ws) {
		res.Interrupted = true
		res.Latency, res.ErrorLatency = latency.NewRecorder(), latency.NewRecorder()
		return res, nil
	}

	if c.BeforeMeasure != nil {
		c.BeforeMeasure()
	}
	stopTick := func() *latency.Recorder { return nil }
	if c.Tick != nil {
		stopTick = ticker(ws, c.Tick)
	}
	sched := c.schedule()
	ops, dur := c.Ops, c.Duration
	if len(c.Stages) > 0 {
		ops, dur = 0, c.Stages.Total()
	}
	phase(ws, ops, dur, sched, stop, true)
	if c.AfterMeasure != nil {
		c.AfterMeasure()
	}
	handed := stopTick()

	res.Interrupted = cut(ws)
	// Each worker's slowest operation, read before the merge below folds
	// the recorders together.
	res.AllPaused = -1
	for _, w := range ws {
		if w.ran && w.ok+w.errs > 0 {
			m := 2 * max(w.rec.Max(), w.errRec.Max(), w.seenMax)
			if res.AllPaused < 0 || m < res.AllPaused {
				res.AllPaused = m
			}
		}
	}
	res.AllPaused = max(res.AllPaused, 0)
	res.Latency, res.ErrorLatency, res.Uncorrected, res.Rate = ws[0].rec, ws[0].errRec, ws[0].unc, c.Rate
	if len(c.Stages) > 0 {
		res.Rate = c.Stages.Count() / c.Stages.Total().Seconds()
	}
	if handed != nil {
		res.Latency.Merge(handed)
	}
	var first, last, firstEnd, lastStart time.Duration
	var any bool
	for i, w := range ws {
		if i > 0 {
			res.Latency.Merge(w.rec)
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
	return res, nil
}

// phase runs one phase on every worker and waits for them. With dur > 0 it is
// time-bound (every worker stops at the same deadline), else each worker runs
// its Share of ops; with a schedule it is open-loop. record says whether
// latencies are recorded (the measured phase) or not (warmup).
func phase(ws []*worker, ops int, dur time.Duration, sched schedule, stop *atomic.Bool, record bool) {
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
			<-start
			if sched != nil {
				w.paced(base, i, len(ws), sched, n, dur, stop)
			} else {
				w.loop(base, n, dur, stop, record)
			}
		}()
	}
	base = time.Now()
	close(start)
	wg.Wait()
}

// loop is the hot path. n < 0 means run until dur has passed since base.
//
// Subtleness ahead: every clock reading is an offset from one base on the
// monotonic clock, shared by all workers, so the first and last offsets of
// different workers can be compared to get the phase's wall time. Each
// latency is the difference of two consecutive readings, so one clock read
// per operation suffices (time.Since reads only the monotonic clock: about
// 35ns on the VMs this was measured on). The loop overhead between one Op
// returning and the next starting (a compare, a flag load, the record)
// falls inside the next operation's latency: tens of nanoseconds, stated in
// the README.
func (w *worker) loop(base time.Time, n int, dur time.Duration, stop *atomic.Bool, record bool) {
	if n == 0 {
		return
	}
	// The counters live in locals (registers) while the loop runs and are
	// stored into w once at the end: worker structs are small heap objects
	// that may share a cache line, and writing them per operation would
	// make workers contend for it.
	next, ok, errs := w.next, w.ok, w.errs
	rec, errRec := w.rec, w.errRec
	prev := time.Since(base)
	lastStart := prev
	if record {
		w.first, w.ran = prev, true
	}
	for k := 0; n < 0 || k < n; k++ {
		if stop.Load() {
			w.cut = true
			break
		}
		err := w.op(next)
		next++
		now := time.Since(base)
		if record {
			if k == 0 {
				w.firstEnd = now
			}
			lastStart = prev
			lat := now - prev
			if err != nil {
				errs++
				errRec.Record(lat)
				if w.firstErr == nil {
					w.firstErr = err
				}
			} else {
				ok++
				rec.Record(lat)
			}
		}
		prev = now
		if record && k&255 == 255 {
			rec = w.publish(int64(k+1), rec)
		}
		if dur > 0 && now >= dur {
			break
		}
	}
	w.next, w.ok, w.errs, w.rec = next, ok, errs, rec
	w.last, w.lastStart = prev, lastStart
}

func cut(ws []*worker) bool {
	for _, w := range ws {
		if w.cut {
			return true
		}
	}
	return false
}

// paced is the open-loop hot path of worker idx of workers: its k-th
// operation is the schedule's (idx + k*workers)-th. It waits for
// that time when early and starts at once when late; the latency recorded
// is from when the operation was due (corrected), and, apart, from when it
// started (uncorrected). n < 0 means until an operation would be due after
// dur. Two clock reads per operation: the start is needed for the
// uncorrected view and to know when the phase began.
func (w *worker) paced(base time.Time, idx, workers int, sched schedule, n int, dur time.Duration, stop *atomic.Bool) {
	if n == 0 {
		return
	}
	next, ok, errs := w.next, w.ok, w.errs
	rec, errRec, unc := w.rec, w.errRec, w.unc
	var start, end time.Duration
	for k := 0; n < 0 || k < n; k++ {
		if stop.Load() {
			w.cut = true
			break
		}
		due, more := sched(int64(idx) + int64(k)*int64(workers))
		if !more || (dur > 0 && due >= dur) {
			break
		}
		var slept bool
		start, slept = waitUntil(base, due, stop)
		if stop.Load() {
			w.cut = true
			break
		}
		err := w.op(next)
		next++
		end = time.Since(base)
		if k == 0 {
			w.first, w.firstEnd, w.ran = start, end, true
		}
		if err != nil {
			errs++
			errRec.Record(end - due)
			if w.firstErr == nil {
				w.firstErr = err
			}
		} else {
			ok++
			rec.Record(end - due)
			unc.Record(end - start)
		}
		// After a sleep the worker has time to spare: publishing then
		// keeps Tick current at low rates.
		if k&255 == 255 || slept {
			rec = w.publish(int64(k+1), rec)
		}
	}
	w.next, w.ok, w.errs, w.rec = next, ok, errs, rec
	w.last, w.lastStart = end, start
}

// TickEvery is how often Config.Tick is called.
const TickEvery = 200 * time.Millisecond

// ticker calls tick every TickEvery with the workers' published counts and
// the p99 of the latencies they handed over, until the returned function is
// called; that function returns every latency handed over, to be merged
// into the Result. Merging and computing the percentile happen here, on the
// ticker's goroutine, never on a worker's.
func ticker(ws []*worker, tick func(Progress)) func() *latency.Recorder {
	seen := latency.NewRecorder()
	for _, w := range ws {
		w.handOver = true
		w.give.Store(latency.NewRecorder())
	}
	collect := func(w *worker, reuse bool) {
		full := w.take.Swap(nil)
		if full == nil {
			return
		}
		w.seenMax = max(w.seenMax, full.Max())
		seen.Merge(full)
		if reuse {
			full.Reset()
			w.give.Store(full)
		}
	}
	start := time.Now()
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(TickEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p := Progress{Elapsed: time.Since(start)}
				for _, w := range ws {
					p.Ops += w.pub.Load()
					collect(w, true)
				}
				if seen.Count() > 0 {
					p.P99 = seen.Percentile(99)
				}
				tick(p)
			}
		}
	}()
	return func() *latency.Recorder {
		close(done)
		<-stopped
		// The workers are done: what they handed over since the last tick
		// is still in take.
		for _, w := range ws {
			collect(w, false)
		}
		return seen
	}
}

// schedule returns when operation j of an open-loop run is due, and false
// past its end.
type schedule func(j int64) (time.Duration, bool)

// schedule is c's open-loop schedule, nil for a closed loop.
func (c Config) schedule() schedule {
	switch {
	case len(c.Stages) > 0:
		return c.Stages.Due
	case c.Rate > 0:
		rate := c.Rate
		return func(j int64) (time.Duration, bool) { return dueAt(j, rate), true }
	}
	return nil
}
