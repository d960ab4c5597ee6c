// A scenario's report: each run's figures, the runs merged, the verdict.

package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/merge"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
	"github.com/rustci/rustci-perf/pkg/threshold"
)

// runOne runs one planned scenario into its report, and returns the panic
// that made it an error, if one did.
func (p *Plan) runOne(ctx context.Context, it item) (report.Scenario, *harness.PanicError) {
	s := report.Scenario{
		Name:        it.sc.Name,
		Group:       it.sc.Group,
		Mode:        "closed-loop",
		Concurrency: it.settings.Concurrency,
		Counters:    map[string]int64{},
		Metrics:     map[string]float64{},
		Thresholds:  []report.Threshold{},
	}
	if it.sc.Unmet != nil {
		if why := it.sc.Unmet(it.settings); why != "" {
			s.Status, s.Reason = report.StatusSkipped, why
			return s, nil
		}
	}
	outs, search, interrupted, err := p.measure(ctx, it)
	if err != nil {
		s.Status, s.Error = report.StatusError, err.Error()
		var pe *harness.PanicError
		errors.As(err, &pe)
		return s, pe
	}
	if len(outs) == 0 {
		s.Status, s.Capacity = report.StatusInterrupted, search
		s.Notes = append(s.Notes, "interrupted while setting up: nothing was measured")
		return s, nil
	}
	m, err := measured(outs)
	if err != nil {
		s.Status, s.Error = report.StatusError, err.Error()
		return s, nil
	}
	m.Name, m.Group, m.Concurrency = s.Name, s.Group, s.Concurrency
	s = m
	s.Capacity = search
	if s.Repeat != nil {
		s.Repeat.Judge = judgeOf(it.settings)
	}
	s.Precision = precisionOf(outs)
	s.Notes = append(append(s.Notes, naNotes(s.Metrics, s.Notes)...), it.notes...)
	s.Notes = append(s.Notes, notApplied(p.injected, s.Notes)...)
	if n := precisionNote(s.Precision, outs[0].IntervalLength); n != "" {
		s.Notes = append(s.Notes, n)
	}
	if s.Errors > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d operations failed and are not in ops, throughput or latency; the first: %v", s.Errors, firstError(outs)))
	}
	if interrupted {
		s.Status = report.StatusInterrupted
		note := "interrupted: figures cover the operations that ran; thresholds were not judged"
		if n := it.settings.Count; n > 1 {
			note += fmt.Sprintf(" (%d of %d runs)", len(outs), n)
		}
		s.Notes = append(s.Notes, note)
		return s, nil
	}
	s.Passed = true
	windows := judgeWindowed(it.thresholds, outs)
	for i, t := range it.thresholds {
		if search != nil {
			// Judged at the rate found, a default throughput floor
			// it does not clear does not apply, as in any open-loop
			// run.
			at := it.settings
			at.Rate = s.TargetRateOpsPerSec
			if why := cannotApply(t, at); why != "" {
				s.Notes = append(s.Notes, why)
				continue
			}
		}
		var o threshold.Outcome
		var entry *report.Windows
		if w, ok := windows[i]; ok {
			o, entry = w.outcome, &w.entry
			for _, n := range w.notes {
				if !slices.Contains(s.Notes, n) {
					s.Notes = append(s.Notes, n)
				}
			}
		} else {
			o = judge(t, outs, judgeOf(it.settings))
		}
		rt := thresholdOf(t, o)
		rt.Windows = entry
		s.Thresholds = append(s.Thresholds, rt)
		s.Passed = s.Passed && o.Pass
	}
	if search != nil && search.MaxRate == nil {
		// A search that found no rate has no answer: a figure that could
		// not be computed is not a pass.
		s.Passed = false
		s.Notes = append(s.Notes, "the capacity search found no rate that held (max_rate n/a): the scenario fails")
	}
	s.Status = report.StatusFailed
	if s.Passed {
		s.Status = report.StatusPassed
	}
	return s, nil
}

// measure runs a planned scenario: its settings' Count times, or, in a
// capacity search, as the search goes, of which it returns the outcome the
// scenario reports and the search's report.
func (p *Plan) measure(ctx context.Context, it item) ([]*scenarios.Outcome, *report.Capacity, bool, error) {
	if p.capacity == nil {
		outs, interrupted, err := p.runs(ctx, it)
		return outs, nil, interrupted, err
	}
	out, search, interrupted, err := p.search(ctx, it, it.budget)
	if out == nil {
		return nil, search, interrupted, err
	}
	return []*scenarios.Outcome{out}, search, interrupted, err
}

// measured is the report of a scenario's runs, without verdict: one run's
// own, or several merged one after another (merge.Sequential: histograms
// merged exactly, each run kept in Repeat), with what each run noted.
func measured(outs []*scenarios.Outcome) (report.Scenario, error) {
	parts := make([]report.Scenario, len(outs))
	names := make([]string, len(outs))
	for i, o := range outs {
		parts[i], names[i] = partOf(o), fmt.Sprintf("run %d", i+1)
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	s, err := merge.Scenario(merge.Sequential, parts, names)
	if err != nil {
		return s, err
	}
	for _, n := range runNotes(parts, names) {
		if !slices.Contains(s.Notes, n) {
			s.Notes = append(s.Notes, n)
		}
	}
	return s, nil
}

// partOf is one run's report: its figures, its histograms encoded, its
// tiers and its notes.
func partOf(out *scenarios.Outcome) report.Scenario {
	s := report.Scenario{
		Component: out.Component,
		Mode:      "closed-loop",
		Ops:       out.Ops, Errors: out.Errors, WarmupOps: out.WarmupOps,
		DurationNS:          int64(out.Duration),
		ThroughputOpsPerSec: out.Throughput(),
		Latency:             report.LatencyOf(out.Latency.Summary()),
		Operations:          operationsOf(out),
		MeasuredAt:          out.Began,
		IntervalNS:          int64(out.IntervalLength),
		Intervals:           intervalsOf(out),
		Counters:            map[string]int64{},
		Metrics:             map[string]float64{},
		Thresholds:          []report.Threshold{},
		Notes:               slices.Clone(out.Notes),
	}
	maps.Copy(s.Counters, out.Counters)
	maps.Copy(s.Metrics, out.Metrics)
	if enc, err := out.Latency.Encode(); err == nil {
		s.Histogram = enc
	} else {
		s.Notes = append(s.Notes, fmt.Sprintf("the histogram could not be encoded: %v", err))
	}
	if out.Rate > 0 {
		if enc, err := out.Uncorrected.Encode(); err == nil {
			s.HistogramUncorrected = enc
		}
		s.Mode, s.TargetRateOpsPerSec = "open-loop", out.Rate
		u := report.LatencyOf(out.Uncorrected.Summary())
		s.LatencyUncorrected = &u
	}
	for _, t := range out.Tiers {
		s.Tiers = append(s.Tiers, tierOf(t.Name, out.TierLatency[t.Name]))
	}
	return s
}

// tierOf is a tier's report: its name and the latency of its own calls
// (its counts are in the scenario's counters already).
func tierOf(name string, lat *latency.Summary) report.Tier {
	rt := report.Tier{Name: name}
	if lat != nil {
		l := report.LatencyOf(*lat)
		rt.Latency = &l
	}
	return rt
}

// runNotes are the notes of several runs, as many as the runs have kinds
// of note, however many runs there are: a note every run has, once, as it
// is; notes that differ only in their figures ("allowed 31999" in one run,
// "allowed 31998" in another), once, after the runs that have one, with
// the first of them's figures.
func runNotes(parts []report.Scenario, names []string) []string {
	type group struct {
		first string
		runs  []int
		same  bool // every run's text is first
	}
	var order []string
	groups := map[string]*group{}
	for j, p := range parts {
		seen := map[string]int{} // notes of each shape in this run so far
		for _, n := range slices.Compact(slices.Clone(p.Notes)) {
			shape := figures.ReplaceAllString(n, "#")
			seen[shape]++
			shape += "\x00" + strconv.Itoa(seen[shape])
			g, ok := groups[shape]
			if !ok {
				g = &group{first: n, same: true}
				groups[shape] = g
				order = append(order, shape)
			}
			if len(g.runs) == 0 || g.runs[len(g.runs)-1] != j {
				g.runs = append(g.runs, j)
			}
			g.same = g.same && n == g.first
		}
	}
	var out []string
	for _, shape := range order {
		g := groups[shape]
		switch {
		case g.same && len(g.runs) == len(parts):
			out = append(out, g.first)
		case len(g.runs) == 1:
			out = append(out, names[g.runs[0]]+": "+g.first)
		case g.same:
			out = append(out, runsLabel(g.runs)+": "+g.first)
		default:
			out = append(out, fmt.Sprintf("%s, figures differing by run (%s's here): %s", runsLabel(g.runs), names[g.runs[0]], g.first))
		}
	}
	return out
}

// figures matches the numbers in a note, not those in a name (l1, p99).
var figures = regexp.MustCompile(`\b[0-9]+(\.[0-9]+)?`)

// runsLabel names runs by number, ranges joined: "runs 1-3, 5".
func runsLabel(runs []int) string {
	var parts []string
	for i := 0; i < len(runs); {
		j := i
		for j+1 < len(runs) && runs[j+1] == runs[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", runs[i]+1, runs[j]+1))
		} else {
			parts = append(parts, fmt.Sprint(runs[i]+1))
		}
		i = j + 1
	}
	return "runs " + strings.Join(parts, ", ")
}

// notApplied notes each injected fault no note says went anywhere (its
// target is not in this scenario: l2 without Redis, l1 under the limiter),
// so that a report marked as injected never hides that a scenario ran
// clean.
func notApplied(injected, notes []string) []string {
	var out []string
	for _, f := range injected {
		if !slices.ContainsFunc(notes, func(n string) bool { return strings.HasPrefix(n, "injected fault "+f) }) {
			out = append(out, fmt.Sprintf("injected fault %s not applied: this scenario has no %s", f, strings.SplitN(f, ":", 2)[0]))
		}
	}
	return out
}

// firstError is the first error of the first run that had one.
func firstError(outs []*scenarios.Outcome) error {
	for _, o := range outs {
		if o.FirstError != nil {
			return o.FirstError
		}
	}
	return nil
}

// naNotes are notes for the metrics that are n/a and that no note names,
// so that every n/a in a report says it is one.
func naNotes(metrics map[string]float64, notes []string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(metrics)) {
		if metric.Valid(metrics[k]) {
			continue
		}
		named := false
		for _, n := range notes {
			named = named || strings.Contains(n, k+" is n/a")
		}
		if !named {
			out = append(out, k+" is n/a: it could not be computed; a threshold on it fails")
		}
	}
	return out
}
