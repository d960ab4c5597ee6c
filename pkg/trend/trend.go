// Package trend finds where a figure's level moved over a history of runs,
// and whether the latest run sits after a regression: the nightly job's
// verdict.
//
// The model, step by step:
//
//  1. The input is Series: one scenario's figure (p99, throughput,
//     read.p99) over runs, oldest first, each Point a run's value with its
//     run id, time, commit and branch. Points whose value is n/a (NaN or
//     infinite) are left out, with a note.
//  2. The figure's unit and better direction come from the metric
//     catalogue (metric.Lookup): lower for latencies, higher for
//     throughput and hit_rate, zero for a signed error (nearer 0 is
//     better), none for figures that are not judged.
//  3. Each series' change points are found by E-divisive means with a
//     permutation test (package changepoint). A series' significance is
//     the invocation's FalseAlarm divided by the number of series that can
//     alert (Bonferroni): a series without change reports a change point
//     with chance at most FalseAlarm/K, so an invocation over K series
//     without change alerts with chance at most FalseAlarm. The
//     permutations are enough for that significance (5/significance).
//  4. Each change point is described: the segment before and after it
//     (mean and median, in the figure's unit), the relative change of each
//     (after − before)/|before|, its p-value, its direction (regression,
//     improvement, or change when the figure has no better direction or
//     the mean did not move), and the commits between which it happened:
//     the last commit of the segment before, the first of the one after.
//  5. The verdict. A series alerts when its most recent change point is a
//     regression (so the latest segment, which the latest run is in, is
//     the regressed one) and the latest segment's mean is worse than the
//     level before the regressions in a row that lead to it by at least
//     MinEffect, relative (a change from a mean of exactly 0 counts as
//     large). Two regressions of 3% in a row alert as one of 6%; an older
//     regression that a later improvement or change undid or superseded
//     does not alert; a regression below MinEffect is reported and does
//     not alert. Every change point alerting is significant at the
//     series' significance. The invocation alerts when any series does.
//
// Measured false alarms and power (TestSimulate -simulate; defaults
// FalseAlarm 0.05, MinEffect 0.05, MinSize 3, so 0.05/27 per series and
// 2699 permutations): an invocation over 27 series of 30 runs of pure
// noise, 1000 invocations each, alerted in 0.8% of invocations with 3%
// Gaussian noise, 2.6% with log-normal noise (σ 0.2 of the log, like a
// p99's), and 1.1% with 3% Gaussian noise and 1 run in 20 an outlier at
// 2.5-4x: each under the 5% bound, which is loose because an alert also
// needs the latest change point to be a regression of 5% or more. A 10%
// step in a series with 3% Gaussian noise, among 27 series, alerted with
// its regression found within one run of the step in 97.8% of 1000
// invocations at 15+15 runs, 91.5% in the last 5 of 30 runs; a 5% step at
// 15+15, 38.1% (the minimum effect is 5%: about half the estimates fall
// below it).
package trend

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/rustci/rustci-perf/pkg/changepoint"
	"github.com/rustci/rustci-perf/pkg/metric"
)

// Schema identifies a Result written as JSON.
const Schema = "rustci-perf/trend/v1"

// Verdicts of a Result and statuses of a SeriesResult.
const (
	Alert = "alert"
	OK    = "ok"
	// TooFew is a series with fewer than 2·MinSize runs: nothing to split.
	TooFew = "too few runs"
	// NotJudged is a series whose figure has no better direction.
	NotJudged = "not judged"
)

// Directions of a Change.
const (
	Regression  = "regression"
	Improvement = "improvement"
	// Moved is a change with no better or worse: a figure without a better
	// direction, or a change of spread with the same mean.
	Moved = "change"
)

// Point is one run's value of a figure (the history store's).
type Point struct {
	RunID          int64
	At             time.Time
	Commit, Branch string
	Value          float64
	// Canary is how fast the machine was around the run (package
	// canary), 0 when unknown.
	Canary float64
}

// Series is one scenario's figure over runs, oldest first.
type Series struct {
	Scenario, Metric string
	Points           []Point
}

// Options set the analysis; a zero field takes Defaults'.
type Options struct {
	// FalseAlarm bounds the chance that an invocation over series without
	// change alerts: each series is searched at FalseAlarm/K, K the series
	// that can alert.
	FalseAlarm float64
	// MinEffect is the smallest relative change of the mean, a fraction,
	// that alerts.
	MinEffect float64
	// MinSize is the fewest runs of a segment: a regression alerts once
	// MinSize runs show it.
	MinSize int
	// Permutations per test; 0 is enough for the series' significance
	// (5/significance − 1, at least changepoint's default).
	Permutations int
	// Seed seeds the permutations (changepoint.DefaultSeed when 0).
	Seed uint64
}

// Defaults are the defaults of a zero Options field.
var Defaults = Options{FalseAlarm: 0.05, MinEffect: 0.05, MinSize: 3}

// Result is an analysis of series at once.
type Result struct {
	// Verdict is Alert when a series alerts, OK otherwise.
	Verdict string
	// Alerts counts the series that alert.
	Alerts int
	// FalseAlarm, MinEffect and MinSize are the options used;
	// Significance is each series', Permutations each test's.
	FalseAlarm, MinEffect, Significance float64
	MinSize, Permutations               int
	// Series are sorted by scenario, then metric.
	Series []SeriesResult
}

// SeriesResult is one series analysed.
type SeriesResult struct {
	Scenario, Metric string
	// Unit and Better are the catalogue's for Metric.
	Unit, Better string
	// Points are the series' runs with a value, oldest first.
	Points []Point
	// Segments are the runs between change points, in order.
	Segments []Segment
	Changes  []Change
	// Regressed is set when the latest change is a regression: the
	// regressions in a row that end at it, taken together.
	Regressed *Regressed
	// Status is Alert, OK, TooFew or NotJudged.
	Status string
	// Notes say what was left out or not judged.
	Notes []string
}

// Segment is a run of points between change points, [From, To).
type Segment struct {
	From, To     int
	Mean, Median float64
}

// Change is a change point: the first run of a new segment.
type Change struct {
	// Index is the first point of the new segment; RunID and At are its.
	Index int
	RunID int64
	At    time.Time
	// Before and After are the segments' levels, in the figure's unit.
	Before, After Level
	// MeanChange and MedianChange are (after − before)/|before|, a
	// fraction; NaN (n/a) when before is 0.
	MeanChange, MedianChange float64
	PValue, Statistic        float64
	// Direction is Regression, Improvement or Moved.
	Direction string
	// FromCommit is the last commit before the change, ToCommit the first
	// after: it happened between them.
	FromCommit, ToCommit string
	// Alert is true for the change that makes the series alert.
	Alert bool
	// Machine, when set, says the machine's canary moved at the same
	// runs, in the direction that explains the change: the machine
	// changed, and the change does not count as the code's.
	Machine *Machine
	// Note says why a regression does not alert.
	Note string
}

// Regressed is the latest segment against the level before the
// regressions in a row that lead to it (one, or several small steps).
type Regressed struct {
	// Index and RunID are the first regression's; Changes counts them.
	Index   int
	RunID   int64
	Changes int
	// Before is the level before the first, After the latest segment's.
	Before, After Level
	// MeanChange is (after − before)/|before| of the means, a fraction;
	// NaN (n/a) when before is 0.
	MeanChange float64
	// FromCommit is the last commit before the first regression, ToCommit
	// the first of the latest segment.
	FromCommit, ToCommit string
}

// Machine is the move of the machine's canary (package canary) at a
// change: its mean rate before and after, and (after − before)/before.
type Machine struct {
	Before, After, Change float64
}

// Level is a segment's mean and median.
type Level struct{ Mean, Median float64 }

// ErrInput is wrapped by the errors of series that cannot be analysed.
var ErrInput = errors.New("trend: invalid input")

func (o Options) resolve() (Options, error) {
	if o.FalseAlarm == 0 {
		o.FalseAlarm = Defaults.FalseAlarm
	}
	if o.MinEffect == 0 {
		o.MinEffect = Defaults.MinEffect
	}
	if o.MinSize == 0 {
		o.MinSize = Defaults.MinSize
	}
	switch {
	case !(o.FalseAlarm > 0 && o.FalseAlarm < 1):
		return o, fmt.Errorf("%w: false alarm rate %g is outside (0, 1)", ErrInput, o.FalseAlarm)
	case !(o.MinEffect >= 0 && o.MinEffect < 100):
		return o, fmt.Errorf("%w: minimum effect %g is outside [0, 100)", ErrInput, o.MinEffect)
	case o.MinSize < 2:
		return o, fmt.Errorf("%w: minimum segment size %d is below 2", ErrInput, o.MinSize)
	case o.Permutations < 0:
		return o, fmt.Errorf("%w: permutations %d is negative", ErrInput, o.Permutations)
	}
	return o, nil
}

// Analyze finds the change points of every series and judges them (see
// the package doc). It is an error for two series to share a scenario
// and metric, for a series' points not to be oldest first, or for opts to
// be out of range.
func Analyze(series []Series, opts Options) (*Result, error) {
	opts, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	out := &Result{Verdict: OK, FalseAlarm: opts.FalseAlarm, MinEffect: opts.MinEffect, MinSize: opts.MinSize}
	seen := map[[2]string]bool{}
	for _, s := range series {
		k := [2]string{s.Scenario, s.Metric}
		if seen[k] {
			return nil, fmt.Errorf("%w: two series of %s %s", ErrInput, s.Scenario, s.Metric)
		}
		seen[k] = true
		r, err := prepare(s)
		if err != nil {
			return nil, err
		}
		out.Series = append(out.Series, r)
	}
	slices.SortFunc(out.Series, func(a, b SeriesResult) int {
		return cmpStrings(a.Scenario, b.Scenario, a.Metric, b.Metric)
	})
	judged := 0
	for _, r := range out.Series {
		if r.Better != "" && len(r.Points) >= 2*opts.MinSize {
			judged++
		}
	}
	out.Significance = opts.FalseAlarm / float64(max(judged, 1))
	out.Permutations = opts.Permutations
	if out.Permutations == 0 {
		out.Permutations = max(int(math.Ceil(5/out.Significance))-1, changepoint.DefaultOptions.Permutations)
	}
	cpOpts := changepoint.Options{Significance: out.Significance, Permutations: out.Permutations, MinSize: opts.MinSize, Seed: opts.Seed}
	for i := range out.Series {
		r := &out.Series[i]
		if err := r.analyze(cpOpts, opts.MinEffect); err != nil {
			return nil, err
		}
		if r.Status == Alert {
			out.Alerts++
			out.Verdict = Alert
		}
	}
	return out, nil
}

func cmpStrings(a1, b1, a2, b2 string) int {
	if c := strings.Compare(a1, b1); c != 0 {
		return c
	}
	return strings.Compare(a2, b2)
}

// prepare checks s and keeps its points with a value.
func prepare(s Series) (SeriesResult, error) {
	r := SeriesResult{Scenario: s.Scenario, Metric: s.Metric}
	if d, ok := metric.Lookup(s.Metric); ok {
		r.Unit, r.Better = d.Unit, d.Better
	} else {
		r.Notes = append(r.Notes, fmt.Sprintf("%s is not in the metric catalogue: its changes are not judged", s.Metric))
	}
	var last time.Time
	for _, p := range s.Points {
		if !p.At.IsZero() {
			if p.At.Before(last) {
				return r, fmt.Errorf("%w: %s %s: run %d (%s) is before the run ahead of it (%s): points must be oldest first",
					ErrInput, s.Scenario, s.Metric, p.RunID, p.At.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339))
			}
			last = p.At
		}
		if !metric.Valid(p.Value) {
			continue
		}
		r.Points = append(r.Points, p)
	}
	if left := len(s.Points) - len(r.Points); left > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%s left out: %s n/a", plural(left, "run"), isAre(left)))
	}
	return r, nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func isAre(n int) string {
	if n == 1 {
		return "its value is"
	}
	return "their values are"
}
