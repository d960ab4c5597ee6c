// Thresholds judged per window of the time series: p99[1s]<10ms.

package engine

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
	"github.com/rustci/rustci-perf/pkg/scenarios"
	"github.com/rustci/rustci-perf/pkg/threshold"
)

// A windowed threshold (p99[1s]<10ms, p99[5s, 95%]<10ms) is judged on the
// measured phase's intervals: each run is cut into consecutive windows of
// whole intervals from its start (harness.Windows: histograms merged
// exactly, counts summed), the threshold's figure computed in each, and it
// holds when at least its share of the windows do. With --count every
// run has its own windows, and the share is over all runs' windows
// together: --judge, which chooses among runs' values, does not apply.
// Its actual is the worst window's value, and the report says which window
// that was, and how many held of how many.

// intervalFor is the interval length a scenario's measured phase is cut
// into so that every window of its thresholds is a whole number of
// intervals: the one the harness would choose for the run's planned
// length (harness.IntervalFor: 100ms, or a hundredth of a long run), or,
// when a window is not a multiple of that, the longest whole number of
// milliseconds from harness.MinInterval up to it that divides every
// window (a 30s run's 300ms intervals do not make 1s windows; 250ms ones
// do). Zero, the harness's choice, when no threshold is windowed. A window
// no such interval divides (150ms, with 100ms intervals) is the user's
// error, which names the threshold.
func intervalFor(name string, s config.Settings, ths []threshold.Threshold) (time.Duration, error) {
	var windows []threshold.Threshold
	for _, t := range ths {
		if t.Window.Set() {
			windows = append(windows, t)
		}
	}
	if len(windows) == 0 {
		return 0, nil
	}
	planned := s.Duration
	if len(s.Stages) > 0 {
		planned = s.Stages.Total()
	}
	for _, t := range windows {
		if planned > 0 && t.Window.Length > planned {
			return 0, fmt.Errorf("threshold %q: window %s is longer than %s's measured phase (%s): no window of it would be whole", t.Expr, t.Window.Length, name, planned)
		}
	}
	every := harness.IntervalFor(planned)
	divides := func(d time.Duration) bool {
		for _, t := range windows {
			if t.Window.Length%d != 0 {
				return false
			}
		}
		return true
	}
	for d := every.Truncate(time.Millisecond); d >= harness.MinInterval; d -= time.Millisecond {
		if divides(d) {
			return d, nil
		}
	}
	for _, t := range windows {
		if t.Window.Length%every != 0 {
			return 0, fmt.Errorf("threshold %q: window %s is not a whole number of %s's intervals of %s: a window is whole intervals of the time series (%s, %s, %s, ...)",
				t.Expr, t.Window.Length, name, every, every, 2*every, 3*every)
		}
	}
	return 0, fmt.Errorf("thresholds of %s: no interval from %s to %s divides every window", name, harness.MinInterval, every)
}

// windowed is a windowed threshold judged: its outcome, its report entry,
// and the notes a reader needs (why it is n/a; what was left out).
type windowed struct {
	outcome threshold.Outcome
	entry   report.Windows
	notes   []string
}

// judgeWindowed judges the windowed thresholds of ths on the runs outs;
// its result has an entry for each, by its index in ths. The thresholds
// of one window length are judged together, each window's histograms
// rebuilt once.
func judgeWindowed(ths []threshold.Threshold, outs []*scenarios.Outcome) map[int]*windowed {
	byLength := map[time.Duration][]int{}
	for i, t := range ths {
		if t.Window.Set() {
			byLength[t.Window.Length] = append(byLength[t.Window.Length], i)
		}
	}
	res := map[int]*windowed{}
	for _, length := range slices.Sorted(maps.Keys(byLength)) {
		judgeLength(ths, byLength[length], length, outs, res)
	}
	return res
}

// judgeLength judges the thresholds ths[idx], all windowed by length, on
// the runs' windows, into res.
func judgeLength(ths []threshold.Threshold, idx []int, length time.Duration, outs []*scenarios.Outcome, res map[int]*windowed) {
	values := make([][]float64, len(idx))
	var at []report.WindowAt
	var why []string // why a run has no window
	var left []harness.Interval
	needs := latencyNeeds(ths, idx)
	for r, out := range outs {
		if len(out.Intervals) == 0 || out.IntervalLength <= 0 {
			why = append(why, "the run has no time series")
			continue
		}
		whole, rest, err := harness.Windows(out.Intervals, out.IntervalLength, length)
		if err != nil {
			why = append(why, err.Error())
			continue
		}
		if len(whole) == 0 {
			ran := time.Duration(0)
			for _, iv := range out.Intervals {
				ran += iv.Length
			}
			why = append(why, fmt.Sprintf("the measured phase's time series, %s, is shorter than one window of %s (run longer: --duration)", report.Duration(float64(ran)), length))
		}
		if rest.Length > 0 && len(whole) > 0 {
			left = append(left, rest) // (a run with no window says so above)
		}
		for _, w := range whole {
			src := windowSource(w, needs)
			for j, i := range idx {
				plain := ths[i]
				plain.Window = threshold.Window{}
				values[j] = append(values[j], threshold.Eval(plain, src).Actual)
			}
			at = append(at, report.WindowAt{Run: r, StartNS: int64(w.Start)})
		}
	}
	var partial string
	if len(left) > 0 {
		partial = partialNote(length, left, len(outs))
	}
	for j, i := range idx {
		t := ths[i]
		w := &windowed{
			outcome: threshold.Outcome{Threshold: t, Actual: metric.NA},
			entry:   report.Windows{LengthNS: int64(length), SharePct: t.Window.Share, Total: len(values[j])},
		}
		for _, v := range values[j] {
			if t.Holds(v) {
				w.entry.Held++
			}
		}
		if worst := t.WorstAt(values[j]); worst >= 0 {
			place := at[worst]
			w.outcome.Actual = values[j][worst]
			w.entry.Worst = &place
			w.outcome.Pass = t.Window.Enough(w.entry.Held, w.entry.Total)
			if !metric.Valid(w.outcome.Actual) {
				from := "0s"
				if place.StartNS > 0 {
					from = report.Duration(float64(place.StartNS))
				}
				w.notes = append(w.notes, fmt.Sprintf("%s: the worst window's %s is n/a: in the window from %s%s it cannot be computed (no successful operation, or a ratio over zero), so that window did not hold",
					t.Expr, figureName(t), from, runOf(place, len(outs))))
			}
		} else {
			w.notes = append(w.notes, fmt.Sprintf("%s is n/a: no whole window of %s to judge: %s", t.Expr, length, reasons(why)))
		}
		if partial != "" {
			w.notes = append(w.notes, partial)
		}
		res[i] = w
	}
}

// reasons says why the runs had no window: each run's reason, once when
// every run has the same.
func reasons(why []string) string {
	if len(why) == 1 || len(slices.Compact(slices.Clone(why))) == 1 {
		if len(why) > 1 {
			return fmt.Sprintf("in each of the %d runs, %s", len(why), why[0])
		}
		return why[0]
	}
	out := make([]string, len(why))
	for i, w := range why {
		out[i] = fmt.Sprintf("run %d: %s", i+1, w)
	}
	return strings.Join(out, "; ")
}

// figureName is the figure a threshold compares: p99, read.p99/read.p50.
func figureName(t threshold.Threshold) string {
	if t.Right != nil {
		return t.Left.Name + "/" + t.Right.Name
	}
	return t.Left.Name
}

// runOf says which run a window is in, when there are several: " in run 2".
func runOf(w report.WindowAt, runs int) string {
	if runs < 2 {
		return ""
	}
	return fmt.Sprintf(" in run %d", w.Run+1)
}

// partialNote says what the windows of length left out: each run's
// intervals after its last whole window.
func partialNote(length time.Duration, left []harness.Interval, runs int) string {
	var ops, errs int64
	var longest time.Duration
	for _, iv := range left {
		ops += iv.Ops
		errs += iv.Errors
		longest = max(longest, iv.Length)
	}
	what := fmt.Sprintf("its last %s", report.Duration(float64(longest)))
	if runs > 1 {
		what = fmt.Sprintf("each run's last part (%d runs, up to %s)", len(left), report.Duration(float64(longest)))
	}
	return fmt.Sprintf("windows of %s are whole intervals from the measured phase's start: %s, a partial window of %d operations and %d errors, is in no window", length, what, ops, errs)
}

// need is which histograms the thresholds of a window length read: the
// whole's, and each kind's named.
type need struct {
	whole bool
	kinds map[string]bool
}

// latencyNeeds is what ths[idx] read of a window's histograms: rebuilding
// one costs as much as a Recorder (some 270 KB), so only those read are.
func latencyNeeds(ths []threshold.Threshold, idx []int) need {
	n := need{kinds: map[string]bool{}}
	for _, i := range idx {
		for _, m := range ths[i].Metrics() {
			if d, _ := metric.Lookup(m.Name); d.Unit != metric.NS {
				continue
			}
			if m.Kind != "" {
				n.kinds[m.Kind] = true
			} else {
				n.whole = true
			}
		}
	}
	return n
}

// windowSource gives thresholds one window's figures: its operations,
// errors, throughput (operations over the window's length) and, where
// needed, its latencies, each kind's too.
func windowSource(w harness.Interval, n need) threshold.Source {
	f := windowFigures(w.Ops, w.Errors, w.Length, w.Latency, n.whole)
	if len(w.Kinds) > 0 {
		f.Kinds = map[string]threshold.Figures{}
		for _, k := range w.Kinds {
			f.Kinds[k.Name] = windowFigures(k.Ops, k.Errors, w.Length, k.Latency, n.kinds[k.Name])
		}
	}
	return f.Source()
}

// windowFigures are the figures of a window's operations (or one kind's);
// its latency figures only when withLatency, else none.
func windowFigures(ops, errs int64, length time.Duration, lat *latency.Compact, withLatency bool) threshold.Figures {
	f := threshold.Figures{Ops: float64(ops), Errors: float64(errs), Throughput: float64(ops) / length.Seconds()}
	if !withLatency || lat == nil || lat.Count() == 0 {
		return f
	}
	rec := lat.Recorder()
	l := rec.Summary()
	f.Latencies = true
	f.Min, f.Mean, f.Max = float64(l.Min), l.Mean, float64(l.Max)
	f.Percentile = func(p float64) float64 { return float64(rec.Percentile(p)) }
	return f
}
