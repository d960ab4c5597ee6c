package harness

import (
	"runtime"
	"sync/atomic"
	"time"
)

// dueAt is when operation j of a schedule at a constant rate is due: at
// j/rate. Operations are dealt to workers in turn (worker w of workers
// starts the schedule's (w + k*workers)-th as its k-th, see paced). It is a
// pure function, so the schedule never drifts: a worker that falls behind
// starts its late operations at once, one after the other, and each is
// timed from when it was due, so a stall shows in the latency of every
// operation that should have started during it (wrk2's correction of
// coordinated omission).
func dueAt(j int64, rate float64) time.Duration {
	return time.Duration(float64(j) / rate * float64(time.Second))
}

// sleepMargin is how much earlier than due a worker wakes from a sleep: a
// sleeping goroutine can be woken up to a millisecond late (where the
// runtime's poller waits in whole milliseconds), and lateness the harness
// adds would count as the component's latency. The last stretch is spent
// yielding in a loop, which costs CPU but keeps the start within
// microseconds of due.
const sleepMargin = 1500 * time.Microsecond

// overrun is how late after the deadline of a time-bound open-loop phase an
// operation due before it may still start. A worker on schedule starts its
// last operation within microseconds of when it was due, or a few
// milliseconds on a busy machine (a late wake-up, an OS time slice given
// to another thread), so none is lost to the check; a worker further
// behind stops there, and the phase ends within overrun (and one
// operation's latency) of its deadline.
const overrun = 50 * time.Millisecond

// maxNap bounds one sleep, so that a stop (Ctrl-C) is seen within it even
// when operations are due seconds apart.
const maxNap = 100 * time.Millisecond

// waitUntil returns once at least due has passed since base, or early when
// stop is set, the time since base then, and whether it slept (so had
// at least sleepMargin to spare).
func waitUntil(base time.Time, due time.Duration, stop *atomic.Bool) (now time.Duration, slept bool) {
	now = time.Since(base)
	for wait := due - now; wait > sleepMargin && !stop.Load(); wait = due - now {
		slept = true
		time.Sleep(min(wait-sleepMargin, maxNap))
		now = time.Since(base)
	}
	for now < due && !stop.Load() {
		runtime.Gosched()
		now = time.Since(base)
	}
	return now, slept
}
