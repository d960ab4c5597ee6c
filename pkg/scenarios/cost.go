// What a scenario's measured phase cost the process, among its figures.

package scenarios

import (
	"fmt"
	"runtime"

	"github.com/rustci/rustci-perf/pkg/cost"
	"github.com/rustci/rustci-perf/pkg/metric"
)

// addCost puts what out's measured phase cost the process (the harness's
// Result.Cost) among out's figures, as the metric catalogue names them:
// the totals as counters, the figures per operation derived from them,
// and the levels at the phase's end as metrics; a note says why one is
// n/a, and over what time the peak resident set is. A run stopped before
// its measured phase has none of them.
func addCost(out *Outcome) {
	u := out.Cost
	if u == nil {
		return
	}
	if out.Counters == nil {
		out.Counters = map[string]int64{}
	}
	if out.Metrics == nil {
		out.Metrics = map[string]float64{}
	}
	c := out.Counters
	if u.CPU {
		c[metric.CPUUser.Name], c[metric.CPUSystem.Name] = int64(u.User), int64(u.System)
	}
	c[metric.AllocBytes.Name], c[metric.Allocs.Name] = int64(u.AllocBytes), int64(u.Allocs)
	c[metric.GCCycles.Name], c[metric.GCPause.Name] = int64(u.GCCycles), int64(u.GCPause)
	if u.CPU {
		derive(out, metric.CPUPerOp)
	} else {
		notMeasured(out, metric.CPUPerOp, "the process's CPU time")
	}
	derive(out, metric.AllocBytesPerOp)
	derive(out, metric.AllocsPerOp)

	m := out.Metrics
	m[metric.HeapLive.Name], m[metric.Goroutines.Name] = float64(u.HeapLive), float64(u.Goroutines)
	switch u.Peak {
	case cost.PeakUnknown:
		notMeasured(out, metric.PeakRSS, "the resident set")
	case cost.PeakProcess:
		m[metric.PeakRSS.Name] = float64(u.PeakRSS)
		out.Notes = append(out.Notes, fmt.Sprintf("%s is the process's high-water mark since it started, not the measured phase's: %s",
			metric.PeakRSS.Name, peakWhy()))
	default:
		m[metric.PeakRSS.Name] = float64(u.PeakRSS)
	}
}

// notMeasured makes d n/a, with a note: what it rests on is not measured
// on this system.
func notMeasured(out *Outcome, d metric.Def, what string) {
	out.Metrics[d.Name] = metric.NA
	out.Notes = append(out.Notes, fmt.Sprintf("%s is n/a: %s is not measured on %s", d.Name, what, runtime.GOOS))
}

// peakWhy says why the peak resident set could not be reset to the
// measured phase's.
func peakWhy() string {
	if runtime.GOOS == "linux" {
		return "this system did not let /proc/self/clear_refs reset it"
	}
	return runtime.GOOS + " has no way to reset it"
}
