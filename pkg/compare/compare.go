// Package compare sets a new report against a baseline and says, figure by
// figure, whether it changed significantly and by enough to count.
//
// What decides each figure:
//   - p99 and p99.9, when both reports carry histograms: a bootstrap
//     confidence interval (1 - alpha) of the relative change, resampling
//     every operation of each side from its encoded histogram; with enough
//     runs on both sides the runs' values must also differ by the
//     Mann-Whitney U test, so run-to-run noise a histogram cannot show is
//     not taken for a change.
//   - Other figures, with repeated runs (--count) on both sides: the
//     Mann-Whitney U test of the runs' values at alpha, as benchstat does
//     (golang.org/x/perf/benchmath); with too few runs for the test ever
//     to be significant, or a single run, the minimum effect alone, and
//     the output says so.
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
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
	"golang.org/x/perf/benchmath"
	"gonum.org/v1/gonum/stat/distuv"
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
}

// Defaults are the options compare uses unless told otherwise.
var Defaults = Options{Alpha: 0.05, MinEffect: 0.05, Resamples: 2000, Seed: 1}

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

// figure is one compared figure: its name, unit, and how to read it from
// a run.
type figure struct {
	name, unit string
	// percentile is set for latency percentiles judged by bootstrap.
	percentile float64
	get        func(r report.Run) (float64, bool)
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
	br, nr := runs(bs), runs(ns)
	sc := report.ScenarioChange{Name: ns.Name, BaseRuns: len(br), NewRuns: len(nr)}
	bh, err := histograms(bs)
	if err != nil {
		return sc, fmt.Errorf("baseline %s: %w", bs.Name, err)
	}
	nh, err := histograms(ns)
	if err != nil {
		return sc, fmt.Errorf("new %s: %w", ns.Name, err)
	}
	if len(br) == 1 || len(nr) == 1 {
		sc.Notes = append(sc.Notes, "a single run on one side: no significance test over runs; the minimum effect alone decides figures other than tail percentiles")
	}
	if bh == nil || nh == nil {
		sc.Notes = append(sc.Notes, "no histogram on one side: tail percentiles judged like the other figures")
	}
	sameOps := opsOf(br) == opsOf(nr)
	if !sameOps {
		sc.Notes = append(sc.Notes, "the runs did different numbers of operations: counters compared per operation (/op)")
	}
	for _, f := range figures(bs, ns, sameOps) {
		bv, nv := series(br, f), series(nr, f)
		if len(bv) == 0 || len(nv) == 0 {
			continue
		}
		if side := notComputed(bv, nv); side != "" {
			sc.Notes = append(sc.Notes, fmt.Sprintf("%s not compared: n/a in %s", f.name, side))
			continue
		}
		ch := report.Change{Metric: f.name, Unit: f.unit, Better: better(f.name)}
		if f.percentile > 0 && bh != nil && nh != nil {
			bootstrap(&ch, bh, nh, f.percentile, bv, nv, o)
		} else {
			overRuns(&ch, bv, nv, o)
		}
		ch.Verdict = verdict(ch, o)
		sc.Changes = append(sc.Changes, ch)
	}
	return sc, nil
}

// opsOf is the operations of each run, as a comparable key.
func opsOf(rs []report.Run) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%d,", r.Ops+r.Errors)
	}
	return b.String()
}

// sideHists are one side's latency histograms: all its operations, and
// each run's when every run has one.
type sideHists struct {
	all  *latency.Recorder
	runs []*latency.Recorder
}

// histograms decodes a scenario's histograms; nil when it has none to
// resample.
func histograms(s report.Scenario) (*sideHists, error) {
	all, err := decode(s.Histogram)
	if err != nil || all == nil {
		return nil, err
	}
	h := &sideHists{all: all}
	if s.Repeat == nil || len(s.Repeat.Runs) < 2 {
		return h, nil
	}
	for _, r := range s.Repeat.Runs {
		rh, err := decode(r.Histogram)
		if err != nil {
			return nil, err
		}
		if rh == nil {
			// A run without a histogram, or with an empty one: resample
			// operations only, not the runs that happen to have one.
			h.runs = nil
			return h, nil
		}
		h.runs = append(h.runs, rh)
	}
	return h, nil
}

func decode(enc string) (*latency.Recorder, error) {
	if enc == "" {
		return nil, nil
	}
	h, err := latency.Decode(enc)
	if err != nil || h.Count() == 0 {
		return nil, err // an empty histogram has no percentile to resample
	}
	return h, nil
}

// figures lists what to compare: throughput, the latency percentiles,
// errors, the derived metrics both sides have, and the counters that say
// something went wrong or that a threshold names, when either side has
// any.
func figures(bs, ns report.Scenario, sameOps bool) []figure {
	lat := func(name string, p float64, pick func(l report.Latency) int64) figure {
		return figure{name: name, unit: "ns", percentile: p, get: func(r report.Run) (float64, bool) { return float64(pick(r.Latency)), true }}
	}
	fs := []figure{
		{name: "throughput", unit: "ops/s", get: func(r report.Run) (float64, bool) { return r.ThroughputOpsPerSec, true }},
		lat("p50", 0, func(l report.Latency) int64 { return l.P50 }),
		lat("p95", 0, func(l report.Latency) int64 { return l.P95 }),
		lat("p99", 99, func(l report.Latency) int64 { return l.P99 }),
		lat("p99.9", 99.9, func(l report.Latency) int64 { return l.P999 }),
	}
	if bs.Errors+ns.Errors > 0 {
		fs = append(fs, perOp("errors", sameOps, func(r report.Run) (float64, bool) { return float64(r.Errors), true }))
	}
	for _, k := range sortedKeys(bs.Metrics) {
		if _, ok := ns.Metrics[k]; ok {
			fs = append(fs, figure{name: k, get: func(r report.Run) (float64, bool) { v, ok := r.Metrics[k]; return v, ok }})
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

// perOp is a count, or, when the sides ran different numbers of
// operations, the count per operation.
func perOp(name string, sameOps bool, get func(report.Run) (float64, bool)) figure {
	if sameOps {
		return figure{name: name, get: get}
	}
	return figure{name: name + "/op", get: func(r report.Run) (float64, bool) {
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

// bootstrap decides a tail percentile: point values from the histograms
// (all runs' operations), a bootstrap interval of the relative change, and
// with enough runs the U test over the runs' values too.
func bootstrap(ch *report.Change, bh, nh *sideHists, p float64, bv, nv []float64, o Options) {
	ch.Base, ch.New = float64(bh.all.Percentile(p)), float64(nh.all.Percentile(p))
	ch.ChangePct = change(ch.Base, ch.New)
	ch.Test = report.TestBootstrap
	lo, hi := interval(bh, nh, p, o)
	ch.CILowPct, ch.CIHighPct = report.Float(lo), report.Float(hi)
	if (len(bv) > 1 || len(nv) > 1) && (len(bh.runs) == 0 || len(nh.runs) == 0) {
		ch.Note = "no per-run histograms: operations resampled, not runs"
	}
	if len(bv) >= 2 && len(nv) >= 2 {
		if p, _, ok := uTest(bv, nv, o); ok {
			ch.P = report.Float(p)
		}
	}
}

// interval is the bootstrap (1 - alpha) interval of (new - base) / base, in
// percent, of percentile p.
//
// A replicate of one side resamples its runs (with replacement, when each
// run has its histogram: run-to-run spread counts), then the operations of
// the runs drawn, and takes percentile p of them all. The second stage is
// drawn exactly, not by resampling millions of values: the rank-k value of
// n values drawn with replacement is, through the inverse CDF, the sample's
// value at the k-th smallest of n uniforms, which is Beta(k, n-k+1)
// distributed. One Beta draw and a search of the drawn runs' CDFs give the
// replicate, so millions of operations resample in microseconds.
func interval(bh, nh *sideHists, p float64, o Options) (lo, hi float64) {
	rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	b, n := newResampler(bh, rng), newResampler(nh, rng)
	reps := make([]float64, o.Resamples)
	for i := range reps {
		// 1ns, the histograms' lowest discernible value, keeps a base of
		// 0 (recorded by another tool) from dividing by zero.
		bv := max(b.draw(p), 1)
		reps[i] = (n.draw(p) - bv) / bv * 100
	}
	sort.Float64s(reps)
	return quantile(reps, o.Alpha/2), quantile(reps, 1-o.Alpha/2)
}

// resampler draws bootstrap replicates of a percentile of one side.
type resampler struct {
	runs []step // each run's CDF (one entry: the side's operations only)
	// values are every step value of every run, sorted: the percentile of
	// runs together is one of them.
	values []int64
	picked []int
	rng    *rand.Rand
}

// step is an empirical CDF: cum[i] values are <= values[i].
type step struct{ values, cum []int64 }

func (s step) n() int64 { return s.cum[len(s.cum)-1] }

// at is how many values are <= v.
func (s step) at(v int64) int64 {
	i := sort.Search(len(s.values), func(i int) bool { return s.values[i] > v })
	if i == 0 {
		return 0
	}
	return s.cum[i-1]
}

func newResampler(h *sideHists, rng *rand.Rand) *resampler {
	hs := h.runs
	if len(hs) == 0 {
		hs = []*latency.Recorder{h.all}
	}
	r := &resampler{rng: rng, picked: make([]int, len(hs))}
	seen := map[int64]bool{}
	for _, rh := range hs {
		values, cum := rh.Steps()
		r.runs = append(r.runs, step{values, cum})
		for _, v := range values {
			if !seen[v] {
				seen[v] = true
				r.values = append(r.values, v)
			}
		}
	}
	sort.Slice(r.values, func(i, j int) bool { return r.values[i] < r.values[j] })
	return r
}

// draw is one replicate of percentile p.
func (r *resampler) draw(p float64) float64 {
	var n int64
	for i := range r.picked {
		r.picked[i] = i
		if len(r.runs) > 1 {
			r.picked[i] = r.rng.IntN(len(r.runs))
		}
		n += r.runs[r.picked[i]].n()
	}
	k := rank(p, n)
	u := distuv.Beta{Alpha: float64(k), Beta: float64(n - k + 1), Src: r.rng}.Rand()
	j := min(max(int64(math.Ceil(u*float64(n))), 1), n)
	// The smallest value with at least j of the drawn runs' values at or
	// below it.
	i := sort.Search(len(r.values), func(i int) bool {
		var c int64
		for _, run := range r.picked {
			c += r.runs[run].at(r.values[i])
		}
		return c >= j
	})
	return float64(r.values[min(i, len(r.values)-1)])
}

// rank is the rank HdrHistogram reports as percentile p of n values.
func rank(p float64, n int64) int64 {
	k := int64(p/100*float64(n) + 0.5)
	return min(max(k, 1), n)
}

// quantile of sorted values, by the nearest rank.
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
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
