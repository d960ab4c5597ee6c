package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/merge"
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

// thresholdOf is the report's form of t judged as o.
func thresholdOf(t threshold.Threshold, o threshold.Outcome) report.Threshold {
	rt := report.Threshold{Expr: t.Expr, Metric: figureName(t), Op: string(t.Op), Limit: t.Limit, Actual: report.Float(o.Actual), Pass: o.Pass}
	if t.IsLatency() {
		rt.Unit = "ns"
	}
	return rt
}

// judgeOf is how s's thresholds are judged over repeated runs.
func judgeOf(s config.Settings) string {
	if s.Judge == "" {
		return "median"
	}
	return string(s.Judge)
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
		o.Actual = merge.Median(vals)
	}
	o.Pass = t.Holds(o.Actual)
	return o
}

// source gives thresholds the figures of one outcome. Latency figures do
// not exist when no operation succeeded; a metric that is n/a fails.
func source(out *scenarios.Outcome) threshold.Source {
	l := out.Latency.Summary()
	return threshold.Figures{
		Ops: float64(out.Ops), Errors: float64(out.Errors), Throughput: out.Throughput(), Duration: float64(out.Duration),
		Min: float64(l.Min), Mean: l.Mean, Stdev: l.Stdev, Max: float64(l.Max),
		Latencies:  out.Latency.Count() > 0,
		Percentile: func(p float64) float64 { return float64(out.Latency.Percentile(p)) },
		Metrics:    out.Metrics, Counters: out.Counters,
		Kinds: kindFigures(out),
	}.Source()
}

// scheduled is how long an open-loop run's measured phase is scheduled to
// last: its stages, its duration, or its operations at the rate (the j-th
// is due at j/rate, and each has an interval: ops/rate in all).
func scheduled(s config.Settings) time.Duration {
	switch {
	case len(s.Stages) > 0:
		return s.Stages.Total()
	case s.Duration > 0:
		return s.Duration
	case s.Rate > 0:
		return time.Duration(float64(s.Ops) / s.Rate * float64(time.Second))
	}
	return 0
}

// openLoop adds an open-loop outcome's achieved_rate_ratio to its metrics
// (metric.AchievedRateRatio: over the scheduled window, n/a for a run too
// short to tell), with a note when it is n/a; it does nothing in closed
// loop. Each run of a repeated scenario gets its own, and the scenario's
// is the median of the runs' (merge.Sequential), as for every metric that
// counters do not give back.
func openLoop(out *scenarios.Outcome, s config.Settings) {
	if out.Rate <= 0 {
		return
	}
	if out.Metrics == nil {
		out.Metrics = map[string]float64{}
	}
	v, why := metric.AchievedRateRatio(out.Ops+out.Errors, scheduled(s), out.Issued, out.Rate)
	if out.Interrupted {
		v, why = metric.NA, "achieved_rate_ratio is n/a: the run was interrupted before its schedule's end"
	}
	out.Metrics[metric.AchievedRate.Name] = v
	if why != "" {
		out.Notes = append(out.Notes, why)
	}
	if _, ok := out.Metrics[metric.CPUPerOp.Name]; ok {
		out.Notes = append(out.Notes, "cpu_per_op in open loop is the process's CPU per operation, the pacer's wait for each operation's due time included (it yields in a loop for the last 1.5ms before each): measure what an operation costs in closed loop")
	}
	if n, m := out.Ops+out.Errors, out.Scheduled; !out.Interrupted && n < m {
		out.Notes = append(out.Notes, fmt.Sprintf("the generator fell behind: issued %d of %d scheduled operations in %s (%.4g%%); the measured phase ended on time, without the rest",
			n, m, scheduled(s), 100*float64(n)/float64(m)))
	}
}
