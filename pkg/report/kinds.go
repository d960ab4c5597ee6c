package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/rustci/rustci-perf/pkg/metric"
)

// The lines every human-readable format (text, JUnit's system-out, HTML)
// writes about a scenario's kinds of operation, its precision and its time
// series: one wording, so the formats say the same thing.

// kindLine writes one kind of operation's figures as the main latency line
// does: "read: 8991 ops, 9 errors, 2416935 ops/s; p50 450ns, ...".
func kindLine(o Operation) string {
	head := fmt.Sprintf("%s: %d ops, %s", o.Name, o.Ops, plural(int(o.Errors), "error"))
	if o.Latency.Count == 0 {
		return head + "; latency n/a, no operation succeeded"
	}
	l := o.Latency
	return fmt.Sprintf("%s, %s; p50 %s, p95 %s, p99 %s, p99.9 %s, max %s", head, Throughput(o.ThroughputOpsPerSec),
		Duration(float64(l.P50)), Duration(float64(l.P95)), Duration(float64(l.P99)), Duration(float64(l.P999)), Duration(float64(l.Max)))
}

// plusMinus writes a precision, the half-width of a 95% confidence
// interval in percent, as "±7.93%"; NA when it could not be estimated.
func plusMinus(pct *float64) string {
	if pct == nil || !metric.Valid(*pct) {
		return NA
	}
	return "±" + sig(*pct) + "%"
}

// kindPrecision is the precision of kind's p99, nil when not estimated.
func kindPrecision(p *Precision, kind string) *float64 {
	if p == nil {
		return nil
	}
	v, ok := p.Operations[kind]
	if !ok {
		return nil
	}
	return &v
}

// precisionLine says how precisely s's figures are known: "throughput
// ±18.7%, p99 ±7.93%, read.p99 ±10.8%, write.p99 ±85.0% (95% CI from 10
// intervals of 100ms)"; "" when the report has no precision (a report of
// an older version, or a scenario that did not run).
func precisionLine(s Scenario) string {
	p := s.Precision
	if p == nil {
		return ""
	}
	every := Duration(float64(s.IntervalNS))
	if p.ThroughputPct == nil && p.P99Pct == nil && len(p.Operations) == 0 {
		return fmt.Sprintf("not estimated: %s of %s, fewer than the %d a 95%% CI needs", plural(p.Intervals, "full interval"), every, MinIntervals)
	}
	from := fmt.Sprintf("%s of %s", plural(p.Intervals, "interval"), every)
	parts := []string{"throughput " + estimated(p.ThroughputPct), "p99 " + estimated(p.P99Pct)}
	for _, k := range precisionKinds(s) {
		parts = append(parts, k+".p99 "+estimated(kindPrecision(p, k)))
	}
	return fmt.Sprintf("%s (95%% CI from %s)", strings.Join(parts, ", "), from)
}

// noteSaysPrecision reports whether one of s's notes already says that
// its precision could not be estimated (NotePrecision): the formats that
// print notes then leave out the precision line.
func noteSaysPrecision(s Scenario) bool {
	for _, n := range s.Notes {
		if strings.HasPrefix(n, NotePrecision) {
			return true
		}
	}
	return false
}

// estimated is plusMinus, or "not estimated".
func estimated(pct *float64) string {
	if pct == nil || !metric.Valid(*pct) {
		return "not estimated"
	}
	return plusMinus(pct)
}

// precisionKinds are the kinds whose precision is shown: the scenario's
// operations in their order, then any other the precision names, sorted.
func precisionKinds(s Scenario) []string {
	var out []string
	seen := map[string]bool{}
	for _, o := range s.Operations {
		out = append(out, o.Name)
		seen[o.Name] = true
	}
	if s.Precision == nil {
		return out
	}
	var more []string
	for k := range s.Precision.Operations {
		if !seen[k] {
			more = append(more, k)
		}
	}
	sort.Strings(more)
	return append(out, more...)
}

// seriesLine sums up s's time series in one line: how many intervals, and
// the range of throughput and p99 across the full ones, with where the p99
// was highest, so that a drift or a stall shows without a plot: "11
// intervals of 100ms (10 full): throughput 192810..450190 ops/s, p99
// 1.07µs..6.30µs (highest at 300ms)". "" without intervals.
func seriesLine(s Scenario) string {
	if len(s.Intervals) == 0 {
		return ""
	}
	runs := map[int]bool{}
	full := 0
	for _, iv := range s.Intervals {
		runs[iv.Run] = true
		if iv.DurationNS >= s.IntervalNS {
			full++
		}
	}
	// A short interval (the last one of a run) holds few operations, as
	// workers finish: the ranges are of the full intervals, as the
	// precision is, unless there is none.
	var lowT, highT float64
	var lowP, highP Interval
	seenT, seenP := false, false
	for _, iv := range s.Intervals {
		if iv.DurationNS <= 0 || (full > 0 && iv.DurationNS < s.IntervalNS) {
			continue
		}
		if !seenT || iv.ThroughputOpsPerSec < lowT {
			lowT = iv.ThroughputOpsPerSec
		}
		if !seenT || iv.ThroughputOpsPerSec > highT {
			highT = iv.ThroughputOpsPerSec
		}
		seenT = true
		if iv.Ops > 0 {
			if !seenP || iv.P99NS < lowP.P99NS {
				lowP = iv
			}
			if !seenP || iv.P99NS > highP.P99NS {
				highP = iv
			}
			seenP = true
		}
	}
	line := fmt.Sprintf("%s of %s", plural(len(s.Intervals), "interval"), Duration(float64(s.IntervalNS)))
	if len(runs) > 1 {
		line += fmt.Sprintf(" in %d runs", len(runs))
	}
	if full > 0 && full < len(s.Intervals) {
		line += fmt.Sprintf(" (%d full)", full)
	}
	var parts []string
	if seenT {
		tput := Throughput(lowT)
		if highT != lowT {
			tput = strconv.FormatFloat(lowT, 'f', 0, 64) + ".." + Throughput(highT)
		}
		parts = append(parts, "throughput "+tput)
	}
	if seenP {
		p99 := Duration(float64(lowP.P99NS))
		if highP.P99NS != lowP.P99NS {
			at := "0s"
			if highP.StartNS > 0 {
				at = Duration(float64(highP.StartNS))
			}
			where := "at " + at
			if len(runs) > 1 {
				where = fmt.Sprintf("in run %d at %s", highP.Run+1, at)
			}
			p99 = fmt.Sprintf("%s..%s (highest %s)", p99, Duration(float64(highP.P99NS)), where)
		}
		parts = append(parts, "p99 "+p99)
	}
	if len(parts) == 0 {
		return line + ": no operation succeeded"
	}
	return line + ": " + strings.Join(parts, ", ")
}
