package compare

import (
	"fmt"

	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/report"
)

// view is one side's figures of one set of operations: all a scenario's
// (kind ""), or one kind's (read, write) in a scenario that mixes them.
// The same tests judge both.
type view struct {
	kind string
	// runs are each run's figures (one run: its own). A kind of a
	// repeated scenario whose report has no intervals to give each run's
	// has one, its figures over all runs, and note says so.
	runs []report.Run
	// pooled are the figures over all runs together: the point figures
	// of a block bootstrap.
	pooled report.Run
	hists  *sideHists // nil: no histogram
	blocks *intervals // nil: too few intervals to resample
	note   string
}

// intervals are a side's intervals, grouped by run: the blocks of the
// block bootstrap. ops and ns are each block's, in lat's order.
type intervals struct {
	lat     *latency.Blocks
	ops, ns []int64
	// full is the number of intervals with a successful operation.
	full int
}

// views returns a scenario's views: all its operations', then each
// kind's, in the report's order.
func views(s report.Scenario) ([]view, error) {
	all := view{runs: runs(s), pooled: pooled(s)}
	var err error
	if all.hists, err = histograms(s); err != nil {
		return nil, err
	}
	ivs, err := decodeIntervals(s)
	if err != nil {
		return nil, err
	}
	all.blocks = blocksOf(ivs, func(iv decodedInterval) (int64, *latency.Recorder) { return iv.ops, iv.all })
	out := []view{all}
	for _, op := range s.Operations {
		v, err := kindView(s, op, ivs)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// pooled are a scenario's figures over all its runs.
func pooled(s report.Scenario) report.Run {
	return report.Run{Ops: s.Ops, Errors: s.Errors, DurationNS: s.DurationNS, ThroughputOpsPerSec: s.ThroughputOpsPerSec,
		Latency: s.Latency, Histogram: s.Histogram}
}

// kindView is the view of one kind of operation of s.
func kindView(s report.Scenario, op report.Operation, ivs [][]decodedInterval) (view, error) {
	v := view{kind: op.Name, pooled: report.Run{Ops: op.Ops, Errors: op.Errors, DurationNS: s.DurationNS,
		ThroughputOpsPerSec: op.ThroughputOpsPerSec, Latency: op.Latency, Histogram: op.Histogram}}
	all, err := decode(op.Histogram)
	if err != nil {
		return v, fmt.Errorf("%s: %w", op.Name, err)
	}
	if all != nil {
		v.hists = &sideHists{all: all}
	}
	pick := func(iv decodedInterval) (int64, *latency.Recorder) {
		k := iv.kinds[op.Name]
		return k.ops, k.rec
	}
	v.blocks = blocksOf(ivs, pick)
	v.runs = []report.Run{v.pooled}
	if s.Repeat == nil || len(s.Repeat.Runs) < 2 {
		return v, nil
	}
	if len(ivs) != len(s.Repeat.Runs) {
		v.note = "no intervals to give each run's figures: the kind's over all runs compared"
		return v, nil
	}
	// Each run's figures, from its intervals: they hold all its
	// operations.
	v.runs = nil
	var recs []*latency.Recorder
	for i, run := range ivs {
		rec := latency.NewRecorder()
		var ops, errs int64
		for _, iv := range run {
			n, r := pick(iv)
			ops += n
			errs += iv.kinds[op.Name].errors
			if r != nil {
				rec.Merge(r)
			}
		}
		r := report.Run{Ops: ops, Errors: errs, DurationNS: s.Repeat.Runs[i].DurationNS, Latency: report.LatencyOf(rec.Summary())}
		if r.DurationNS > 0 {
			r.ThroughputOpsPerSec = float64(ops) / (float64(r.DurationNS) / 1e9)
		}
		v.runs = append(v.runs, r)
		recs = append(recs, rec)
	}
	if v.hists != nil {
		v.hists.runs = recs
		for _, r := range recs {
			if r.Count() == 0 {
				v.hists.runs = nil // as for a run with no histogram
			}
		}
	}
	return v, nil
}

// decodedInterval is one interval of a report, its histograms decoded.
type decodedInterval struct {
	ops, ns int64
	all     *latency.Recorder // nil: no successful operation
	kinds   map[string]kindInterval
}

type kindInterval struct {
	ops, errors int64
	rec         *latency.Recorder
}

// decodeIntervals returns s's intervals grouped by run, in order; nil
// when it has none (a report from before intervals were recorded).
func decodeIntervals(s report.Scenario) ([][]decodedInterval, error) {
	var out [][]decodedInterval
	for i, iv := range s.Intervals {
		if iv.Run < 0 || iv.Run > len(s.Intervals) {
			return nil, fmt.Errorf("interval %d: run %d out of range", i, iv.Run)
		}
		for len(out) <= iv.Run {
			out = append(out, nil)
		}
		d := decodedInterval{ops: iv.Ops, ns: iv.DurationNS, kinds: map[string]kindInterval{}}
		var err error
		if d.all, err = decode(iv.Histogram); err != nil {
			return nil, fmt.Errorf("interval %d: %w", i, err)
		}
		for _, k := range iv.Operations {
			rec, err := decode(k.Histogram)
			if err != nil {
				return nil, fmt.Errorf("interval %d, %s: %w", i, k.Name, err)
			}
			d.kinds[k.Name] = kindInterval{ops: k.Ops, errors: k.Errors, rec: rec}
		}
		out[iv.Run] = append(out[iv.Run], d)
	}
	return out, nil
}

// blocksOf makes the blocks of a view from the intervals, each giving its
// operations and histogram by pick; nil when fewer than
// report.MinIntervals intervals have a successful operation, too few to
// say anything of their spread.
func blocksOf(ivs [][]decodedInterval, pick func(decodedInterval) (int64, *latency.Recorder)) *intervals {
	b := &intervals{}
	var groups [][]*latency.Compact
	for _, run := range ivs {
		var g []*latency.Compact
		for _, iv := range run {
			n, rec := pick(iv)
			var c *latency.Compact
			if rec != nil {
				c = rec.Compact()
				b.full++
			}
			g = append(g, c)
			b.ops, b.ns = append(b.ops, n), append(b.ns, iv.ns)
		}
		if len(g) > 0 {
			groups = append(groups, g)
		}
	}
	if b.full < report.MinIntervals {
		return nil
	}
	b.lat = latency.NewGroupedBlocks(groups)
	return b
}
