// The one merge of a scenario's parts, in either mode.

package merge

import (
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
)

// Mode is how the parts of a merge ran.
type Mode int

const (
	// Concurrent parts ran at the same time, on several machines: their
	// windows overlap, so throughputs, open-loop targets and workers add,
	// and the duration is the longest part's. Derived metrics that sums
	// cannot give back are left out; achieved_rate_ratio is what the parts
	// achieved together over their targets together. Intervals are left
	// out, with a note: each machine's clock starts its own.
	Concurrent Mode = iota
	// Sequential parts ran one after another, as a scenario's repeated runs
	// (--count): durations add, throughput is all operations over all that
	// time, workers and target are each run's. Derived metrics that sums
	// cannot give back are the median of the runs'. Intervals follow one
	// another, each marked with its run, and Repeat keeps each part and
	// the spread of its figures.
	Sequential
)

// parts names the parts of a merge in mode m, in notes and errors.
func (m Mode) parts() string {
	if m == Sequential {
		return "runs"
	}
	return "reports"
}

// merged is a scenario merged, with what its thresholds are judged on:
// the merged histograms, and the metrics left out.
type merged struct {
	s       report.Scenario
	hist    *latency.Recorder
	kinds   map[string]*latency.Recorder
	dropped []string
}

// Scenario merges the parts of one measured scenario (each with its
// histogram, as a run or report.ReadJSON gives it) in mode m; names name
// the parts in its errors and notes ("a.json", "run 2"). Histograms merge
// exactly (the uncorrected view's when every part has one, and each kind
// of operation's), so every percentile is the one of all operations
// together; operations, errors, warmup operations and counters add; the
// metrics the catalogue derives from counters (metric.Def.Derive) are
// derived again from the sums, n/a when the sums give nothing to divide
// by; the other metrics, and durations, throughputs, workers and
// intervals, as m says. Each tier's own latency is left out, with a note:
// only its summary is kept, and summaries do not merge.
//
// The result has no status, no thresholds and no precision, and none of
// the parts' notes: judging, and which notes of the parts still hold, are
// the caller's. Its errors are the parts' faults: a histogram that does
// not decode, sums beyond what a count or a figure holds.
func Scenario(m Mode, parts []report.Scenario, names []string) (report.Scenario, error) {
	mg, err := scenario(m, parts, names)
	return mg.s, err
}

func scenario(mode Mode, parts []report.Scenario, names []string) (merged, error) {
	first := parts[0]
	m := report.Scenario{
		Name: first.Name, Group: first.Group, Component: first.Component, Mode: first.Mode,
		Counters: map[string]int64{}, Metrics: map[string]float64{}, Thresholds: []report.Threshold{},
	}
	if mode == Sequential {
		m.Concurrency, m.TargetRateOpsPerSec, m.IntervalNS = first.Concurrency, first.TargetRateOpsPerSec, first.IntervalNS
		m.MeasuredAt = first.MeasuredAt
	}
	sm := sums{parts: mode.parts()}
	hist, err := histograms(parts, names, &sm, func(p report.Scenario) (string, int64) { return p.Histogram, p.Latency.Clamped })
	if err != nil {
		return merged{s: m}, err
	}
	m.Histogram, m.Latency = hist.enc, hist.latency
	if uncorrected(parts) {
		u, err := histograms(parts, names, &sm, func(p report.Scenario) (string, int64) {
			return p.HistogramUncorrected, p.LatencyUncorrected.Clamped
		})
		if err != nil {
			return merged{s: m}, err
		}
		m.HistogramUncorrected, m.LatencyUncorrected = u.enc, &u.latency
	}
	values := map[string][]float64{}
	for _, p := range parts {
		sm.add(&m.Ops, p.Ops, "ops")
		sm.add(&m.Errors, p.Errors, "errors")
		sm.add(&m.WarmupOps, p.WarmupOps, "warmup_ops")
		if mode == Concurrent {
			concurrency := int64(m.Concurrency)
			sm.add(&concurrency, int64(p.Concurrency), "concurrency")
			m.Concurrency = int(concurrency)
			m.DurationNS = max(m.DurationNS, p.DurationNS)
			sm.addFloat(&m.ThroughputOpsPerSec, p.ThroughputOpsPerSec, "throughput_ops_per_sec")
			sm.addFloat(&m.TargetRateOpsPerSec, p.TargetRateOpsPerSec, "target_rate_ops_per_sec")
		} else {
			sm.add(&m.DurationNS, p.DurationNS, "duration_ns")
		}
		for _, k := range slices.Sorted(maps.Keys(p.Counters)) {
			c := m.Counters[k]
			sm.add(&c, p.Counters[k], "counter "+k)
			m.Counters[k] = c
		}
		for k, v := range p.Metrics {
			values[k] = append(values[k], v)
		}
	}
	if err := sm.err(m.Name); err != nil {
		return merged{s: m}, err
	}
	if mode == Sequential {
		m.ThroughputOpsPerSec = perSecond(m.Ops, m.DurationNS)
	}
	kinds, err := operations(mode, parts, names, &m, &sm)
	if err != nil {
		return merged{s: m}, err
	}
	switch n := intervalsOf(parts); {
	case mode == Sequential:
		for j, p := range parts {
			for _, iv := range p.Intervals {
				iv.Run = j
				m.Intervals = append(m.Intervals, iv)
			}
		}
	case n > 0:
		m.Notes = append(m.Notes, fmt.Sprintf("the sources' %d intervals are left out: each machine's clock starts its own, so no interval of one is the same 100ms as another's; "+
			"the merged report has no time series, no precision, and compare judges its tails by resampling operations", n))
	}
	derived, medians, dropped, notes := metrics(mode, parts, values, metric.Counts(m.Counters, m.Ops, m.Errors), m.Metrics)
	m.Notes = append(m.Notes, notes...)
	if mode == Sequential {
		note := fmt.Sprintf("%d runs, one after another: ops, errors, durations and counters summed, throughput all operations over all that time, latency histograms merged exactly (each kind of operation's too)", len(parts))
		if len(derived) > 0 {
			note += "; " + strings.Join(derived, ", ") + " derived again from the summed counters"
		}
		if len(medians) > 0 {
			note += "; " + strings.Join(medians, ", ") + " the median of the runs'"
		}
		m.Notes = append([]string{note}, m.Notes...)
		m.Repeat = repeatOf(parts)
	} else {
		m.Notes = append(m.Notes, fmt.Sprintf("merged from %d reports: histograms merged exactly (each kind of operation's too), operations, workers and counters summed, throughput the sum of each source's over its own window", len(parts)))
		if len(dropped) > 0 {
			m.Notes = append(m.Notes, "left out, as sums cannot give them back: "+strings.Join(dropped, ", "))
		}
	}
	var timed []string
	m.Tiers, timed = tiers(parts)
	if len(timed) > 0 {
		m.Notes = append(m.Notes, fmt.Sprintf("the latency of %s's own calls is left out: each of the %s kept only its summary, and summaries do not merge", strings.Join(timed, " and "), mode.parts()))
	}
	return merged{s: m, hist: hist.rec, kinds: kinds, dropped: dropped}, nil
}

// perSecond is ops over ns nanoseconds, per second; 0 over no time.
func perSecond(ops, ns int64) float64 {
	if ns <= 0 {
		return 0
	}
	return float64(ops) / time.Duration(ns).Seconds()
}

// histogram is one distribution merged: the histogram, its encoding, and
// its summary, with the parts' clamped values summed (decoding loses
// them).
type histogram struct {
	rec     *latency.Recorder
	enc     string
	latency report.Latency
}

// histograms merges the distribution of's gives of every part, each an
// encoded histogram and how many of its values were clamped.
func histograms(parts []report.Scenario, names []string, sm *sums, of func(report.Scenario) (enc string, clamped int64)) (histogram, error) {
	all := latency.NewRecorder()
	var clamped int64
	for j, p := range parts {
		enc, c := of(p)
		h, err := latency.Decode(enc)
		if err != nil {
			return histogram{}, fmt.Errorf("merge: %s, scenario %s: %w", names[j], p.Name, err)
		}
		all.Merge(h)
		sm.add(&clamped, c, "clamped")
	}
	enc, err := all.Encode()
	if err != nil {
		return histogram{}, err
	}
	l := report.LatencyOf(all.Summary())
	l.Clamped = clamped
	return histogram{rec: all, enc: enc, latency: l}, nil
}

// uncorrected reports whether every part has an open loop's uncorrected
// view to merge.
func uncorrected(parts []report.Scenario) bool {
	for _, p := range parts {
		if p.HistogramUncorrected == "" || p.LatencyUncorrected == nil {
			return false
		}
	}
	return true
}

// metrics fills metrics with the parts' figures merged: the catalogue's
// derived again from the summed counts (counters, and the operations as
// metric.Counts puts them, for a figure per operation such as
// cpu_per_op); achieved_rate_ratio, of
// concurrent parts, from their ratios and targets; the others the median
// of the runs' (sequential) or left out (concurrent). It returns the names
// of each sort, and notes for the figures that come out n/a.
func metrics(mode Mode, parts []report.Scenario, values map[string][]float64, counts map[string]int64, metrics map[string]float64) (derived, medians, dropped, notes []string) {
	for _, k := range slices.Sorted(maps.Keys(values)) {
		d, ok := metric.Lookup(k)
		var why string
		switch {
		case ok && d.Derivable():
			metrics[k], why = d.Derive(counts)
			derived = append(derived, k)
		case mode == Sequential:
			metrics[k] = Median(values[k])
			medians = append(medians, k)
		case ok && d.ByTarget:
			rates := make([]metric.RatePart, len(parts))
			for i, p := range parts {
				v, ok := p.Metrics[k]
				if !ok {
					v = metric.NA
				}
				rates[i] = metric.RatePart{Target: p.TargetRateOpsPerSec, Ratio: v}
			}
			metrics[k], why = metric.MergeRateRatios(rates)
		default:
			dropped = append(dropped, k)
		}
		if why != "" {
			notes = append(notes, why)
		}
	}
	return derived, medians, dropped, notes
}

// Median is the median of vals, NaN when any is (a part without the
// figure): what a sequential merge makes of a figure sums cannot give
// back, and how repeated runs are judged by default.
func Median(vals []float64) float64 {
	s := append([]float64(nil), vals...)
	for _, v := range s {
		if math.IsNaN(v) {
			return v
		}
	}
	sort.Float64s(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// operations merges the parts' kinds of operation into m, in the order
// they first appear: operations and errors summed, histograms merged
// exactly, throughput the sum of each part's (concurrent) or all of the
// kind's operations over m's duration (sequential). It returns each kind's
// merged histogram. A kind some part lacks is merged from those that have
// it, and a note says which.
func operations(mode Mode, parts []report.Scenario, names []string, m *report.Scenario, sm *sums) (map[string]*latency.Recorder, error) {
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
			if mode == Concurrent {
				sm.addFloat(&o.ThroughputOpsPerSec, op.ThroughputOpsPerSec, op.Name+" throughput_ops_per_sec")
			}
			if op.Histogram == "" {
				if op.Ops > 0 {
					return nil, fmt.Errorf("merge: %s, scenario %s: %s operations have no histogram", names[j], p.Name, op.Name)
				}
				continue
			}
			h, err := latency.Decode(op.Histogram)
			if err != nil {
				return nil, fmt.Errorf("merge: %s, scenario %s, %s operations: %w", names[j], p.Name, op.Name, err)
			}
			hists[op.Name].Merge(h)
		}
	}
	if err := sm.err(m.Name); err != nil {
		return nil, err
	}
	for i := range m.Operations {
		o := &m.Operations[i]
		if mode == Sequential {
			o.ThroughputOpsPerSec = perSecond(o.Ops, m.DurationNS)
		}
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
				missing = append(missing, names[j])
			}
		}
		if len(missing) > 0 {
			m.Notes = append(m.Notes, fmt.Sprintf("%s operations are not in %s: merged from the other %s", o.Name, strings.Join(missing, ", "), mode.parts()))
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

// tiers are the parts' tiers, in the order they first appear, without
// their latency; timed names those that had some.
func tiers(parts []report.Scenario) (out []report.Tier, timed []string) {
	for _, p := range parts {
		for _, t := range p.Tiers {
			if !slices.ContainsFunc(out, func(o report.Tier) bool { return o.Name == t.Name }) {
				out = append(out, report.Tier{Name: t.Name})
			}
			if t.Latency != nil && !slices.Contains(timed, t.Name) {
				timed = append(timed, t.Name)
			}
		}
	}
	return out, timed
}

// intervalsOf counts the parts' intervals.
func intervalsOf(parts []report.Scenario) int {
	n := 0
	for _, p := range parts {
		n += len(p.Intervals)
	}
	return n
}

// repeatOf keeps each of a sequential merge's parts as a run, and the
// spread of each figure over them; how they were judged is the caller's.
func repeatOf(parts []report.Scenario) *report.Repeat {
	r := &report.Repeat{Count: len(parts), Stats: map[string]report.Stat{}}
	series := map[string][]float64{}
	for _, p := range parts {
		l := p.Latency
		run := report.Run{
			MeasuredAt: p.MeasuredAt,
			Ops:        p.Ops, Errors: p.Errors, DurationNS: p.DurationNS, ThroughputOpsPerSec: p.ThroughputOpsPerSec,
			Latency: l, Counters: p.Counters, Metrics: p.Metrics,
		}
		if l.Count > 0 {
			run.Histogram = p.Histogram
		}
		r.Runs = append(r.Runs, run)
		for k, v := range map[string]float64{
			"throughput": p.ThroughputOpsPerSec, "mean": l.Mean, "p50": float64(l.P50), "p90": float64(l.P90),
			"p95": float64(l.P95), "p99": float64(l.P99), "p999": float64(l.P999), "max": float64(l.Max),
		} {
			series[k] = append(series[k], v)
		}
		for k, v := range p.Metrics {
			series[k] = append(series[k], v)
		}
	}
	for k, vals := range series {
		if len(vals) != len(parts) {
			continue // a metric some runs lack has no spread to show
		}
		r.Stats[k] = statOf(vals)
	}
	return r
}

// statOf is the spread of a figure's values over runs. When a run's value
// is n/a, so is every field (written null). The CV of values whose mean is
// 0 is 0 when they are all equal, else n/a: no relative spread exists.
func statOf(vals []float64) report.Stat {
	st := report.Stat{Median: Median(vals), Min: math.Inf(1), Max: math.Inf(-1)}
	var sum, sq float64
	for _, v := range vals {
		if !metric.Valid(v) {
			return report.Stat{Median: metric.NA, Min: metric.NA, Max: metric.NA, CV: metric.NA}
		}
		st.Min, st.Max = math.Min(st.Min, v), math.Max(st.Max, v)
		sum += v
	}
	mean := sum / float64(len(vals))
	for _, v := range vals {
		sq += (v - mean) * (v - mean)
	}
	switch sd := math.Sqrt(sq / float64(len(vals))); {
	case mean != 0:
		st.CV = sd / math.Abs(mean)
	case sd != 0:
		st.CV = metric.NA
	}
	return st
}
