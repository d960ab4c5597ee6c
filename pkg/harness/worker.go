package harness

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/rustci/rustci-perf/pkg/latency"
)

// chunk is what one worker recorded over a run of whole intervals, from
// (inclusive) to to (exclusive): the latencies and errors of the operations
// that ended in them, per kind.
type chunk struct {
	recs     [MaxKinds]*latency.Recorder
	errs     [MaxKinds]int64
	from, to int
}

func newChunk(kinds int) *chunk {
	c := &chunk{}
	for k := range kinds {
		c.recs[k] = latency.NewRecorder()
	}
	return c
}

// count is the number of operations the chunk holds, failed ones too.
func (c *chunk) count() int64 {
	var n int64
	for k, r := range c.recs {
		if r != nil {
			n += r.Count()
		}
		n += c.errs[k]
	}
	return n
}

func (c *chunk) reset() {
	for _, r := range c.recs {
		if r != nil {
			r.Reset()
		}
	}
	c.errs = [MaxKinds]int64{}
}

// worker is one goroutine's state. Its fields are written only by that
// goroutine until the WaitGroup says it is done.
type worker struct {
	op     Op
	unc    *latency.Recorder // open loop only
	next   int               // index of the next call to op
	errRec *latency.Recorder
	// cur is the chunk being recorded into; every the interval length.
	cur      *chunk
	every    time.Duration
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
	// panic is the panic recovered from the Op, which ended the worker.
	panic *PanicError

	// pub publishes the measured operations done, for Tick. give and take
	// hand chunks over, one token passing back and forth: the collector
	// puts an empty chunk in give; when an operation ends past the current
	// interval, the worker takes it, records into it from then on and puts
	// the one it filled in take; the collector merges that, empties it and
	// puts it back in give. final is the worker's last chunk, put there when
	// it is done. They sit between paddings so that no other worker's memory
	// shares their cache line: one writer and one occasional reader each.
	_     [64]byte
	pub   atomic.Int64
	give  atomic.Pointer[chunk]
	take  atomic.Pointer[chunk]
	final atomic.Pointer[chunk]
	_     [32]byte
}

// turn is called when an operation ended at now, past the current
// interval: it hands cur over for the empty chunk the collector left, if
// it left one, and returns the chunk to record into and the next interval's
// end. When the collector has not yet taken the previous chunk, the worker
// keeps recording into cur, which then spans several intervals.
func (w *worker) turn(cur *chunk, now time.Duration, done int64) (*chunk, time.Duration) {
	idx := int(now / w.every)
	edge := time.Duration(idx+1) * w.every
	w.pub.Store(done)
	empty := w.give.Load()
	if empty == nil {
		return cur, edge
	}
	w.give.Store(nil)
	cur.to, empty.from = idx, idx
	w.take.Store(cur)
	return empty, edge
}

// loop is the hot path. n < 0 means run until dur has passed since base.
//
// Subtleness ahead: every clock reading is an offset from one base on the
// monotonic clock, shared by all workers, so the first and last offsets of
// different workers can be compared to get the phase's wall time, and all
// workers agree on where intervals end. Each latency is the difference of
// two consecutive readings, so one clock read per operation suffices
// (time.Since reads only the monotonic clock: about 35ns on the VMs this
// was measured on). The loop overhead between one Op returning and the next
// starting (a compare, a flag load, the record) falls inside the next
// operation's latency: tens of nanoseconds, stated in the README. An
// operation that ends past the interval is recorded after the hand-over,
// into the chunk of the interval it ended in.
func (w *worker) loop(base time.Time, n int, dur time.Duration, stop *atomic.Bool, record bool) {
	if n == 0 {
		return
	}
	// The counters live in locals (registers) while the loop runs and are
	// stored into w once at the end: worker structs are small heap objects
	// that may share a cache line, and writing them per operation would
	// make workers contend for it.
	next, ok, errs := w.next, w.ok, w.errs
	cur, errRec := w.cur, w.errRec
	edge := w.every
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
		kind, err := w.op(next)
		next++
		now := time.Since(base)
		if record {
			if now >= edge {
				cur, edge = w.turn(cur, now, int64(k))
			}
			if k == 0 {
				w.firstEnd = now
			}
			lastStart = prev
			lat := now - prev
			if err != nil {
				errs++
				errRec.Record(lat)
				cur.errs[kind%MaxKinds]++
				if w.firstErr == nil {
					w.firstErr = err
				}
			} else {
				ok++
				cur.recs[kind%MaxKinds].Record(lat)
			}
		}
		prev = now
		if dur > 0 && now >= dur {
			break
		}
	}
	w.next, w.ok, w.errs, w.cur = next, ok, errs, cur
	w.last, w.lastStart = prev, lastStart
}

// paced is the open-loop hot path of worker idx of workers: its k-th
// operation is the schedule's (idx + k*workers)-th. It waits for
// that time when early and starts at once when late; the latency recorded
// is from when the operation was due (corrected), and, apart, from when it
// started (uncorrected). n < 0 means until an operation would be due after
// dur. Two clock reads per operation: the start is needed for the
// uncorrected view and to know when the phase began.
//
// dur is a deadline on the wall clock too: a worker that fell behind stops
// when an operation would start more than overrun past it, though it was
// due before, so a generator that cannot keep up ends the phase on time
// instead of working through its backlog (Result.Scheduled tells how far
// behind it was). The check compares a clock reading the loop takes anyway.
func (w *worker) paced(base time.Time, idx, workers int, sched schedule, n int, dur time.Duration, stop *atomic.Bool) {
	if n == 0 {
		return
	}
	next, ok, errs := w.next, w.ok, w.errs
	cur, errRec, unc := w.cur, w.errRec, w.unc
	edge := w.every
	late := time.Duration(math.MaxInt64)
	if dur > 0 {
		late = dur + overrun
	}
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
		now, _ := waitUntil(base, due, stop)
		if stop.Load() {
			w.cut = true
			break
		}
		if now >= late {
			break
		}
		start = now
		kind, err := w.op(next)
		next++
		end = time.Since(base)
		if end >= edge {
			cur, edge = w.turn(cur, end, int64(k))
		}
		if k == 0 {
			w.first, w.firstEnd, w.ran = start, end, true
		}
		if err != nil {
			errs++
			errRec.Record(end - due)
			cur.errs[kind%MaxKinds]++
			if w.firstErr == nil {
				w.firstErr = err
			}
		} else {
			ok++
			cur.recs[kind%MaxKinds].Record(end - due)
			unc.Record(end - start)
		}
	}
	w.next, w.ok, w.errs, w.cur = next, ok, errs, cur
	w.last, w.lastStart = end, start
}
