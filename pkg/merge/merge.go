// Package merge is the one merge of a scenario's figures, in two modes:
// Concurrent, the reports of the same scenarios run at the same time on
// several machines (or pods, or CI runners), which Reports combines into
// one report, judging the thresholds again on the whole; and Sequential,
// a scenario's runs one after another (--count), which the run engine
// merges and judges itself.
//
// Histograms merge exactly from their encodings, so every percentile of a
// merge is the one of all operations together; operations, errors and
// counters are summed; the metrics package's catalogue says which derived
// metrics the summed counts give back (hit rates, fallback_rate,
// heap_bytes_per_item), which are derived again, n/a when the sums give
// nothing to divide by. What differs is time: concurrent parts overlap, so
// throughputs, targets and workers add and the duration is the longest;
// achieved_rate_ratio is the sum of what each source achieved over the
// sum of the targets; other derived metrics, which sums cannot give back,
// are left out and named in a note; the sources' intervals are left out,
// with a note: each machine's clock starts its own, so an interval of one
// is not the same 100ms as another's, and summing them by index would
// invent a time series no machine saw (so a threshold judged per window,
// p99[1s]<10ms, has no window in a merge: it fails as n/a, with a note).
// Sequential parts follow one
// another, so durations add and throughput is all operations over all
// that time; other derived metrics are the median of the runs'; the
// intervals follow one another, each marked with its run; and the runs
// are kept, with the spread of each figure (report.Repeat). Each kind of
// operation (reads, writes) merges the same way, so thresholds naming a
// kind (read.p99/read.p50<20) are judged again on the merged kind.
//
// The inputs of Reports are reports as report.ReadJSON returns them,
// which keep the invariants it checks; merging keeps them too. One report
// given twice (the same file, a link to it, a copy) is refused, since its
// operations would count twice, as is a sum beyond what a count or a
// figure holds.
package merge

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/rustci/rustci-perf/pkg/latency"
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
func Reports(ins []Input, tool report.Tool) (*report.Report, error) {
	if len(ins) < 2 {
		return nil, errors.New("merge: want at least two reports")
	}
	if err := distinct(ins); err != nil {
		return nil, err
	}
	first := ins[0].Report
	out := &report.Report{
		Schema:      report.Schema,
		ToolVersion: tool.Version,
		Provenance:  common(ins, tool),
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
		out.Sources = append(out.Sources, report.Source{File: in.File, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Environment: r.Environment, Provenance: r.Provenance})
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
		s, err := concurrently(parts, ins)
		if err != nil {
			return nil, err
		}
		out.Passed = out.Passed && (s.Passed || s.Status == report.StatusSkipped)
		out.Scenarios = append(out.Scenarios, s)
	}
	out.Passed = out.Passed && !out.Interrupted
	out.Injected = injected(ins, out.Scenarios)
	return out, nil
}

// common is a merged report's provenance: the merging binary, and the
// commit, branch, CI run and labels the sources all have alike (each
// source's own is under its Source).
func common(ins []Input, tool report.Tool) *report.Provenance {
	p := &report.Provenance{Tool: tool}
	first := ins[0].Report.Provenance
	if first == nil {
		return p
	}
	p.Commit, p.Branch, p.CI = first.Commit, first.Branch, first.CI
	for k, v := range first.Labels {
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		p.Labels[k] = v
	}
	for _, in := range ins[1:] {
		q := in.Report.Provenance
		if q == nil {
			return &report.Provenance{Tool: tool}
		}
		if q.Commit != p.Commit {
			p.Commit = ""
		}
		if q.Branch != p.Branch {
			p.Branch = ""
		}
		if p.CI != nil && (q.CI == nil || *q.CI != *p.CI) {
			p.CI = nil
		}
		for k, v := range p.Labels {
			if q.Labels[k] != v {
				delete(p.Labels, k)
			}
		}
	}
	if len(p.Labels) == 0 {
		p.Labels = nil
	}
	return p
}

// injected is every fault the sources ran with, each once, in the order
// first seen: a merge with one source that ran with faults is not a clean
// run either. When the sources differ, each scenario says which ran with
// what.
func injected(ins []Input, scenarios []report.Scenario) []string {
	var all []string
	same := true
	for _, in := range ins {
		same = same && slices.Equal(in.Report.Injected, ins[0].Report.Injected)
		for _, f := range in.Report.Injected {
			if !slices.Contains(all, f) {
				all = append(all, f)
			}
		}
	}
	if !same {
		var each []string
		for _, in := range ins {
			f := "none"
			if len(in.Report.Injected) > 0 {
				f = strings.Join(in.Report.Injected, "; ")
			}
			each = append(each, fmt.Sprintf("%s: %s", in.File, f))
		}
		note := "the sources ran with different faults injected (" + strings.Join(each, ", ") + ")"
		for i := range scenarios {
			scenarios[i].Notes = append(scenarios[i].Notes, note)
		}
	}
	return all
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
// fit: a count beyond int64, a figure beyond float64. parts names what is
// summed over ("reports", "runs").
type sums struct{ over, parts string }

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
	return fmt.Errorf("merge: scenario %s: %s summed over the %s is beyond what it can hold", scenario, sm.over, sm.parts)
}

// names lists a report's scenarios, comma-separated.
func names(r *report.Report) string {
	var out []string
	for _, s := range r.Scenarios {
		out = append(out, s.Name)
	}
	return strings.Join(out, ",")
}

// concurrently merges one scenario's parts, one per source, and judges
// every source's thresholds again on the whole. A scenario some source
// did not measure (an error, skipped, interrupted) is not merged.
func concurrently(parts []report.Scenario, ins []Input) (report.Scenario, error) {
	files := make([]string, len(ins))
	for j, in := range ins {
		files[j] = in.File
	}
	for j, p := range parts {
		if p.Status != report.StatusPassed && p.Status != report.StatusFailed {
			s := parts[0]
			m := report.Scenario{
				Name: s.Name, Group: s.Group, Component: s.Component, Mode: s.Mode,
				Status: p.Status, Error: p.Error, Reason: p.Reason,
				Counters: map[string]int64{}, Metrics: map[string]float64{}, Thresholds: []report.Threshold{},
				Notes: []string{fmt.Sprintf("%s in %s: not merged", p.Status, files[j])},
			}
			return m, nil
		}
	}
	mg, err := scenario(Concurrent, parts, files)
	if err != nil {
		return mg.s, err
	}
	m := mg.s
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
			if gone := droppedMetric(t, mg.dropped); gone != "" {
				m.Notes = append(m.Notes, fmt.Sprintf("%s not judged: %s cannot be derived from the sources' sums", rt.Expr, gone))
				continue
			}
			if t.Window.Set() {
				// The merge keeps no intervals, so no window: the
				// figure cannot be computed, and the threshold fails.
				m.Thresholds = append(m.Thresholds, report.Threshold{Expr: rt.Expr, Metric: rt.Metric, Op: string(t.Op), Limit: t.Limit, Unit: rt.Unit,
					Windows: &report.Windows{LengthNS: int64(t.Window.Length), SharePct: t.Window.Share}})
				m.Notes = append(m.Notes, fmt.Sprintf("%s is n/a: a merge of machines keeps none of their intervals, so it has no window of %s to judge (judge windows on each machine's own report)", rt.Expr, t.Window.Length))
				m.Passed = false
				continue
			}
			o := threshold.Eval(t, source(m, mg.hist, mg.kinds))
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

// source gives thresholds the merged figures, each kind's too.
func source(s report.Scenario, h *latency.Recorder, kinds map[string]*latency.Recorder) threshold.Source {
	return scenarioFigures(s, h, kinds).Source()
}

// Figures returns a report's scenario's figures under the names
// thresholds give them (threshold.Figures), its histograms decoded so
// that any percentile is the one of all its operations: the one
// conversion of a report.Scenario into figures, which merge judges its
// thresholds on again and package history stores. A scenario with no
// histogram (it did not run) has no latencies; a histogram that does not
// decode is an error.
func Figures(s report.Scenario) (threshold.Figures, error) {
	h, err := decodeOrEmpty(s.Histogram)
	if err != nil {
		return threshold.Figures{}, fmt.Errorf("scenario %s: %w", s.Name, err)
	}
	kinds := map[string]*latency.Recorder{}
	for _, op := range s.Operations {
		if kinds[op.Name], err = decodeOrEmpty(op.Histogram); err != nil {
			return threshold.Figures{}, fmt.Errorf("scenario %s, %s operations: %w", s.Name, op.Name, err)
		}
	}
	return scenarioFigures(s, h, kinds), nil
}

// decodeOrEmpty decodes an encoded histogram, an empty one for "".
func decodeOrEmpty(enc string) (*latency.Recorder, error) {
	if enc == "" {
		return latency.NewRecorder(), nil
	}
	return latency.Decode(enc)
}

// scenarioFigures are s's figures, its latency distribution h, each
// kind's in kinds.
func scenarioFigures(s report.Scenario, h *latency.Recorder, kinds map[string]*latency.Recorder) threshold.Figures {
	f := figures(s.Ops, s.Errors, s.ThroughputOpsPerSec, s.Latency, h)
	f.Duration = float64(s.DurationNS)
	f.Metrics, f.Counters = s.Metrics, s.Counters
	for _, op := range s.Operations {
		if f.Kinds == nil {
			f.Kinds = map[string]threshold.Figures{}
		}
		k := kinds[op.Name]
		if k == nil {
			k = latency.NewRecorder()
		}
		f.Kinds[op.Name] = figures(op.Ops, op.Errors, op.ThroughputOpsPerSec, op.Latency, k)
	}
	return f
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
