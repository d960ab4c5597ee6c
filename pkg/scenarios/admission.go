package scenarios

import (
	"sort"
	"time"

	"github.com/rustci/rustci-perf/pkg/limiter"
)

// The admission check: how many admissions GCRA must and may make over the
// measured window, without knowing when each decision was made.
//
// Upper bound. Every admission leaves the key's theoretical arrival time
// (TAT) at most burst emission intervals ahead of the decision's clock, and
// each one moves the TAT an interval on. So the k-th admission of a fresh key
// comes at least (k - burst) intervals after the first: over a window of
// outer (the start of the first check to the end of the last), at most
// burst + outer/e. This holds whatever the demand, pauses included.
//
// Lower bound. A GCRA denies only with less than one admission left, and
// what is left grows by one per interval and shrinks by one per admission,
// unless the bucket is full, when the refill is lost. So between two denials
// a and b, if the bucket cannot have filled up between them, it admitted at
// least (b - a)/e, less one, whatever the demand did: the one-admission
// deficit at b and the TAT's bound at a telescope, so a chain of denials
// gives this for its first and last. The bucket fills up only if no denial
// comes for (burst - 1) intervals (the time from empty to full). Before the
// first denial, a fresh bucket admitted at least its burst.
//
// Bounding the window from the harness's first and last operations instead
// (burst + rate x inner) assumed that checks kept coming to the end: a
// pause of every worker near the end of the window, or a worker left alone
// with a few checks after one, leaves admissions unused that a correct GCRA
// never made, and the check called that an error (see TestAdmissionPause).
//
// So each worker times some of its denied checks (the first after each of
// its admissions, and every 256th check): the clock is read before and
// after such a check, and the decision, made in between, is bounded by the
// two. Denials a worker times no further than (burst - 1) intervals apart
// form a span; spans of all workers form chains the same way (denialChains);
// each chain contributes its length in intervals (denialFloor).

// denialSpan is a stretch of timed denials in which the bucket cannot have
// filled up: start and end of its first denied check (first, firstEnd) and
// of its last (lastStart, last).
type denialSpan struct {
	first, firstEnd, lastStart, last time.Duration
}

// denials is what one worker records of its denied checks; the zero value
// is ready (armed: it times its first check).
type denials struct {
	// gap is the longest time between two timed denials of a span: the
	// time the bucket takes from empty to full, (burst - 1) intervals.
	gap time.Duration
	// idle: the worker's last check was denied and timed, so the next one
	// is timed only if it is the periodic one.
	idle  bool
	open  bool
	cur   denialSpan
	spans []denialSpan
	_     [32]byte // workers' records do not share a cache line
}

// timed says whether the worker times its check number i.
func (d *denials) timed(i int) bool { return !d.idle || i&255 == 0 }

// allowed notes that the worker's last check was allowed.
func (d *denials) allowed() { d.idle = false }

// denied notes a timed check that was denied, started at s and ended at t.
func (d *denials) denied(s, t time.Duration) {
	d.idle = true
	if d.open && t-d.cur.lastStart <= d.gap {
		d.cur.lastStart, d.cur.last = s, t
		return
	}
	if d.open {
		d.spans = append(d.spans, d.cur)
	}
	d.cur, d.open = denialSpan{first: s, firstEnd: t, lastStart: s, last: t}, true
}

// all returns the worker's spans.
func (d *denials) all() []denialSpan {
	if d.open {
		return append(d.spans, d.cur)
	}
	return d.spans
}

// denialChains merges the spans of every worker into chains, in time order.
// A span joins the chain before it when it starts no later than gap after
// the latest denial of the chain began: then between any two consecutive
// decisions of the chain the bucket could not have filled.
func denialChains(spans []denialSpan, gap time.Duration) []denialSpan {
	if len(spans) == 0 {
		return nil
	}
	s := append([]denialSpan(nil), spans...)
	sort.Slice(s, func(i, j int) bool { return s[i].firstEnd < s[j].firstEnd })
	out := []denialSpan{s[0]}
	for _, sp := range s[1:] {
		c := &out[len(out)-1]
		if sp.firstEnd-c.lastStart <= gap {
			c.lastStart, c.last = max(c.lastStart, sp.lastStart), max(c.last, sp.last)
			continue
		}
		out = append(out, sp)
	}
	return out
}

// denialFloor returns the fewest admissions a GCRA of burst b and interval e
// makes on one fresh key, given the chains of its timed denials and the
// checks made: the burst before the first denial (less what that check's
// own length could hide), and each chain's length in intervals. A chain
// that may overlap the one before in time is not counted (it is only
// possible with a check longer than the gap between two chains). With no
// denial timed, the checks up to the burst, which a fresh key admits.
func denialFloor(b int, e time.Duration, chains []denialSpan, checks int64) int64 {
	if len(chains) == 0 {
		return min(int64(b), checks)
	}
	first := chains[0]
	lo := max(0, int64(b)-ceilDiv(first.firstEnd-first.first, e))
	end := time.Duration(-1 << 63)
	for _, c := range chains {
		if c.first < end {
			continue
		}
		if c.lastStart > c.firstEnd {
			lo += int64((c.lastStart - c.firstEnd) / e)
		}
		end = c.last
	}
	return min(lo, checks)
}

// gcraCeiling returns the most admissions a GCRA of burst b and interval e
// makes on one key in a window of outer, one more for the edges: at most
// the checks made.
func gcraCeiling(b int, e, outer time.Duration, checks int64) int64 {
	return min(int64(b)+int64(outer/e)+1, checks)
}

// policyGap is the time a bucket of p takes from empty to full.
func policyGap(p limiter.Policy) time.Duration {
	return p.Emission() * time.Duration(p.Burst-1)
}

func ceilDiv(a, b time.Duration) int64 {
	if a <= 0 {
		return 0
	}
	return int64((a + b - 1) / b)
}
