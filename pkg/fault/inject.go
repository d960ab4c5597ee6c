package fault

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// ErrInjected is the error of a call the error rate failed.
var ErrInjected = errors.New("fault: injected error")

// ErrDeadline is the error of a call whose deadline came before its
// injected delay (a stall, a latency) ended: it is
// context.DeadlineExceeded, as a call to a dependency that did not answer
// in time is.
var ErrDeadline = fmt.Errorf("fault: injected delay outlasted the call's deadline: %w", context.DeadlineExceeded)

// Injector carries out one target's Spec (see the package doc). It is safe
// for concurrent use.
type Injector struct {
	spec Spec
	// base is the origin of armed, on the monotonic clock.
	base time.Time
	// armed is 1 + the nanoseconds from base at which Arm was called; 0
	// until then, when Do does nothing.
	armed atomic.Int64
	// shared is the stream of calls made without a worker's (Worker).
	mu     sync.Mutex
	shared *rand.Rand
}

// New returns an Injector of spec, unarmed; seed seeds the stream of
// calls that carry no worker's (Worker).
func New(spec Spec, seed uint64) *Injector {
	return &Injector{spec: spec, base: time.Now(), shared: rand.New(rand.NewPCG(seed, sharedStream))}
}

// sharedStream tells an Injector's own stream from the workers'.
const sharedStream = 1 << 63

// Spec returns what in injects.
func (in *Injector) Spec() Spec { return in.spec }

// Arm starts injecting, now: a stall's start counts from here. Arming
// again moves the start.
func (in *Injector) Arm() { in.armed.Store(1 + int64(time.Since(in.base))) }

// Do injects in's faults into one call made with ctx: it waits out a stall
// the call falls in, then the call's latency, and returns ErrInjected at
// the error rate's odds; every wait ends early, with ErrDeadline, at ctx's
// deadline, or with ctx's error when ctx is done. Before Arm it returns
// nil at once.
func (in *Injector) Do(ctx context.Context) error {
	at := in.armed.Load()
	if at == 0 {
		return nil
	}
	var delay time.Duration
	var fail bool
	if r := streamOf(ctx); r != nil {
		delay, fail = in.spec.draw(r)
	} else {
		in.mu.Lock()
		delay, fail = in.spec.draw(in.shared)
		in.mu.Unlock()
	}
	if len(in.spec.Stalls) > 0 {
		// One clock read, only where a stall needs it.
		delay += stalled(in.spec.Stalls, time.Since(in.base)-time.Duration(at-1))
	}
	if err := wait(ctx, delay); err != nil {
		return err
	}
	if fail {
		return ErrInjected
	}
	return nil
}

// draw draws one call's latency and whether it fails, from r: always in
// the same order, so a stream gives the same calls the same faults.
func (s *Spec) draw(r *rand.Rand) (delay time.Duration, fail bool) {
	if l := s.Latency; l != nil && (l.P >= 1 || r.Float64() < l.P) {
		delay = l.Min
		if l.Max > l.Min {
			delay += time.Duration(r.Int64N(int64(l.Max-l.Min) + 1))
		}
	}
	if e := s.Error; e != nil && *e > 0 {
		fail = r.Float64() < *e
	}
	return delay, fail
}

// stalled is how long a call made now (from the start of the measured
// phase) waits for the stalls it falls in to end: until the end of the
// one it is in, and of any that one runs into.
func stalled(stalls []Stall, now time.Duration) time.Duration {
	end := now
	for moved := true; moved; {
		moved = false
		for _, st := range stalls {
			if end >= st.At && end < st.At+st.For {
				end, moved = st.At+st.For, true
			}
		}
	}
	return end - now
}

// wait waits d, or until ctx's deadline (ErrDeadline) or ctx is done (its
// error), whichever comes first. ctx may be one whose deadline no timer
// enforces (redisconn's): the deadline is read, not waited for on Done.
//
// Go's timers wake up on a millisecond grid on Linux (its poller waits in
// whole milliseconds: a 50µs timer fires after about 1.08ms here), which
// would turn latency=200us into 1ms and uniform:1ms-5ms into five steps.
// So a timer, which ctx can interrupt, waits all but the last fineWait,
// and sleepUntil waits the rest precisely; a cancellation waits at most
// that long.
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	cut := false
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < d {
			d, cut = max(left, 0), true
		}
	}
	end := time.Now().Add(d)
	if coarse := d - fineWait; coarse > 0 {
		t := time.NewTimer(coarse)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	sleepUntil(end)
	if cut {
		return ErrDeadline
	}
	return nil
}

// fineWait is the end of a wait that sleepUntil waits rather than a timer:
// more than a timer's millisecond grid and its lateness.
const fineWait = 2 * time.Millisecond

// streamKey is the context key of a worker's stream.
type streamKey struct{}

// Worker returns ctx carrying worker w's stream of draws, seeded from seed
// and w: every Injector a call made with it goes through draws from it,
// without a lock. Only worker w's goroutine may use it.
func Worker(ctx context.Context, seed uint64, w int) context.Context {
	return context.WithValue(ctx, streamKey{}, rand.New(rand.NewPCG(seed, uint64(w))))
}

// streamOf returns the worker's stream ctx carries, or nil.
func streamOf(ctx context.Context) *rand.Rand {
	r, _ := ctx.Value(streamKey{}).(*rand.Rand)
	return r
}
