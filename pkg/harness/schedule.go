// The open-loop schedule: when the j-th operation is due.

package harness

import (
	"sort"
	"time"
)

// schedule returns when operation j of an open-loop run is due, and false
// past its end.
type schedule func(j int64) (time.Duration, bool)

// before is how many operations s holds that are due before d: the first
// j at which it ends or reaches d, found by doubling j and then bisecting
// (a schedule's due times never decrease).
func (s schedule) before(d time.Duration) int64 {
	in := func(j int64) bool { due, more := s(j); return more && due < d }
	if !in(0) {
		return 0
	}
	lo := int64(0) // in(lo) holds
	hi := int64(1)
	for ; in(hi); hi *= 2 {
		if hi >= 1<<61 {
			return hi // past any schedule a run can hold
		}
		lo = hi
	}
	// The first j in (lo, hi] where in fails.
	return lo + 1 + int64(sort.Search(int(hi-lo-1), func(i int) bool { return !in(lo + 1 + int64(i)) }))
}

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
