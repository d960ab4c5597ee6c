// The figures a comparison judges, and which way each is better.

package compare

import (
	"sort"
	"strings"

	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
)

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
			fs = append(fs, figure{name: k, unit: unit(k), better: better(k), get: func(r report.Run) (float64, bool) { v, ok := r.Metrics[k]; return v, ok }})
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
		return figure{name: name, unit: unit(name), better: better(name), pct: p, get: func(r report.Run) (float64, bool) { return float64(pick(r.Latency)), true }}
	}
	return []figure{
		{name: "throughput", unit: unit("throughput"), better: better("throughput"), rate: true, get: func(r report.Run) (float64, bool) { return r.ThroughputOpsPerSec, true }},
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

// better says which way a figure improves, as the metric catalogue defines
// it (a count per operation, errors/op, as the count): "higher", "lower",
// or "" when neither is, or the catalogue has no such figure.
func better(name string) string {
	d, _ := metric.Lookup(strings.TrimSuffix(name, "/op"))
	return d.Better
}

// unit is the catalogue's unit of a figure.
func unit(name string) string {
	d, _ := metric.Lookup(name)
	return d.Unit
}
