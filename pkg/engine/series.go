package engine

import (
	"fmt"
	"math"
	"time"

	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
	"github.com/rustci/rustci-perf/pkg/threshold"
)

// operationsOf returns each kind of operation's figures of a run: none
// when it has one kind.
func operationsOf(out *scenarios.Outcome) []report.Operation {
	var ops []report.Operation
	for _, k := range out.Kinds {
		o := report.Operation{
			Name: k.Name, Ops: k.Ops, Errors: k.Errors,
			Latency: report.LatencyOf(k.Latency.Summary()),
		}
		if out.Duration > 0 {
			o.ThroughputOpsPerSec = float64(k.Ops) / out.Duration.Seconds()
		}
		if k.Ops > 0 {
			if enc, err := k.Latency.Encode(); err == nil {
				o.Histogram = enc
			}
		}
		ops = append(ops, o)
	}
	return ops
}

// kindFigures gives thresholds each kind's figures ("read.p99").
func kindFigures(out *scenarios.Outcome) map[string]threshold.Figures {
	if len(out.Kinds) == 0 {
		return nil
	}
	m := map[string]threshold.Figures{}
	for _, k := range out.Kinds {
		l := k.Latency.Summary()
		f := threshold.Figures{
			Ops: float64(k.Ops), Errors: float64(k.Errors),
			Min: float64(l.Min), Mean: l.Mean, Stdev: l.Stdev, Max: float64(l.Max),
			Latencies:  k.Latency.Count() > 0,
			Percentile: func(p float64) float64 { return float64(k.Latency.Percentile(p)) },
		}
		if out.Duration > 0 {
			f.Throughput = float64(k.Ops) / out.Duration.Seconds()
		}
		m[k.Name] = f
	}
	return m
}

// intervalsOf returns a run's time series (merge.Sequential marks each
// interval with its run).
func intervalsOf(out *scenarios.Outcome) []report.Interval {
	var ivs []report.Interval
	for _, iv := range out.Intervals {
		ivs = append(ivs, intervalOf(iv))
	}
	return ivs
}

func intervalOf(iv harness.Interval) report.Interval {
	ri := report.Interval{StartNS: int64(iv.Start), DurationNS: int64(iv.Length), Ops: iv.Ops, Errors: iv.Errors}
	if iv.Length > 0 {
		ri.ThroughputOpsPerSec = float64(iv.Ops) / iv.Length.Seconds()
	}
	if iv.Ops > 0 {
		rec := iv.Latency.Recorder()
		ri.P50NS, ri.P99NS, ri.MaxNS = int64(rec.Percentile(50)), int64(rec.Percentile(99)), int64(rec.Max())
		if enc, err := rec.Encode(); err == nil {
			ri.Histogram = enc
		}
	}
	for _, k := range iv.Kinds {
		ro := report.IntervalOperation{Name: k.Name, Ops: k.Ops, Errors: k.Errors}
		if k.Ops > 0 {
			rec := k.Latency.Recorder()
			ro.P50NS, ro.P99NS = int64(rec.Percentile(50)), int64(rec.Percentile(99))
			if enc, err := rec.Encode(); err == nil {
				ro.Histogram = enc
			}
		}
		ri.Operations = append(ri.Operations, ro)
	}
	return ri
}

// bootstrapReps is the number of block-bootstrap replicates behind a
// precision; the seed makes a report reproducible.
const (
	bootstrapReps = 1000
	bootstrapSeed = 1
)

// precisionOf estimates how precisely a run's throughput and p99 are known
// from the spread of its intervals: for throughput, the standard error of
// the mean of the full intervals' throughputs; for p99 (and each kind's),
// a block bootstrap that resamples whole intervals. With several runs the
// intervals of all of them are the blocks. Nil when there are fewer than
// report.MinIntervals full intervals.
func precisionOf(outs []*scenarios.Outcome) *report.Precision {
	var rates []float64
	var blocks []*latency.Compact
	kinds := map[string][]*latency.Compact{}
	var every time.Duration
	for _, o := range outs {
		every = o.IntervalLength
		for _, iv := range o.Intervals {
			// A short last interval would weigh as much as a full one.
			if iv.Length < o.IntervalLength {
				continue
			}
			rates = append(rates, float64(iv.Ops)/iv.Length.Seconds())
			blocks = append(blocks, iv.Latency)
			for _, k := range iv.Kinds {
				kinds[k.Name] = append(kinds[k.Name], k.Latency)
			}
		}
	}
	p := &report.Precision{Intervals: len(rates)}
	if len(rates) < report.MinIntervals || every <= 0 {
		return p
	}
	var sum, sq float64
	for _, r := range rates {
		sum += r
	}
	mean := sum / float64(len(rates))
	for _, r := range rates {
		sq += (r - mean) * (r - mean)
	}
	if mean > 0 {
		se := math.Sqrt(sq/float64(len(rates)-1)) / math.Sqrt(float64(len(rates)))
		p.ThroughputPct = report.Float(100 * 1.96 * se / mean)
	}
	p.P99Pct = p99Precision(blocks)
	for name, bs := range kinds {
		if v := p99Precision(bs); v != nil {
			if p.Operations == nil {
				p.Operations = map[string]float64{}
			}
			p.Operations[name] = *v
		}
	}
	return p
}

// p99Precision is the half-width of the 95% block-bootstrap interval of
// the p99, in percent of the p99; nil when it has no value.
func p99Precision(blocks []*latency.Compact) *float64 {
	b := latency.NewBlocks(blocks)
	if b.Len() < report.MinIntervals {
		return nil
	}
	p99 := b.Percentile(99)
	if p99 <= 0 {
		return nil
	}
	lo, hi := b.Interval(99, 0.95, bootstrapReps, bootstrapSeed)
	return report.Float(100 * float64(hi-lo) / 2 / float64(p99))
}

// precisionNote says what a precision rests on, for the report's notes.
func precisionNote(p *report.Precision, every time.Duration) string {
	if p == nil || p.ThroughputPct == nil {
		n := 0
		if p != nil {
			n = p.Intervals
		}
		return fmt.Sprintf("%s: %d full intervals of %s, fewer than %d (run longer: --duration)", report.NotePrecision, n, every, report.MinIntervals)
	}
	return ""
}
