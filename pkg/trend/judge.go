package trend

import (
	"fmt"
	"math"
	"slices"

	"github.com/rustci/rustci-perf/pkg/changepoint"
	"github.com/rustci/rustci-perf/pkg/metric"
)

// analyze finds r's change points, describes its segments and changes,
// and sets its status.
func (r *SeriesResult) analyze(opts changepoint.Options, minEffect float64) error {
	xs := make([]float64, len(r.Points))
	for i, p := range r.Points {
		xs[i] = p.Value
	}
	cps, err := changepoint.Detect(xs, opts)
	if err != nil {
		return fmt.Errorf("trend: %s %s: %w", r.Scenario, r.Metric, err)
	}
	bounds := []int{0}
	for _, cp := range cps {
		bounds = append(bounds, cp.Index)
	}
	bounds = append(bounds, len(xs))
	if len(xs) > 0 {
		for i := 1; i < len(bounds); i++ {
			seg := xs[bounds[i-1]:bounds[i]]
			r.Segments = append(r.Segments, Segment{From: bounds[i-1], To: bounds[i], Mean: mean(seg), Median: median(seg)})
		}
	}
	for i, cp := range cps {
		before, after := r.Segments[i], r.Segments[i+1]
		c := Change{Index: cp.Index, RunID: r.Points[cp.Index].RunID, At: r.Points[cp.Index].At,
			Before: Level{before.Mean, before.Median}, After: Level{after.Mean, after.Median},
			MeanChange: relative(before.Mean, after.Mean), MedianChange: relative(before.Median, after.Median),
			PValue: cp.PValue, Statistic: cp.Statistic,
			Direction:  direction(r.Better, before.Mean, after.Mean),
			FromCommit: r.Points[cp.Index-1].Commit, ToCommit: r.Points[cp.Index].Commit}
		r.Changes = append(r.Changes, c)
	}
	switch {
	case r.Better == "":
		r.Status = NotJudged
	case len(xs) < 2*opts.MinSize:
		r.Status = TooFew
		r.Notes = append(r.Notes, fmt.Sprintf("%s with a value, fewer than %d: no change can be found yet", plural(len(xs), "run"), 2*opts.MinSize))
	default:
		r.Status = OK
	}
	if r.Status != OK || len(r.Changes) == 0 {
		return nil
	}
	// The regressions in a row that end at the latest change, and the
	// level before the first of them.
	last := len(r.Changes) - 1
	first := last
	for first >= 0 && r.Changes[first].Direction == Regression {
		first--
	}
	first++
	for i := range r.Changes[:first] {
		if c := &r.Changes[i]; c.Direction == Regression {
			c.Note = "a later change undid or superseded it"
		}
	}
	if first > last {
		return nil
	}
	for i := first; i < last; i++ {
		r.Changes[i].Note = "a later regression followed it"
	}
	r.Regressed = &Regressed{Index: r.Changes[first].Index, RunID: r.Changes[first].RunID, Changes: last - first + 1,
		Before: r.Changes[first].Before, After: r.Changes[last].After,
		MeanChange: relative(r.Changes[first].Before.Mean, r.Changes[last].After.Mean),
		FromCommit: r.Changes[first].FromCommit, ToCommit: r.Changes[last].ToCommit}
	c := &r.Changes[last]
	if m := r.Regressed.MeanChange; metric.Valid(m) && math.Abs(m) < minEffect {
		c.Note = fmt.Sprintf("below the minimum effect of %s: reported, not alerting", percent(minEffect))
		return nil
	}
	c.Alert = true
	r.Status = Alert
	return nil
}

// direction says whether the mean's move from before to after is a
// regression or an improvement for a figure that is better higher, lower
// or nearer zero.
func direction(better string, before, after float64) string {
	switch {
	case better == metric.Zero:
		before, after = math.Abs(before), math.Abs(after)
		fallthrough
	case better == metric.Lower:
		before, after = -before, -after
	case better != metric.Higher:
		return Moved
	}
	// Now higher is better.
	switch {
	case after < before:
		return Regression
	case after > before:
		return Improvement
	}
	return Moved
}

func relative(before, after float64) float64 {
	if before == 0 {
		return metric.NA
	}
	v := (after - before) / math.Abs(before)
	if !metric.Valid(v) {
		return metric.NA
	}
	return v
}

func mean(xs []float64) float64 {
	// Each term divided first: a sum of large figures does not overflow.
	s := 0.0
	for _, x := range xs {
		s += x / float64(len(xs))
	}
	return s
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return s[n/2-1]/2 + s[n/2]/2
}

func percent(f float64) string {
	return fmt.Sprintf("%g%%", math.Round(f*1000)/10)
}
