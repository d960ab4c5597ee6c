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
// named in a note.
package merge

import (
	"errors"
	"fmt"
	"maps"
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

// Reports merges ins into one report made by version. Its errors are the
// inputs' faults: fewer than two, different scenarios, windows that do not
// overlap, a scenario without its histogram.
func Reports(ins []Input, version string) (*report.Report, error) {
	if len(ins) < 2 {
		return nil, errors.New("merge: want at least two reports")
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
		m.Ops += p.Ops
		m.Errors += p.Errors
		m.WarmupOps += p.WarmupOps
		m.Concurrency += p.Concurrency
		m.DurationNS = max(m.DurationNS, p.DurationNS)
		m.ThroughputOpsPerSec += p.ThroughputOpsPerSec
		m.TargetRateOpsPerSec += p.TargetRateOpsPerSec
		for k, v := range p.Counters {
			m.Counters[k] += v
		}
		for k := range p.Metrics {
			if _, ok := m.Metrics[k]; !ok && !contains(dropped, k) {
				if recomputable(k) {
					m.Metrics[k] = metric.NA // derived below, from the sums
				} else {
					dropped = append(dropped, k)
				}
			}
		}
	}
	enc, err := hist.Encode()
	if err != nil {
		return m, err
	}
	m.Histogram = enc
	m.Latency = report.LatencyOf(hist.Summary())
	m.Latency.Clamped = 0 // decoding loses it: summed from the parts
	for _, p := range parts {
		m.Latency.Clamped += p.Latency.Clamped
	}
	m.Notes = append(m.Notes, recompute(parts, m.Counters, m.Metrics)...)
	sort.Strings(dropped)
	m.Notes = append(m.Notes, fmt.Sprintf("merged from %d reports: histograms merged exactly, operations, workers and counters summed, throughput the sum of each source's over its own window", len(parts)))
	if len(dropped) > 0 {
		m.Notes = append(m.Notes, "left out, as sums cannot give them back: "+strings.Join(dropped, ", "))
	}
	// The thresholds of every source, judged again on the whole.
	m.Passed = true
	var seen []string
	for _, p := range parts {
		for _, rt := range p.Thresholds {
			if contains(seen, rt.Expr) {
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
			o := threshold.Eval(t, source(m, hist))
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
		if contains(dropped, m.Name) {
			return m.Name
		}
	}
	return ""
}

// recomputable are the metrics merge derives again: those the catalogue
// derives from counters (metric.Def.Derive), and achieved_rate_ratio, from
// the sources' own.
func recomputable(name string) bool {
	d, ok := metric.Lookup(name)
	return ok && (d.Derivable() || d.Name == metric.AchievedRate.Name)
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

// source gives thresholds the merged figures.
func source(s report.Scenario, h *latency.Recorder) threshold.Source {
	l := s.Latency
	return threshold.Figures{
		Ops: float64(s.Ops), Errors: float64(s.Errors), Throughput: s.ThroughputOpsPerSec, Duration: float64(s.DurationNS),
		Min: float64(l.Min), Mean: l.Mean, Stdev: l.Stdev, Max: float64(l.Max),
		Latencies:  h.Count() > 0,
		Percentile: func(p float64) float64 { return float64(h.Percentile(p)) },
		Metrics:    s.Metrics, Counters: s.Counters,
	}.Source()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
