package engine

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/rustci/rustci-perf/pkg/cache"
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
	"github.com/rustci/rustci-perf/pkg/threshold"
)

// runs runs a scenario its settings' Count times, each on a component set
// up afresh. When ctx ends it stops, with the runs measured so far, and
// says it was interrupted: in a run's measured phase, in its setup (the
// error that ended the setup is then not the component's), or between
// runs.
func (p *Plan) runs(ctx context.Context, it item) (outs []*scenarios.Outcome, interrupted bool, err error) {
	for i := 0; i < max(1, it.settings.Count); i++ {
		if ctx.Err() != nil {
			return outs, true, nil
		}
		if it.settings.Count > 1 {
			p.observer().Run(it.sc.Name, i+1, it.settings.Count)
		}
		out, err := it.sc.Run(ctx, it.settings)
		if err != nil && ctx.Err() != nil {
			return outs, true, nil
		}
		if err != nil {
			return nil, false, err
		}
		openLoop(out, it.settings)
		outs = append(outs, out)
		if out.Interrupted {
			return outs, true, nil
		}
	}
	return outs, false, nil
}

// judgeOf is how s's thresholds are judged over repeated runs.
func judgeOf(s config.Settings) string {
	if s.Judge == "" {
		return "median"
	}
	return s.Judge
}

// judge decides t over the runs: on a single run, its value; else on the
// median of the runs' values, the worst of them, or each run (all must
// hold; the value shown is the worst).
func judge(t threshold.Threshold, outs []*scenarios.Outcome, how string) threshold.Outcome {
	if len(outs) == 1 {
		return threshold.Eval(t, source(outs[0]))
	}
	vals := make([]float64, len(outs))
	for i, o := range outs {
		vals[i] = threshold.Eval(t, source(o)).Actual
	}
	o := threshold.Outcome{Threshold: t}
	switch how {
	case "worst", "each":
		// For a single threshold the worst run fails whenever any does,
		// so "each" and "worst" agree on pass; they differ in intent.
		o.Actual = t.Worst(vals)
	default:
		o.Actual = median(vals)
	}
	o.Pass = t.Holds(o.Actual)
	return o
}

// median of vals (NaN when any is NaN: a run without the figure).
func median(vals []float64) float64 {
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

// repeatOf keeps each run's figures and their spread. It must run before
// merge, which folds the runs' histograms into the first run's.
func repeatOf(outs []*scenarios.Outcome, how string) *report.Repeat {
	r := &report.Repeat{Count: len(outs), Judge: how, Stats: map[string]report.Stat{}}
	series := map[string][]float64{}
	for _, o := range outs {
		l := latencyOf(o)
		run := report.Run{
			Ops: o.Ops, Errors: o.Errors, DurationNS: int64(o.Duration), ThroughputOpsPerSec: o.Throughput(),
			Latency: l, Counters: o.Counters, Metrics: o.Metrics,
		}
		if l.Count > 0 {
			if enc, err := o.Latency.Encode(); err == nil {
				run.Histogram = enc
			}
		}
		r.Runs = append(r.Runs, run)
		for k, v := range map[string]float64{
			"throughput": o.Throughput(), "mean": l.Mean, "p50": float64(l.P50), "p90": float64(l.P90),
			"p95": float64(l.P95), "p99": float64(l.P99), "p999": float64(l.P999), "max": float64(l.Max),
		} {
			series[k] = append(series[k], v)
		}
		for k, v := range o.Metrics {
			series[k] = append(series[k], v)
		}
	}
	for k, vals := range series {
		if len(vals) != len(outs) {
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
	st := report.Stat{Median: median(vals), Min: math.Inf(1), Max: math.Inf(-1)}
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

// merge folds the runs into one Outcome: operations, errors, durations and
// counters summed; latency histograms merged exactly (into the first
// run's); metrics the median of the runs'; tier counters summed (their
// latency dropped: it was per run).
func merge(outs []*scenarios.Outcome) *scenarios.Outcome {
	first := outs[0]
	m := &scenarios.Outcome{
		Result:    &harness.Result{Latency: first.Latency, ErrorLatency: first.ErrorLatency, Uncorrected: first.Uncorrected, Rate: first.Rate},
		Component: first.Component,
		Counters:  map[string]int64{},
		Metrics:   map[string]float64{},
		Notes:     append([]string{fmt.Sprintf("%d runs: ops, errors, durations and counters summed, latency histograms merged, metrics the median of the runs'", len(outs))}, first.Notes...),
	}
	var dur time.Duration
	metric := map[string][]float64{}
	for i, o := range outs {
		m.Ops += o.Ops
		m.Errors += o.Errors
		m.WarmupOps += o.WarmupOps
		m.Scheduled += o.Scheduled
		dur += o.Duration
		m.Interrupted = m.Interrupted || o.Interrupted
		if m.FirstError == nil {
			m.FirstError = o.FirstError
		}
		if i > 0 {
			m.Latency.Merge(o.Latency)
			m.ErrorLatency.Merge(o.ErrorLatency)
			if m.Uncorrected != nil {
				m.Uncorrected.Merge(o.Uncorrected)
			}
		}
		for k, v := range o.Counters {
			m.Counters[k] += v
		}
		for k, v := range o.Metrics {
			metric[k] = append(metric[k], v)
		}
		for j, t := range o.Tiers {
			if i == 0 {
				m.Tiers = append(m.Tiers, t)
				continue
			}
			if j < len(m.Tiers) {
				m.Tiers[j] = addTier(m.Tiers[j], t)
			}
		}
	}
	m.Duration = dur
	m.Kinds = mergeKinds(outs)
	for k, vals := range metric {
		m.Metrics[k] = median(vals)
	}
	return m
}

// addTier sums two readings' counters of one tier.
func addTier(a, b cache.TierStats) cache.TierStats {
	a.Hits += b.Hits
	a.Misses += b.Misses
	a.Sets += b.Sets
	a.Added += b.Added
	a.SetsDropped += b.SetsDropped
	a.SetsRejected += b.SetsRejected
	a.Evictions += b.Evictions
	a.Errors += b.Errors
	a.Skipped += b.Skipped
	a.Promotions += b.Promotions
	a.Degraded = a.Degraded || b.Degraded
	return a
}

// mergeKinds merges each kind of operation's figures over the runs, into
// recorders of its own (the runs' are left as they are).
func mergeKinds(outs []*scenarios.Outcome) []harness.KindResult {
	var ks []harness.KindResult
	for _, o := range outs {
		for i, k := range o.Kinds {
			if i == len(ks) {
				ks = append(ks, harness.KindResult{Name: k.Name, Latency: latency.NewRecorder()})
			}
			ks[i].Ops += k.Ops
			ks[i].Errors += k.Errors
			ks[i].Latency.Merge(k.Latency)
		}
	}
	return ks
}
