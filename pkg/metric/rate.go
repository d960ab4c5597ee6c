package metric

import (
	"fmt"
	"time"
)

// The least an open-loop run must measure for its achieved rate to mean
// anything: MinRateOps operations, over at least MinRateIntervals
// intervals of the target rate (1/target each).
const (
	MinRateOps       = 100
	MinRateIntervals = 10
)

// AchievedRateRatio is how much of its open-loop target a run achieved:
// ops, the operations it ran (failed ones too: each was due and was
// started), per second of its window, over target.
//
// The window is the longer of scheduled, how long the measured phase was
// scheduled to last (its duration, its stages, or its operations at the
// rate), and issued, the time over which its operations were started
// (first start to last start: harness.Result.Issued). On schedule, issued
// is a little shorter than scheduled (the last operation is due one
// interval before the end) and the ratio is 1; when the workers fall
// behind, ops falls short of the schedule (a run bound by time ends at
// its deadline) or issued grows past scheduled (one bound by count starts
// its last operations late), and the ratio falls under 1. Dividing by
// issued alone would flatter short runs: one operation of 1µs at 0.1/s
// would be a million times the target. Counting to the last operation's
// end instead would take slow operations for a slow generator: 5ms
// operations in a 300ms run achieved 98.5% on schedule. scheduled 0 means
// unknown: issued alone.
//
// The ratio is n/a, with the reason, when the run is too short to tell:
// fewer than MinRateOps operations, or a window under MinRateIntervals
// intervals of the target.
func AchievedRateRatio(ops int64, scheduled, issued time.Duration, target float64) (v float64, why string) {
	if !(target > 0) {
		return NA, "achieved_rate_ratio is n/a: no target rate"
	}
	window := max(scheduled, issued)
	interval := time.Duration(float64(time.Second) / target)
	switch {
	case ops < MinRateOps:
		ran := fmt.Sprintf("%d operations ran", ops)
		if ops == 1 {
			ran = "1 operation ran"
		}
		return NA, fmt.Sprintf("achieved_rate_ratio is n/a: %s, fewer than the %d a rate needs", ran, MinRateOps)
	case window <= 0 || float64(window)*target < MinRateIntervals*float64(time.Second):
		return NA, fmt.Sprintf("achieved_rate_ratio is n/a: the window (%s) is shorter than %d intervals of the target rate (%s each)",
			window, MinRateIntervals, interval)
	}
	return float64(ops) / window.Seconds() / target, ""
}

// RatePart is one of several open-loop runs made at the same time (the
// sources of a merged report): its target and its achieved_rate_ratio.
type RatePart struct {
	Target, Ratio float64
}

// MergeRateRatios is the achieved_rate_ratio of runs made at the same time:
// the sum of what each achieved (its ratio times its target) over the sum
// of the targets. It is n/a when any part's ratio is (that part's rate
// means nothing, so neither does the sum's).
func MergeRateRatios(parts []RatePart) (v float64, why string) {
	var achieved, target float64
	for i, p := range parts {
		if !Valid(p.Ratio) {
			return NA, fmt.Sprintf("achieved_rate_ratio is n/a: it is n/a in source %d", i+1)
		}
		achieved += p.Ratio * p.Target
		target += p.Target
	}
	if !(target > 0) {
		return NA, "achieved_rate_ratio is n/a: no target rate"
	}
	return achieved / target, ""
}
