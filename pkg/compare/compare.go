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
	"sort"
	"strings"

	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
	"golang.org/x/perf/benchmath"
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
}

// Defaults are the options compare uses unless told otherwise. The
// single-run floors are the spread of two identical default runs measured
// on a 2-CPU VM (README, "Comparing with a baseline").
var Defaults = Options{Alpha: 0.05, MinEffect: 0.05, Resamples: 2000, Seed: 1,
	SingleRunEffect: 0.5, SingleRunTailEffect: 2, UntestedEffect: 1, LatencyFloor: 50}

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

// figure is one compared figure: its name, unit, better direction, and
// how to read it from a run.
type figure struct {
	name, unit, better string
	// pct is set for latency percentiles (50 for p50), rate for
	// throughput: the figures a block bootstrap over intervals can judge.
	pct  float64
	rate bool
	get  func(r report.Run) (float64, bool)
}

// tail is true for the tail percentiles, p99 and p99.9: judged by
// bootstrap also when the runs are compared by the U test, as a tail moves
// within runs before the runs' values tell.
func (f figure) tail() bool { return f.pct >= 99 }

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

// judge compares figure f of views b and n, and adds the change to sc (or
// a note when f is n/a on a side).
//
// The test, in order of preference:
//   - several runs a side, enough for the U test: the U test of the runs'
//     values; for tail percentiles, with a bootstrap interval of the change
//     as well (runs, then each run's intervals or, without intervals, its
//     operations);
//   - intervals on both sides (a throughput or a percentile): a block
//     bootstrap interval of the change (runs, when several, then
//     intervals);
//   - tail percentiles with histograms: a bootstrap over operations (runs,
//     when each has its histogram, then operations), over-confident as it
//     takes operations as independent;
//   - else the minimum effect alone.
func judge(sc *report.ScenarioChange, f figure, b, n view, o Options) {
	bv, nv := series(b.runs, f), series(n.runs, f)
	if len(bv) == 0 || len(nv) == 0 {
		return
	}
	if side := notComputed(bv, nv); side != "" {
		sc.Notes = append(sc.Notes, fmt.Sprintf("%s not compared: n/a in %s", f.name, side))
		return
	}
	ch := report.Change{Metric: f.name, Unit: f.unit, Better: f.better}
	var p float64
	var uNote string
	uOK := false
	if len(bv) >= 2 && len(nv) >= 2 {
		p, uNote, uOK = uTest(bv, nv, o)
	}
	hists := b.hists != nil && n.hists != nil
	switch {
	case uOK && f.tail() && hists:
		tailBootstrap(&ch, b, n, f, o)
		ch.P = report.Float(p)
	case uOK:
		overRuns(&ch, bv, nv, o)
	case blockBootstrap(&ch, b, n, f, o):
		ch.Note = uNote
	case f.tail() && hists:
		tailBootstrap(&ch, b, n, f, o)
	default:
		overRuns(&ch, bv, nv, o)
	}
	ch.Verdict = verdict(ch, o)
	if !uOK {
		noiseFloor(&ch, f, o)
	}
	sc.Changes = append(sc.Changes, ch)
}

// noiseFloor calls ~ a change judged without a test over runs that is
// within what one run differs from the next (see Options), and says so.
func noiseFloor(ch *report.Change, f figure, o Options) {
	if ch.Verdict != report.Regression && ch.Verdict != report.Improvement {
		return
	}
	effect := o.SingleRunEffect
	switch {
	case ch.Test == report.TestTolerance:
		effect = o.UntestedEffect
	case f.pct >= 95:
		effect = o.SingleRunTailEffect
	}
	// The floor is a factor either way: at least 1+effect times higher or
	// lower (a 25% floor is +25% or -20%; 100% is doubled or halved).
	factor := math.Max(ch.New/ch.Base, ch.Base/ch.New)
	switch {
	case ch.Base > 0 && ch.New > 0 && factor < 1+effect:
		ch.Note = joinNote(ch.Note, fmt.Sprintf("under x%g, single runs' spread: use --count", 1+effect))
	case ch.Unit == "ns" && math.Abs(ch.New-ch.Base) < o.LatencyFloor:
		ch.Note = joinNote(ch.Note, fmt.Sprintf("under %gns, a run's own timing cost: use --count", o.LatencyFloor))
	default:
		return
	}
	ch.Verdict = report.NoChange
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// blockBootstrap decides ch by a block bootstrap over both sides'
// intervals when it can (both have them, f is a throughput or a
// percentile, and the base's is not 0): the point figures over all runs,
// the interval of the change from blockInterval. It reports whether it
// did.
func blockBootstrap(ch *report.Change, b, n view, f figure, o Options) bool {
	if b.blocks == nil || n.blocks == nil || !(f.rate || f.pct > 0) {
		return false
	}
	bv, _ := f.get(b.pooled)
	nv, _ := f.get(n.pooled)
	if !(bv > 0) {
		return false
	}
	lo, hi, ok := blockInterval(b.blocks, n.blocks, f, true, o)
	if !ok {
		return false
	}
	ch.Base, ch.New = bv, nv
	ch.ChangePct = change(bv, nv)
	ch.Test = report.TestBootstrap
	ch.CILowPct, ch.CIHighPct = report.Float(lo), report.Float(hi)
	return true
}

// opsOf is the operations of each run, as a comparable key.
func opsOf(rs []report.Run) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%d,", r.Ops+r.Errors)
	}
	return b.String()
}

// figures lists what to compare: throughput, the latency percentiles,
// errors, the derived metrics both sides have, and the counters that say
// something went wrong or that a threshold names, when either side has
// any.
func figures(bs, ns report.Scenario, sameOps bool) []figure {
	fs := speedFigures()
	if bs.Errors+ns.Errors > 0 {
		fs = append(fs, perOp("errors", sameOps, func(r report.Run) (float64, bool) { return float64(r.Errors), true }))
	}
	for _, k := range sortedKeys(bs.Metrics) {
		if _, ok := ns.Metrics[k]; ok {
			fs = append(fs, figure{name: k, better: better(k), get: func(r report.Run) (float64, bool) { v, ok := r.Metrics[k]; return v, ok }})
		}
	}
	named := map[string]bool{}
	for _, s := range []report.Scenario{bs, ns} {
		for _, t := range s.Thresholds {
			for _, m := range strings.Split(t.Metric, "/") {
				named[m] = true
			}
		}
	}
	for _, k := range sortedKeys(bs.Counters) {
		if _, ok := ns.Counters[k]; !ok || bs.Counters[k]+ns.Counters[k] == 0 {
			continue
		}
		if named[k] || better(k) == "lower" {
			fs = append(fs, perOp(k, sameOps, func(r report.Run) (float64, bool) { v, ok := r.Counters[k]; return float64(v), ok }))
		}
	}
	return fs
}

// speedFigures are throughput and the latency percentiles.
func speedFigures() []figure {
	lat := func(name string, p float64, pick func(l report.Latency) int64) figure {
		return figure{name: name, unit: "ns", better: better(name), pct: p, get: func(r report.Run) (float64, bool) { return float64(pick(r.Latency)), true }}
	}
	return []figure{
		{name: "throughput", unit: "ops/s", better: better("throughput"), rate: true, get: func(r report.Run) (float64, bool) { return r.ThroughputOpsPerSec, true }},
		lat("p50", 50, func(l report.Latency) int64 { return l.P50 }),
		lat("p95", 95, func(l report.Latency) int64 { return l.P95 }),
		lat("p99", 99, func(l report.Latency) int64 { return l.P99 }),
		lat("p99.9", 99.9, func(l report.Latency) int64 { return l.P999 }),
	}
}

// kindFigures are the figures of one kind of operation: its throughput and
// percentiles, named as thresholds name them (read.p99).
func kindFigures(kind string) []figure {
	fs := speedFigures()
	for i := range fs {
		fs[i].name = kind + "." + fs[i].name
	}
	return fs
}

// perOp is a count, or, when the sides ran different numbers of
// operations, the count per operation.
func perOp(name string, sameOps bool, get func(report.Run) (float64, bool)) figure {
	if sameOps {
		return figure{name: name, better: better(name), get: get}
	}
	return figure{name: name + "/op", better: better(name), get: func(r report.Run) (float64, bool) {
		v, ok := get(r)
		if n := r.Ops + r.Errors; ok && n > 0 {
			return v / float64(n), true
		}
		return 0, false
	}}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// series is f over runs; empty when a run lacks it.
func series(rs []report.Run, f figure) []float64 {
	out := make([]float64, 0, len(rs))
	for _, r := range rs {
		v, ok := f.get(r)
		if !ok {
			return nil
		}
		out = append(out, v)
	}
	return out
}

// notComputed names the side (or sides) on which a run's value is n/a,
// "" when every value is a number.
func notComputed(bv, nv []float64) string {
	na := func(vals []float64) bool {
		for _, v := range vals {
			if !metric.Valid(v) {
				return true
			}
		}
		return false
	}
	switch b, n := na(bv), na(nv); {
	case b && n:
		return "both reports"
	case b:
		return "the baseline"
	case n:
		return "the new report"
	}
	return ""
}

// better says which way a figure improves: "higher", "lower", or "" when
// neither the metric catalogue nor its name says.
func better(name string) string {
	name = strings.TrimSuffix(name, "/op")
	if d, ok := metric.Lookup(name); ok {
		return d.Better
	}
	switch {
	case name == "throughput", strings.HasSuffix(name, "hit_rate"), name == "achieved_rate_ratio":
		return "higher"
	case name == "p50", name == "p95", name == "p99", name == "p99.9", name == "fallback_rate",
		name == "allocs_per_op", name == "heap_bytes_per_item":
		return "lower"
	}
	for _, bad := range []string{"error", "timeout", "violation", "dropped", "rejected", "skipped", "degraded", "clamped"} {
		if strings.Contains(name, bad) {
			return "lower"
		}
	}
	return ""
}

// overRuns decides ch on the runs' values: the U test when both sides have
// several runs, the minimum effect alone otherwise.
func overRuns(ch *report.Change, bv, nv []float64, o Options) {
	th := &benchmath.Thresholds{CompareAlpha: o.Alpha}
	bs, ns := benchmath.NewSample(bv, th), benchmath.NewSample(nv, th)
	ch.Base = benchmath.AssumeNothing.Summary(bs, 1-o.Alpha).Center
	ch.New = benchmath.AssumeNothing.Summary(ns, 1-o.Alpha).Center
	ch.ChangePct = change(ch.Base, ch.New)
	ch.Test = report.TestTolerance
	if len(bv) < 2 || len(nv) < 2 {
		return
	}
	if p, note, ok := uTest(bv, nv, o); ok {
		ch.Test, ch.P = report.TestMannWhitney, report.Float(p)
		ch.Note = note
	} else {
		ch.Note = note
	}
}

// uTest is the Mann-Whitney U test of the runs' values. ok is false when
// there are too few runs for it ever to be significant at alpha (note says
// so); when every run on both sides has the same value p is 1.
func uTest(bv, nv []float64, o Options) (p float64, note string, ok bool) {
	if equal(bv, nv) {
		return 1, "every run equal", true
	}
	th := &benchmath.Thresholds{CompareAlpha: o.Alpha}
	cmp := benchmath.AssumeNothing.Compare(benchmath.NewSample(bv, th), benchmath.NewSample(nv, th))
	if len(cmp.Warnings) > 0 {
		// benchmath says "need >= 4 samples to detect a difference at
		// alpha level 0.05"; in this tool's words:
		msgs := make([]string, len(cmp.Warnings))
		for i, w := range cmp.Warnings {
			msgs[i] = strings.Replace(w.Error(), " samples to detect a difference at alpha level ", " a side at alpha ", 1)
		}
		return 0, "too few runs: " + strings.Join(msgs, "; "), false
	}
	// The U test's normal approximation can land a rounding error above 1
	// (1.0000000000000002): a p-value is a probability.
	return min(max(cmp.P, 0), 1), "", true
}

func equal(a, b []float64) bool {
	for _, v := range append(a[1:], b...) {
		if v != a[0] {
			return false
		}
	}
	return true
}

// change is (nw - base) / |base| in percent; nil when base is 0 (or the
// quotient overflows): no relative change exists.
func change(base, nw float64) *float64 {
	if base == 0 {
		return nil
	}
	c := (nw - base) / math.Abs(base) * 100
	if math.IsInf(c, 0) || math.IsNaN(c) {
		return nil
	}
	return report.Float(c)
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

// verdict judges ch: significant (by its test), at least the minimum
// effect, and then which way.
func verdict(ch report.Change, o Options) string {
	if ch.Better == "" {
		return report.NotJudged
	}
	if ch.Base == ch.New {
		return report.NoChange
	}
	significant := true
	switch ch.Test {
	case report.TestMannWhitney:
		significant = *ch.P <= o.Alpha
	case report.TestBootstrap:
		significant = *ch.CILowPct > 0 || *ch.CIHighPct < 0
		if ch.P != nil {
			significant = significant && *ch.P <= o.Alpha
		}
	}
	large := ch.ChangePct == nil || math.Abs(*ch.ChangePct) >= o.MinEffect*100
	if !significant || !large {
		return report.NoChange
	}
	if (ch.New > ch.Base) == (ch.Better == "higher") {
		return report.Improvement
	}
	return report.Regression
}
