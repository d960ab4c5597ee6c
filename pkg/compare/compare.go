// Package compare sets a new report against a baseline and says, figure by
// figure, whether it changed significantly and by enough to count.
//
// Figures are those of all a scenario's operations and, in a scenario that
// mixes kinds of operation, of each kind both reports have (read.p99,
// write.throughput): the same tests judge both.
//
// What decides each figure:
//   - Repeated runs (--count) on both sides, enough for the Mann-Whitney U
//     test to reach alpha: the U test of the runs' values, as benchstat
//     does (golang.org/x/perf/benchmath); for p99 and p99.9 a bootstrap
//     confidence interval (1 - alpha) of the relative change as well,
//     resampling runs, then each run's intervals (or, in a report without
//     intervals, its operations).
//   - Otherwise, when both reports have intervals, throughput and the
//     percentiles: a block bootstrap confidence interval of the relative
//     change that resamples whole intervals (runs first, when a side has
//     several), widened for few blocks (the expanded percentile interval).
//     It sees how a run varies from one interval to the next, not from one
//     run to the next.
//   - Reports without intervals, as before them: p99 and p99.9 by a
//     bootstrap over operations, which takes them as independent and is
//     over-confident, said in a note.
//   - Anything else: the minimum effect alone, and the output says so.
//
// A significant change counts only when it is at least the minimum effect;
// then it is a regression or an improvement by the figure's better
// direction.
//
// A scenario measured in the baseline that the new report did not measure
// (no successful operation, status error, skipped) has no figure to
// compare; it is a regression all the same, of one change, ops, whose note
// says why (test "lost"). A scenario measured in neither, measured only in
// the new report, or interrupted in it, is not compared, and a note says so.
package compare

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/rustci/rustci-perf/pkg/report"
)

// Options tune the comparison.
type Options struct {
	// Alpha is the significance level, in (0, 1).
	Alpha float64
	// MinEffect is the smallest relative change that counts, a fraction
	// (0.05 is 5%).
	MinEffect float64
	// Resamples is the number of bootstrap replicates.
	Resamples int
	// Seed makes the bootstrap reproducible.
	Seed uint64
	// Without runs enough on both sides for a test over runs, nothing
	// measures how one run differs from the next: two runs of one build
	// on one machine differ by the process's memory layout, the CPU's
	// state, the neighbours. A change must then also be at least
	// SingleRunEffect (a fraction, either way: 0.25 is 1.25 times higher
	// or lower) when a block bootstrap over intervals judged it, at least
	// UntestedEffect when no test could (counters,
	// metrics, runs of fewer intervals than a bootstrap needs), and, for a
	// latency, at least LatencyFloor, below which a run's own clock reads
	// and records (tens of ns) decide it.
	SingleRunEffect, UntestedEffect float64
	LatencyFloor                    float64
	// SingleRunTailEffect is SingleRunEffect for the tail percentiles
	// (p95 and above), which move most from one run to the next.
	SingleRunTailEffect float64
	// AllocsFloor and AllocBytesFloor are the least change in what an
	// operation allocates that counts, per operation (allocs_per_op,
	// alloc_bytes_per_op), whatever the test: the figures are the whole
	// process's, so below these the harness's and the component's
	// background allocations decide, not the operation (an operation
	// that allocates nothing shows a fraction of a byte).
	AllocsFloor, AllocBytesFloor float64
	// CPUFloor is the least CPU time, in ns, a side must have measured in
	// all (its runs' cpu_user + cpu_system) for a change in cpu_per_op to
	// count: in less, the process's background work decides it (two
	// 2000-operation runs of cache-read here differed by x2).
	CPUFloor float64
}

// Defaults are the options compare uses unless told otherwise. The
// single-run floors are the spread of two identical default runs measured
// on a 2-CPU VM (README, "Comparing with a baseline").
var Defaults = Options{Alpha: 0.05, MinEffect: 0.05, Resamples: 2000, Seed: 1,
	SingleRunEffect: 0.5, SingleRunTailEffect: 2, UntestedEffect: 1, LatencyFloor: 50,
	AllocsFloor: 0.5, AllocBytesFloor: 16, CPUFloor: float64(50 * time.Millisecond)}

// Validate reports the first bad option.
func (o Options) Validate() error {
	switch {
	case !(o.Alpha > 0 && o.Alpha < 1):
		return fmt.Errorf("alpha %g: want a level between 0 and 1, such as 0.05", o.Alpha)
	case !(o.MinEffect >= 0 && o.MinEffect < 100):
		return fmt.Errorf("min effect %g%%: want 0%% or more", o.MinEffect*100)
	case o.Resamples < 100:
		return fmt.Errorf("resamples %d: want at least 100", o.Resamples)
	}
	return nil
}

// Side is one report to compare and the name it goes by (its file).
type Side struct {
	Name   string
	Report *report.Report
}

// Reports compares nw against base. A scenario measured in the baseline
// and not in nw (no successful operation, status error or skipped) is a
// regression; one measured in neither, or interrupted in nw, is not
// compared, and said so. Its errors are the inputs' faults: no scenario in
// both, none measured in both, a histogram that does not decode.
func Reports(base, nw Side, o Options) (*report.Comparison, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	c := &report.Comparison{Base: base.Name, New: nw.Name, Alpha: o.Alpha, MinEffect: o.MinEffect, BaseReport: base.Report}
	if n := injectedNote(base.Report.Injected, nw.Report.Injected); n != "" {
		c.Notes = append(c.Notes, n)
	}
	byName := map[string]report.Scenario{}
	for _, s := range base.Report.Scenarios {
		byName[s.Name] = s
	}
	seen := map[string]bool{}
	var unmeasured []string // in both, compared in neither way
	for _, ns := range nw.Report.Scenarios {
		seen[ns.Name] = true
		bs, ok := byName[ns.Name]
		var why string
		switch {
		case !ok:
			c.Notes = append(c.Notes, fmt.Sprintf("%s is not in the baseline: not compared", ns.Name))
			continue
		case !measured(bs) && !measured(ns):
			why = fmt.Sprintf("%s was measured in neither report (baseline %s, new %s)", ns.Name, bs.Status, ns.Status)
		case !measured(bs):
			why = fmt.Sprintf("%s has no measured operation in the baseline (%s)", ns.Name, bs.Status)
		case ns.Status == report.StatusInterrupted:
			why = fmt.Sprintf("%s was interrupted in the new report", ns.Name)
		case !measured(ns):
			// Measured before, not now: the worst regression there is,
			// and one no figure can show.
			c.Scenarios = append(c.Scenarios, lost(bs, ns))
			c.Regressions++
			continue
		}
		if why != "" {
			c.Notes = append(c.Notes, why+": not compared")
			unmeasured = append(unmeasured, why)
			continue
		}
		sc, err := scenario(bs, ns, o)
		if err != nil {
			return nil, err
		}
		for _, ch := range sc.Changes {
			switch ch.Verdict {
			case report.Regression:
				c.Regressions++
			case report.Improvement:
				c.Improvements++
			}
		}
		c.Scenarios = append(c.Scenarios, sc)
	}
	for _, bs := range base.Report.Scenarios {
		if !seen[bs.Name] {
			c.Notes = append(c.Notes, fmt.Sprintf("%s is in the baseline only: not compared", bs.Name))
		}
	}
	switch {
	case len(c.Scenarios) > 0:
		if err := checkFinite(c); err != nil {
			return nil, fmt.Errorf("compare %s with %s: %w", base.Name, nw.Name, err)
		}
		return c, nil
	case len(unmeasured) > 0:
		return nil, fmt.Errorf("compare %s with %s: no scenario measured in both: %s", base.Name, nw.Name, strings.Join(unmeasured, "; "))
	}
	return nil, fmt.Errorf("compare %s with %s: no scenario is in both (baseline: %s; new: %s)",
		base.Name, nw.Name, names(base.Report), names(nw.Report))
}

// injectedNote warns when the two reports ran with faults injected
// (package fault): different faults make a change the faults' as much as
// the code's; the same ones make neither report a clean run's. "" when
// neither had any.
func injectedNote(base, nw []string) string {
	list := func(in []string) string {
		if len(in) == 0 {
			return "none"
		}
		return strings.Join(in, "; ")
	}
	switch {
	case len(base) == 0 && len(nw) == 0:
		return ""
	case slices.Equal(base, nw):
		return fmt.Sprintf("both reports ran with the same faults injected (%s): neither is a clean run's", list(base))
	}
	return fmt.Sprintf("WARNING: the reports ran with different faults injected (baseline: %s; new: %s): a change may be the faults', not the code's", list(base), list(nw))
}

// lost is the comparison of a scenario measured in the baseline (bs) with
// the new report's, which has no successful operation, could not run or was
// skipped: one change, ops, a regression, and why.
func lost(bs, ns report.Scenario) report.ScenarioChange {
	var why string
	switch {
	case ns.Status == report.StatusError:
		why = "could not run: " + ns.Error
	case ns.Status == report.StatusSkipped:
		why = "skipped: " + ns.Reason
	case ns.Ops == 0 && ns.Errors > 0:
		why = fmt.Sprintf("no successful operation: all %d failed", ns.Errors)
	case ns.Ops == 0:
		why = "no measured operation"
	default:
		why = fmt.Sprintf("not measured (status %s)", ns.Status)
	}
	ch := report.Change{Metric: "ops", Better: "higher", Base: float64(bs.Ops), New: float64(ns.Ops),
		Test: report.TestLost, Verdict: report.Regression, Note: why}
	ch.ChangePct = change(ch.Base, ch.New)
	return report.ScenarioChange{Name: ns.Name, BaseRuns: len(runs(bs)), NewRuns: len(runs(ns)), Changes: []report.Change{ch}}
}

func measured(s report.Scenario) bool {
	return s.Latency.Count > 0 && (s.Status == report.StatusPassed || s.Status == report.StatusFailed)
}

func names(r *report.Report) string {
	var out []string
	for _, s := range r.Scenarios {
		out = append(out, s.Name)
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// runs returns a scenario's runs: each of a repeated one, else itself.
func runs(s report.Scenario) []report.Run {
	if s.Repeat != nil && len(s.Repeat.Runs) > 0 {
		return s.Repeat.Runs
	}
	return []report.Run{{Ops: s.Ops, Errors: s.Errors, DurationNS: s.DurationNS, ThroughputOpsPerSec: s.ThroughputOpsPerSec,
		Latency: s.Latency, Counters: s.Counters, Metrics: s.Metrics}}
}

func scenario(bs, ns report.Scenario, o Options) (report.ScenarioChange, error) {
	bvs, err := views(bs)
	if err != nil {
		return report.ScenarioChange{}, fmt.Errorf("baseline %s: %w", bs.Name, err)
	}
	nvs, err := views(ns)
	if err != nil {
		return report.ScenarioChange{}, fmt.Errorf("new %s: %w", ns.Name, err)
	}
	b, n := bvs[0], nvs[0]
	sc := report.ScenarioChange{Name: ns.Name, BaseRuns: len(b.runs), NewRuns: len(n.runs)}
	blocks := b.blocks != nil && n.blocks != nil
	if len(b.runs) == 1 || len(n.runs) == 1 {
		if blocks {
			sc.Notes = append(sc.Notes, fmt.Sprintf("a single run on one side: throughput and latency percentiles judged by a block bootstrap over the intervals (%d and %d), "+
				"which sees how a run varies from one interval to the next, not from one run to the next (--count on both sides does); other figures by the minimum effect alone",
				b.blocks.lat.Len(), n.blocks.lat.Len()))
		} else {
			sc.Notes = append(sc.Notes, "a single run on one side: no significance test over runs; the minimum effect alone decides figures other than tail percentiles")
		}
	}
	if !blocks && b.hists != nil && n.hists != nil && (len(b.runs) == 1 || len(n.runs) == 1) {
		sc.Notes = append(sc.Notes, fmt.Sprintf("fewer than %d intervals with operations on one side (a report from before intervals?): "+
			"tail percentiles judged by resampling operations as if independent, which they are not: over-confident", report.MinIntervals))
	}
	if b.hists == nil || n.hists == nil {
		sc.Notes = append(sc.Notes, "no histogram on one side: tail percentiles judged like the other figures")
	}
	sameOps := opsOf(b.runs) == opsOf(n.runs)
	if !sameOps {
		sc.Notes = append(sc.Notes, "the runs did different numbers of operations: counters compared per operation (/op)")
	}
	for _, f := range figures(bs, ns, sameOps) {
		judge(&sc, f, b, n, o)
	}
	for _, bk := range bvs[1:] {
		nk, ok := kindOf(nvs, bk.kind)
		if !ok {
			sc.Notes = append(sc.Notes, fmt.Sprintf("%s operations are in the baseline only: not compared", bk.kind))
			continue
		}
		for _, note := range []string{bk.note, nk.note} {
			if note != "" {
				sc.Notes = append(sc.Notes, bk.kind+": "+note)
			}
		}
		for _, f := range kindFigures(bk.kind) {
			judge(&sc, f, bk, nk, o)
		}
	}
	for _, nk := range nvs[1:] {
		if _, ok := kindOf(bvs, nk.kind); !ok {
			sc.Notes = append(sc.Notes, fmt.Sprintf("%s operations are in the new report only: not compared", nk.kind))
		}
	}
	return sc, nil
}

// kindOf finds the view of a kind of operation.
func kindOf(vs []view, kind string) (view, bool) {
	for _, v := range vs[1:] {
		if v.kind == kind {
			return v, true
		}
	}
	return view{}, false
}

// opsOf is the operations of each run, as a comparable key.
func opsOf(rs []report.Run) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%d,", r.Ops+r.Errors)
	}
	return b.String()
}

// checkFinite reports the first figure of c that is not a finite number:
// JSON has none, and no format should print one. Figures read from reports
// are finite; only absurd ones (1e308) could overflow on the way.
func checkFinite(c *report.Comparison) error {
	for _, s := range c.Scenarios {
		for _, ch := range s.Changes {
			for _, v := range []*float64{&ch.Base, &ch.New, ch.ChangePct, ch.P, ch.CILowPct, ch.CIHighPct} {
				if v != nil && (math.IsInf(*v, 0) || math.IsNaN(*v)) {
					return fmt.Errorf("%s %s: a figure out of range (%g), from base %g and new %g", s.Name, ch.Metric, *v, ch.Base, ch.New)
				}
			}
		}
	}
	return nil
}
