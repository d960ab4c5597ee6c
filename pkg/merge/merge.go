// Package merge combines the reports of the same scenarios run at the same
// time on several machines (or pods, or CI runners) into one report, and
// judges the thresholds again on the whole.
//
// Histograms merge exactly from their encodings, so every percentile of the
// merged report is the one of all operations together; operations, errors,
// workers and counters are summed; throughput is the sum of each source's
// (they ran at the same time, over windows that must overlap); the metrics
// package's catalogue says which derived metrics the summed counts give
// back (hit rates, fallback_rate, heap_bytes_per_item), which are derived
// again, n/a when the sums give nothing to divide by; achieved_rate_ratio
// is the sum of what each source achieved over the sum of the targets;
// other derived metrics, which sums cannot give back, are left out and
// named in a note. Each kind of operation (reads, writes) merges the same
// way, so thresholds naming a kind (read.p99/read.p50<20) are judged again
// on the merged kind. The sources' intervals are left out, with a note:
// each machine's clock starts its own, so an interval of one is not the
// same 100ms as another's, and summing them by index would invent a time
// series no machine saw.
//
// The inputs are reports as report.ReadJSON returns them, which keep the
// invariants it checks; merging keeps them too. One report given twice
// (the same file, a link to it, a copy) is refused, since its operations
// would count twice, as is a sum beyond what a count or a figure holds.
package merge

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/threshold"
)

// Input is one report to merge and where it came from.
type Input struct {
	File   string
	Report *report.Report
}

// Reports merges ins into one report made by version. The inputs are
// reports as report.ReadJSON returns them, which keep its invariants. Its
// errors are the inputs' faults: fewer than two, one given twice (the same
// report, through the same file, a link or a copy: its operations would
// count twice), different scenarios, windows that do not overlap, a
// scenario without its histogram, sums beyond what a count or a figure
// holds.
func Reports(ins []Input, version string) (*report.Report, error) {
	if len(ins) < 2 {
		return nil, errors.New("merge: want at least two reports")
	}
	if err := distinct(ins); err != nil {
		return nil, err
	}
	first := ins[0].Report
	out := &report.Report{
		Schema:      report.Schema,
		ToolVersion: version,
		StartedAt:   first.StartedAt,
		FinishedAt:  first.FinishedAt,
		Environment: first.Environment,
		Passed:      true,
	}
	overlapFrom, overlapTo := first.StartedAt, first.FinishedAt
	for _, in := range ins {
		r := in.Report
		if names(r) != names(first) {
			return nil, fmt.Errorf("merge: %s has scenarios %s, %s has %s: merge reports of the same scenarios", ins[0].File, names(first), in.File, names(r))
		}
		if r.StartedAt.Before(out.StartedAt) {
			out.StartedAt = r.StartedAt
		}
		if r.FinishedAt.After(out.FinishedAt) {
			out.FinishedAt = r.FinishedAt
		}
		if r.StartedAt.After(overlapFrom) {
			overlapFrom = r.StartedAt
		}
		if r.FinishedAt.Before(overlapTo) {
			overlapTo = r.FinishedAt
		}
		out.Interrupted = out.Interrupted || r.Interrupted
		out.Sources = append(out.Sources, report.Source{File: in.File, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Environment: r.Environment})
	}
	if !overlapFrom.Before(overlapTo) {
		return nil, fmt.Errorf("merge: the reports' time windows do not overlap (latest start %s, earliest end %s): they did not run at the same time",
			overlapFrom.UTC().Format(time.RFC3339), overlapTo.UTC().Format(time.RFC3339))
	}
	for i := range first.Scenarios {
		parts := make([]report.Scenario, len(ins))
		for j, in := range ins {
			parts[j] = in.Report.Scenarios[i]
		}
		s, err := scenario(parts, ins)
		if err != nil {
			return nil, err
		}
		out.Passed = out.Passed && (s.Passed || s.Status == report.StatusSkipped)
		out.Scenarios = append(out.Scenarios, s)
	}
	out.Passed = out.Passed && !out.Interrupted
	return out, nil
}

// distinct refuses an input given twice: the same file named twice, or
// two files holding the same report (a link, a copy), which JSON writes
// the same.
func distinct(ins []Input) error {
	seen := map[string]string{}
	for _, in := range ins {
		var b bytes.Buffer
		if err := report.JSON(&b, in.Report); err != nil {
			return fmt.Errorf("merge: %s: %w", in.File, err)
		}
		first, dup := seen[b.String()]
		switch {
		case dup && first == in.File:
			return fmt.Errorf("merge: %s is given twice: its operations would count twice", in.File)
		case dup:
			return fmt.Errorf("merge: %s and %s hold the same report (one file through a link, or a copy): its operations would count twice", first, in.File)
		}
		seen[b.String()] = in.File
	}
	return nil
}

// sums adds counts and figures, remembering the first sum that does not
// fit: a count beyond int64, a figure beyond float64.
type sums struct{ over string }

func (sm *sums) add(dst *int64, v int64, what string) {
	if (v > 0 && *dst > math.MaxInt64-v) || (v < 0 && *dst < math.MinInt64-v) {
		if sm.over == "" {
			sm.over = what
		}
		return
	}
	*dst += v
}

func (sm *sums) addFloat(dst *float64, v float64, what string) {
	if math.IsInf(*dst+v, 0) && sm.over == "" {
		sm.over = what
	}
	*dst += v
}

// err is the overflow, if any, of scenario's sums.
func (sm *sums) err(scenario string) error {
	if sm.over == "" {
		return nil
	}
	return fmt.Errorf("merge: scenario %s: %s summed over the reports is beyond what it can hold", scenario, sm.over)
}

// names lists a report's scenarios, comma-separated.
func names(r *report.Report) string {
	var out []string
	for _, s := range r.Scenarios {
		out = append(out, s.Name)
	}
	return strings.Join(out, ",")
}

// scenario merges one scenario's parts, one per source.
func scenario(parts []report.Scenario, ins []Input) (report.Scenario, error) {
	s := parts[0]
	m := report.Scenario{
		Name: s.Name, Group: s.Group, Component: s.Component, Mode: s.Mode,
		TargetRateOpsPerSec: 0,
		Counters:            map[string]int64{}, Metrics: map[string]float64{}, Thresholds: []report.Threshold{},
	}
	for j, p := range parts {
		if p.Status != report.StatusPassed && p.Status != report.StatusFailed {
			m.Status, m.Error, m.Reason = p.Status, p.Error, p.Reason
			m.Notes = append(m.Notes, fmt.Sprintf("%s in %s: not merged", p.Status, ins[j].File))
			return m, nil
		}
	}
	var hist *latency.Recorder
	var dropped []string
	var sm sums
	for j, p := range parts {
		h, err := latency.Decode(p.Histogram)
		if err != nil {
			return m, fmt.Errorf("merge: %s, scenario %s: %w", ins[j].File, p.Name, err)
		}
		if hist == nil {
			hist = h
		} else {
			hist.Merge(h)
		}
		sm.add(&m.Ops, p.Ops, "ops")
		sm.add(&m.Errors, p.Errors, "errors")
		sm.add(&m.WarmupOps, p.WarmupOps, "warmup_ops")
		concurrency := int64(m.Concurrency)
		sm.add(&concurrency, int64(p.Concurrency), "concurrency")
		m.Concurrency = int(concurrency)
		m.DurationNS = max(m.DurationNS, p.DurationNS)
		sm.addFloat(&m.ThroughputOpsPerSec, p.ThroughputOpsPerSec, "throughput_ops_per_sec")
		sm.addFloat(&m.TargetRateOpsPerSec, p.TargetRateOpsPerSec, "target_rate_ops_per_sec")
		for _, k := range slices.Sorted(maps.Keys(p.Counters)) {
			c := m.Counters[k]
			sm.add(&c, p.Counters[k], "counter "+k)
			m.Counters[k] = c
		}
		for k := range p.Metrics {
			if _, ok := m.Metrics[k]; !ok && !slices.Contains(dropped, k) {
				if recomputable(k) {
					m.Metrics[k] = metric.NA // derived below, from the sums
				} else {
					dropped = append(dropped, k)
				}
			}
		}
	}
	if err := sm.err(m.Name); err != nil {
		return m, err
	}
	enc, err := hist.Encode()
	if err != nil {
		return m, err
	}
	m.Histogram = enc
	kinds, err := operations(parts, ins, &m, &sm)
	if err != nil {
		return m, err
	}
	if n := intervalsOf(parts); n > 0 {
		m.Notes = append(m.Notes, fmt.Sprintf("the sources' %d intervals are left out: each machine's clock starts its own, so no interval of one is the same 100ms as another's; "+
			"the merged report has no time series, no precision, and compare judges its tails by resampling operations", n))
	}
	m.Latency = report.LatencyOf(hist.Summary())
	m.Latency.Clamped = 0 // decoding loses it: summed from the parts
	for _, p := range parts {
		m.Latency.Clamped += p.Latency.Clamped // each at most its ops: no overflow
	}
	m.Notes = append(m.Notes, recompute(parts, m.Counters, m.Metrics)...)
	sort.Strings(dropped)
	m.Notes = append(m.Notes, fmt.Sprintf("merged from %d reports: histograms merged exactly (each kind of operation's too), operations, workers and counters summed, throughput the sum of each source's over its own window", len(parts)))
	if len(dropped) > 0 {
		m.Notes = append(m.Notes, "left out, as sums cannot give them back: "+strings.Join(dropped, ", "))
	}
	// The thresholds of every source, judged again on the whole.
	m.Passed = true
	var seen []string
	for _, p := range parts {
		for _, rt := range p.Thresholds {
			if slices.Contains(seen, rt.Expr) {
				continue
			}
			seen = append(seen, rt.Expr)
			t, err := threshold.Parse(rt.Expr)
			if err != nil {
				return m, fmt.Errorf("merge: scenario %s: %w", p.Name, err)
			}
			if gone := droppedMetric(t, dropped); gone != "" {
				m.Notes = append(m.Notes, fmt.Sprintf("%s not judged: %s cannot be derived from the sources' sums", rt.Expr, gone))
				continue
			}
			o := threshold.Eval(t, source(m, hist, kinds))
			m.Thresholds = append(m.Thresholds, report.Threshold{Expr: rt.Expr, Metric: rt.Metric, Op: string(t.Op), Limit: t.Limit, Actual: report.Float(o.Actual), Unit: rt.Unit, Pass: o.Pass})
			m.Passed = m.Passed && o.Pass
		}
	}
	m.Status = report.StatusFailed
	if m.Passed {
		m.Status = report.StatusPassed
	}
	return m, nil
}

// droppedMetric returns a metric t reads that the merge left out, if any.
func droppedMetric(t threshold.Threshold, dropped []string) string {
	for _, m := range t.Metrics() {
		if slices.Contains(dropped, m.Name) {
			return m.Name
		}
	}
	return ""
}

// recomputable are the metrics merge derives again, as the catalogue says
// (metric.Def.Remergeable): from the summed counters (metric.Def.Derive),
// or, for achieved_rate_ratio, from the sources' own.
func recomputable(name string) bool {
	d, ok := metric.Lookup(name)
	return ok && d.Remergeable()
}

// recompute derives again each metric metrics names, from the summed
// counters or, for achieved_rate_ratio, from the sources' ratios and
// targets; it returns notes for those that come out n/a.
func recompute(parts []report.Scenario, counters map[string]int64, metrics map[string]float64) []string {
	var notes []string
	for _, k := range slices.Sorted(maps.Keys(metrics)) {
		var why string
		if k == metric.AchievedRate.Name {
			rates := make([]metric.RatePart, len(parts))
			for i, p := range parts {
				v, ok := p.Metrics[k]
				if !ok {
					v = metric.NA
				}
				rates[i] = metric.RatePart{Target: p.TargetRateOpsPerSec, Ratio: v}
			}
			metrics[k], why = metric.MergeRateRatios(rates)
		} else {
			d, _ := metric.Lookup(k)
			metrics[k], why = d.Derive(counters)
		}
		if why != "" {
			notes = append(notes, why)
		}
	}
	return notes
}

// source gives thresholds the merged figures, each kind's too.
func source(s report.Scenario, h *latency.Recorder, kinds map[string]*latency.Recorder) threshold.Source {
	f := figures(s.Ops, s.Errors, s.ThroughputOpsPerSec, s.Latency, h)
	f.Duration = float64(s.DurationNS)
	f.Metrics, f.Counters = s.Metrics, s.Counters
	for _, op := range s.Operations {
		if f.Kinds == nil {
			f.Kinds = map[string]threshold.Figures{}
		}
		f.Kinds[op.Name] = figures(op.Ops, op.Errors, op.ThroughputOpsPerSec, op.Latency, kinds[op.Name])
	}
	return f.Source()
}

// figures are the figures every set of operations has.
func figures(ops, errs int64, throughput float64, l report.Latency, h *latency.Recorder) threshold.Figures {
	return threshold.Figures{
		Ops: float64(ops), Errors: float64(errs), Throughput: throughput,
		Min: float64(l.Min), Mean: l.Mean, Stdev: l.Stdev, Max: float64(l.Max),
		Latencies:  h.Count() > 0,
		Percentile: func(p float64) float64 { return float64(h.Percentile(p)) },
	}
}

// operations merges the sources' kinds of operation into m, in the order
// they first appear: operations and errors summed, histograms merged
// exactly, throughput the sum of each source's. It returns each kind's
// merged histogram. A kind some source lacks is merged from those that
// have it, and a note says which.
func operations(parts []report.Scenario, ins []Input, m *report.Scenario, sm *sums) (map[string]*latency.Recorder, error) {
	hists := map[string]*latency.Recorder{}
	at := map[string]int{}
	for j, p := range parts {
		for _, op := range p.Operations {
			i, ok := at[op.Name]
			if !ok {
				i = len(m.Operations)
				at[op.Name] = i
				m.Operations = append(m.Operations, report.Operation{Name: op.Name})
				hists[op.Name] = latency.NewRecorder()
			}
			o := &m.Operations[i]
			sm.add(&o.Ops, op.Ops, op.Name+" ops")
			sm.add(&o.Errors, op.Errors, op.Name+" errors")
			sm.addFloat(&o.ThroughputOpsPerSec, op.ThroughputOpsPerSec, op.Name+" throughput_ops_per_sec")
			if op.Histogram == "" {
				if op.Ops > 0 {
					return nil, fmt.Errorf("merge: %s, scenario %s: %s operations have no histogram", ins[j].File, p.Name, op.Name)
				}
				continue
			}
			h, err := latency.Decode(op.Histogram)
			if err != nil {
				return nil, fmt.Errorf("merge: %s, scenario %s, %s operations: %w", ins[j].File, p.Name, op.Name, err)
			}
			hists[op.Name].Merge(h)
		}
	}
	if err := sm.err(m.Name); err != nil {
		return nil, err
	}
	for i := range m.Operations {
		o := &m.Operations[i]
		h := hists[o.Name]
		o.Latency = report.LatencyOf(h.Summary())
		o.Latency.Clamped = 0 // decoding loses it: summed from the parts
		var missing []string
		for j, p := range parts {
			found := false
			for _, op := range p.Operations {
				if op.Name == o.Name {
					found = true
					o.Latency.Clamped += op.Latency.Clamped
				}
			}
			if !found {
				missing = append(missing, ins[j].File)
			}
		}
		if len(missing) > 0 {
			m.Notes = append(m.Notes, fmt.Sprintf("%s operations are not in %s: merged from the other sources", o.Name, strings.Join(missing, ", ")))
		}
		if h.Count() > 0 {
			enc, err := h.Encode()
			if err != nil {
				return nil, err
			}
			o.Histogram = enc
		}
	}
	return hists, nil
}

// intervalsOf counts the sources' intervals.
func intervalsOf(parts []report.Scenario) int {
	n := 0
	for _, p := range parts {
		n += len(p.Intervals)
	}
	return n
}
