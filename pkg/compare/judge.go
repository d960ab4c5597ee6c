// Judging one figure: the test that applies (a U test over runs, a block
// bootstrap over one run's intervals), the noise floor, and the verdict.

package compare

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
	"golang.org/x/perf/benchmath"
)

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
	allocFloor(&ch, o)
	cpuFloor(&ch, b, n, o)
	sc.Changes = append(sc.Changes, ch)
}

// cpuFloor calls ~ a change in the CPU time per operation when a side
// measured less than Options.CPUFloor of CPU time in all: the process's
// background (its GC, timers, the harness's collector) is then a share of
// it that one run to the next changes, not the operation.
func cpuFloor(ch *report.Change, b, n view, o Options) {
	if ch.Metric != metric.CPUPerOp.Name || (ch.Verdict != report.Regression && ch.Verdict != report.Improvement) {
		return
	}
	bt, bok := cpuTotal(b.runs)
	nt, nok := cpuTotal(n.runs)
	least := math.Min(bt, nt)
	if !bok || !nok || least >= o.CPUFloor {
		return // a side without the totals: nothing says how much it measured
	}
	ch.Note = joinNote(ch.Note, fmt.Sprintf("a side measured %s of CPU time in all, under %s: the process's background, not the operation's (run longer)",
		time.Duration(least), time.Duration(o.CPUFloor)))
	ch.Verdict = report.NoChange
}

// cpuTotal is the CPU time runs measured in all, in ns, and whether
// every run has its counters.
func cpuTotal(runs []report.Run) (float64, bool) {
	var t float64
	for _, r := range runs {
		u, uok := r.Counters[metric.CPUUser.Name]
		s, sok := r.Counters[metric.CPUSystem.Name]
		if !uok || !sok {
			return 0, false
		}
		t += float64(u + s)
	}
	return t, true
}

// allocFloor calls ~ a change in what an operation allocates under the
// floor of its figure (Options.AllocsFloor, AllocBytesFloor), and says so.
func allocFloor(ch *report.Change, o Options) {
	floor, what := 0.0, ""
	switch ch.Metric {
	case metric.AllocsPerOp.Name:
		floor, what = o.AllocsFloor, "allocations"
	case metric.AllocBytesPerOp.Name:
		floor, what = o.AllocBytesFloor, "bytes"
	}
	if (ch.Verdict != report.Regression && ch.Verdict != report.Improvement) || math.Abs(ch.New-ch.Base) >= floor {
		return
	}
	ch.Note = joinNote(ch.Note, fmt.Sprintf("under %g %s per operation: the process's background, not the operation's", floor, what))
	ch.Verdict = report.NoChange
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
	pct := ch.ChangePct
	if ch.Better == metric.Zero {
		// A signed error is judged by its distance from 0: 3 to -3 is no
		// change.
		if math.Abs(ch.New) == math.Abs(ch.Base) {
			return report.NoChange
		}
		pct = change(math.Abs(ch.Base), math.Abs(ch.New))
	}
	large := pct == nil || math.Abs(*pct) >= o.MinEffect*100
	if !significant || !large {
		return report.NoChange
	}
	better := ch.New > ch.Base
	switch ch.Better {
	case metric.Lower:
		better = ch.New < ch.Base
	case metric.Zero:
		better = math.Abs(ch.New) < math.Abs(ch.Base)
	}
	if better {
		return report.Improvement
	}
	return report.Regression
}
