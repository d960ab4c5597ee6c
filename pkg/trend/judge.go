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
	bs := bounds(cps, len(xs))
	if len(xs) > 0 {
		for i := 1; i < len(bs); i++ {
			seg := xs[bs[i-1]:bs[i]]
			r.Segments = append(r.Segments, Segment{From: bs[i-1], To: bs[i], Mean: mean(seg), Median: median(seg)})
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
	case minPValue(len(xs)) > opts.Significance:
		// No split of so few runs, however clear, is significant at the
		// level each series is judged at: "ok" would be a promise the
		// test cannot keep.
		r.Status = TooFew
		r.Notes = append(r.Notes, fmt.Sprintf("%s with a value: judged at %s (the false alarm bound shared by the series judged at once), a change can be found from %d runs on",
			plural(len(xs), "run"), pValue(opts.Significance), runsFor(opts.Significance)))
	default:
		r.Status = OK
	}
	if r.Status != OK || len(r.Changes) == 0 {
		return nil
	}
	if err := r.machine(opts); err != nil {
		return err
	}
	// The code's changes: those the machine does not explain.
	var code []*Change
	for i := range r.Changes {
		if c := &r.Changes[i]; c.Machine == nil {
			code = append(code, c)
		}
	}
	if len(code) == 0 {
		return nil
	}
	// The regressions in a row that end at the code's latest change, and
	// the level before the first of them.
	last := len(code) - 1
	first := last
	for first >= 0 && code[first].Direction == Regression {
		first--
	}
	first++
	for _, c := range code[:first] {
		if c.Direction == Regression {
			c.Note = "a later change undid or superseded it"
		}
	}
	if first > last {
		return nil
	}
	for _, c := range code[first:last] {
		c.Note = "a later regression followed it"
	}
	r.Regressed = &Regressed{Index: code[first].Index, RunID: code[first].RunID, Changes: last - first + 1,
		Before: code[first].Before, After: code[last].After,
		MeanChange: relative(code[first].Before.Mean, code[last].After.Mean),
		FromCommit: code[first].FromCommit, ToCommit: code[last].ToCommit}
	c := code[last]
	if m := r.Regressed.MeanChange; metric.Valid(m) && math.Abs(m) < minEffect {
		c.Note = fmt.Sprintf("below the minimum effect of %s: reported, not alerting", percent(minEffect))
		return nil
	}
	c.Alert = true
	r.Status = Alert
	return nil
}

// MachineReach is how many runs apart a change of the canary and a
// change of a figure may be and still be one change: the canary is
// measured around a run, the figure within it, and a change of the
// machine during a run shows in one and not the other.
const MachineReach = 1

// machine marks the changes the machine's canary explains: the canary's
// own series, over the runs that have one, is searched for change points
// at changepoint's default significance (0.05: generous, since a change
// it explains only stops an alert). A change of a speed figure (a
// latency or a throughput) within MachineReach runs of one of the
// canary's is the machine's when the canary moved by MachineMin or more,
// the same way (a slower machine, a slower figure), and the figure's
// speed moved not more than MachineScale times as much (in logarithms).
// Other figures' changes are left alone: the machine's speed does not
// explain a hit rate.
func (r *SeriesResult) machine(opts changepoint.Options) error {
	var idx []int // indexes of the points with a canary
	var xs []float64
	for i, p := range r.Points {
		if p.Canary > 0 {
			idx = append(idx, i)
			xs = append(xs, p.Canary)
		}
	}
	switch {
	case len(idx) == 0:
		r.Notes = append(r.Notes, "no run has a canary (runs kept before it existed, or reports imported without one): a change of the machine cannot be told from one of the code")
	case len(idx) < len(r.Points):
		r.Notes = append(r.Notes, fmt.Sprintf("%d of %d runs have no canary (kept before it existed, or imported without one): a change of the machine there cannot be told from one of the code",
			len(r.Points)-len(idx), len(r.Points)))
	}
	copts := changepoint.DefaultOptions
	copts.MinSize, copts.Seed = opts.MinSize, opts.Seed
	cps, err := changepoint.Detect(xs, copts)
	if err != nil {
		return fmt.Errorf("trend: %s %s: canary: %w", r.Scenario, r.Metric, err)
	}
	bs := bounds(cps, len(xs))
	for k, cp := range cps {
		before, after := mean(xs[bs[k]:bs[k+1]]), mean(xs[bs[k+1]:bs[k+2]])
		at := idx[cp.Index] // the canary's change, as a point of the series
		machine := after / before
		if math.Abs(machine-1) < MachineMin {
			continue
		}
		for i := range r.Changes {
			c := &r.Changes[i]
			if c.Machine != nil || abs(c.Index-at) > MachineReach {
				continue
			}
			if explains(machine, speedRatio(r.Unit, c.Before.Mean, c.After.Mean)) {
				c.Machine = &Machine{Before: before, After: after, Change: relative(before, after)}
				c.Note = fmt.Sprintf("the machine's canary moved at the same runs (%s → %s, %s): the machine changed, not the code",
					value(metric.OpsPerSec, before), value(metric.OpsPerSec, after), change(c.Machine.Change))
			}
		}
	}
	return nil
}

// minPValue is the smallest p-value the permutation test can give n
// runs: that of the clearest change, halfway, every run before it below
// every run after. Only the permutations that put the same runs on each
// side (or the two sides swapped) are as extreme: 2 of C(n, n/2).
// (Checked against changepoint.Detect on clean steps, 20000
// permutations: n=8 0.028 (2/C 0.029), n=10 0.0080 (0.0079), n=12
// 0.0027 (0.0022).)
func minPValue(n int) float64 {
	c := 1.0
	for i := 1; i <= n/2; i++ {
		c = c * float64(n-n/2+i) / float64(i)
	}
	return min(1, 2/c)
}

// runsFor is the fewest runs whose clearest change can be significant at
// level s.
func runsFor(s float64) int {
	n := 2
	for minPValue(n) > s {
		n++
	}
	return n
}

// bounds are the segments' bounds n points make with change points cps:
// 0, each change point's index, n.
func bounds(cps []changepoint.ChangePoint, n int) []int {
	out := make([]int, 0, len(cps)+2)
	out = append(out, 0)
	for _, cp := range cps {
		out = append(out, cp.Index)
	}
	return append(out, n)
}

// MachineMin is the smallest move of the canary, relative, that explains
// a change: below it the canary is within its own noise.
const MachineMin = 0.05

// MachineScale bounds how much more a figure's speed may move than the
// canary's and still be the machine's, as a ratio of their logarithms.
// Measured on this VM over four histories of 30 runs, when only the
// machine changed (its regime, a CPU hog), figures moved 1.1 to 4.2 times
// as much as the canary: throughputs about as much (the limiter's −31%
// with the canary −16%), tail latencies more (a p99 2.8 times slower with
// the canary 22% slower: the tail pays the slower cache-line moves more
// than once). A p99 70 times slower beside a canary 10% slower is not the
// machine's.
const MachineScale = 5

// speedRatio is how much faster (above 1) or slower the change made a
// figure measured in unit: after/before for a throughput, before/after
// for a latency; NaN for any other figure, which the machine's speed does
// not explain (a hit rate, an error count).
func speedRatio(unit string, before, after float64) float64 {
	switch {
	case before <= 0 || after <= 0:
		return math.NaN()
	case unit == metric.OpsPerSec:
		return after / before
	case unit == metric.NS:
		return before / after
	}
	return math.NaN()
}

// explains says whether the machine's speed moving by the ratio machine
// explains a figure's speed moving by the ratio figure: the same way, and
// not more than MachineScale times as much.
func explains(machine, figure float64) bool {
	if !(figure > 0) || (machine < 1) != (figure < 1) {
		return false
	}
	return math.Abs(math.Log(figure)) <= MachineScale*math.Abs(math.Log(machine))
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
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
