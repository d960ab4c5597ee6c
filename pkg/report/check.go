package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/threshold"
)

// The invariants a report keeps as the run and merge write it, which its
// schema cannot say; ReadJSON checks them (check) on every report read
// back, so that compare and merge never work from figures that contradict
// each other:
//
//   - the run: it finishes no earlier than it starts; it passed when, and
//     only when, it was not interrupted and every scenario passed or was
//     skipped; a scenario interrupted means the run was;
//   - one entry per scenario name, per kind of operation;
//   - a scenario's status agrees with passed (status passed), error (status
//     error), reason (status skipped) and its thresholds (passed: all held;
//     failed: one missed);
//   - every latency summary counts one value per successful operation
//     (ops), clamped ones among them: recording clamps a value outside the
//     histogram's range to its edge and counts it, it drops none; a
//     histogram, decoded, holds exactly that many values and gives back
//     the summary beside it, figure for figure (so it is this scenario's,
//     and compare, which resamples it, and the summary judge the same
//     operations). The same for the uncorrected view, each kind of
//     operation, each interval (and each kind in it) and each run of a
//     repeated scenario; the intervals add up to the scenario's operations
//     and errors, as do the runs;
//   - counters are counts, never negative, but for the differences a
//     metric.Def declares Signed (heap growth, items stored); a figure that
//     is a share (metric.Def.Share: hit rates, fallback_rate) is in [0, 1].
//
// Intervals and kinds of operation are not checked against each other: a
// merged report may hold a kind that some sources lacked.

// check returns the first invariant r breaks, as an *Invalid; nil when it
// keeps them all.
func check(r *Report) error {
	if r.FinishedAt.Before(r.StartedAt) {
		return &Invalid{Pointer: "/finished_at", Problem: fmt.Sprintf("%s is before started_at, %s", r.FinishedAt.Format(timeFormat), r.StartedAt.Format(timeFormat))}
	}
	seen := map[string]int{}
	passed, interrupted := !r.Interrupted, ""
	for i, s := range r.Scenarios {
		at := fmt.Sprintf("/scenarios/%d", i)
		if j, dup := seen[s.Name]; dup {
			return &Invalid{Pointer: at + "/name", Scenario: s.Name, Problem: fmt.Sprintf("scenario %q again (also /scenarios/%d): a report has one entry per scenario", s.Name, j)}
		}
		seen[s.Name] = i
		if err := checkScenario(at, s); err != nil {
			return err
		}
		if err := measuredAt(r, at, s); err != nil {
			return err
		}
		passed = passed && (s.Passed || s.Status == StatusSkipped)
		if s.Status == StatusInterrupted && interrupted == "" {
			interrupted = s.Name
		}
	}
	if interrupted != "" && !r.Interrupted {
		return &Invalid{Pointer: "/interrupted", Problem: fmt.Sprintf("false, but scenario %s was interrupted", interrupted)}
	}
	if r.Passed != passed {
		return &Invalid{Pointer: "/passed", Problem: fmt.Sprintf("%t, but %s", r.Passed, whyPassed(r))}
	}
	return nil
}

const timeFormat = "2006-01-02T15:04:05.999999999Z07:00"

// measuredAt checks that s's measured phases, when it says when they
// began, began within r's run.
func measuredAt(r *Report, at string, s Scenario) error {
	times := map[string]time.Time{at + "/measured_at": s.MeasuredAt}
	if s.Repeat != nil {
		for i, run := range s.Repeat.Runs {
			times[fmt.Sprintf("%s/repeat/runs/%d/measured_at", at, i)] = run.MeasuredAt
		}
	}
	for _, ptr := range slices.Sorted(maps.Keys(times)) {
		if t := times[ptr]; !t.IsZero() && (t.Before(r.StartedAt) || t.After(r.FinishedAt)) {
			return &Invalid{Pointer: ptr, Scenario: s.Name, Problem: fmt.Sprintf("%s is outside the run, %s to %s", t.Format(timeFormat), r.StartedAt.Format(timeFormat), r.FinishedAt.Format(timeFormat))}
		}
	}
	return nil
}

// whyPassed says why r passed or not, from its scenarios.
func whyPassed(r *Report) string {
	if r.Interrupted {
		return "the run was interrupted"
	}
	for _, s := range r.Scenarios {
		if !s.Passed && s.Status != StatusSkipped {
			return fmt.Sprintf("scenario %s is %s", s.Name, s.Status)
		}
	}
	return "every scenario passed or was skipped"
}

// checkScenario checks s, found at pointer at.
func checkScenario(at string, s Scenario) error {
	bad := func(field, format string, args ...any) error {
		return &Invalid{Pointer: at + field, Scenario: s.Name, Problem: fmt.Sprintf(format, args...)}
	}
	switch {
	case s.Passed != (s.Status == StatusPassed):
		return bad("/passed", "%t with status %s", s.Passed, s.Status)
	case (s.Error != "") != (s.Status == StatusError):
		if s.Error == "" {
			return bad("/error", "missing: status error says why in error")
		}
		return bad("/error", "%q with status %s: only a scenario that could not run (status error) has one", s.Error, s.Status)
	case (s.Reason != "") != (s.Status == StatusSkipped):
		if s.Reason == "" {
			return bad("/reason", "missing: status skipped says why in reason")
		}
		return bad("/reason", "%q with status %s: only a skipped scenario has one", s.Reason, s.Status)
	}
	missed := -1
	for i, t := range s.Thresholds {
		if !t.Pass {
			missed = i
			break
		}
	}
	switch {
	case s.Status == StatusPassed && missed >= 0:
		return bad(fmt.Sprintf("/thresholds/%d/pass", missed), "false (%s missed) with status passed", s.Thresholds[missed].Expr)
	case s.Status == StatusFailed && missed < 0:
		return bad("/status", "failed, but every threshold held")
	}
	for i, t := range s.Thresholds {
		if err := windows(fmt.Sprintf("/thresholds/%d", i), t, s.Repeat, bad); err != nil {
			return err
		}
	}

	if err := distribution("", "", s.Ops, s.Latency, s.Histogram, bad); err != nil {
		return err
	}
	if s.LatencyUncorrected != nil {
		if err := distribution("", "_uncorrected", s.Ops, *s.LatencyUncorrected, s.HistogramUncorrected, bad); err != nil {
			return err
		}
	}
	kinds := map[string]int{}
	for i, o := range s.Operations {
		in := fmt.Sprintf("/operations/%d", i)
		if j, dup := kinds[o.Name]; dup {
			return bad(in+"/name", "%q again (also operations/%d): one entry per kind of operation", o.Name, j)
		}
		kinds[o.Name] = i
		if err := distribution(in, "", o.Ops, o.Latency, o.Histogram, bad); err != nil {
			return err
		}
	}
	if err := intervals(s, bad); err != nil {
		return err
	}
	if err := counts("", s.Counters, s.Metrics, bad); err != nil {
		return err
	}
	if s.Capacity != nil {
		if err := checkCapacity(s, bad); err != nil {
			return err
		}
	}
	if s.Repeat != nil {
		return runs(s, bad)
	}
	return nil
}

// windows checks the windows of threshold t, found at pointer at: a
// threshold judged per window (p99[1s]<10ms) says how its windows went,
// in agreement with its expression and its verdict, and no other does; the
// worst window is in a run the scenario has (rp: its runs, nil for one).
func windows(at string, t Threshold, rp *Repeat, bad func(string, string, ...any) error) error {
	parsed, perr := threshold.Parse(t.Expr)
	w := t.Windows
	if w == nil {
		if perr == nil && parsed.Window.Set() {
			return bad(at+"/windows", "missing: %s is judged per window, and says how its windows went", t.Expr)
		}
		return nil
	}
	th := at
	at += "/windows"
	want := threshold.Window{Length: time.Duration(w.LengthNS), Share: w.SharePct}
	runs := 1
	if rp != nil {
		runs = rp.Count
	}
	switch {
	case perr != nil || parsed.Window != want:
		return bad(at, "windows of %s, %g%% needed, but the expression %s judges %s", time.Duration(w.LengthNS), w.SharePct, t.Expr, wholeOrWindow(parsed.Window))
	case w.Held > w.Total:
		return bad(at+"/held", "%d, more than the %d windows", w.Held, w.Total)
	case t.Pass != want.Enough(w.Held, w.Total):
		return bad(at+"/held", "%d of %d windows, %g%% needed, but pass is %t", w.Held, w.Total, w.SharePct, t.Pass)
	case w.Total == 0 && w.Worst != nil:
		return bad(at+"/worst", "present, with no window")
	case w.Total == 0 && t.Actual != nil:
		return bad(th+"/actual", "%g with no window: a threshold with no window to judge is n/a", *t.Actual)
	case w.Total > 0 && w.Worst == nil:
		return bad(at+"/worst", "missing: the worst of %d windows is placed", w.Total)
	case w.Worst != nil && w.Worst.Run >= runs:
		return bad(at+"/worst/run", "%d, but the scenario has %d runs (numbered from 0)", w.Worst.Run, runs)
	}
	return nil
}

// wholeOrWindow says what a threshold judges: the whole phase, or windows.
func wholeOrWindow(w threshold.Window) string {
	if !w.Set() {
		return "the whole phase"
	}
	return fmt.Sprintf("windows of %s, %g%% needed", w.Length, w.Share)
}

// distribution checks a latency summary l, and its histogram enc when
// there is one, against ops: l counts one value per operation, and enc
// holds them and gives back l. in is where, within the scenario ("" for
// its own, "/operations/1"), suffix that of the fields' names
// ("_uncorrected").
func distribution(in, suffix string, ops int64, l Latency, enc string, bad func(string, string, ...any) error) error {
	field := in + "/latency" + suffix + "_ns"
	switch {
	case l.Count != ops:
		return bad(field+"/count", "%d, but ops is %d: a latency is counted for each successful operation", l.Count, ops)
	case l.Clamped > l.Count:
		return bad(field+"/clamped", "%d, more than the %d values counted", l.Clamped, l.Count)
	case enc == "":
		return nil
	}
	hist := in + "/histogram" + suffix
	h, err := latency.Decode(enc)
	if err != nil {
		return bad(hist, "%v", err)
	}
	if n := h.Count(); n != ops {
		return bad(hist, "holds %d values, but ops is %d: it is not the histogram of these operations", n, ops)
	}
	got := LatencyOf(h.Summary())
	if name, want, have, ok := sameSummary(l, got); !ok {
		return bad(field+"/"+name, "%v, but the histogram's %s is %v: the summary is not of this histogram", want, name, have)
	}
	return nil
}

// sameSummary compares a summary read with the one its histogram gives,
// field by field; the first that differs is named, with both values. Mean
// and stdev are computed from the same counts in the same order, and JSON
// carries a float64 exactly: they must be equal too, within rounding.
func sameSummary(read, hist Latency) (name string, want, have any, ok bool) {
	ints := []struct {
		name   string
		rd, hs int64
	}{
		{"min", read.Min, hist.Min}, {"p50", read.P50, hist.P50}, {"p90", read.P90, hist.P90},
		{"p95", read.P95, hist.P95}, {"p99", read.P99, hist.P99}, {"p999", read.P999, hist.P999}, {"max", read.Max, hist.Max},
	}
	for _, f := range ints {
		if f.rd != f.hs {
			return f.name, f.rd, f.hs, false
		}
	}
	for _, f := range []struct {
		name   string
		rd, hs float64
	}{{"mean", read.Mean, hist.Mean}, {"stdev", read.Stdev, hist.Stdev}} {
		if math.Abs(f.rd-f.hs) > 1e-9*math.Max(1, math.Abs(f.hs)) {
			return f.name, f.rd, f.hs, false
		}
	}
	return "", nil, nil, true
}

// intervals checks s's time series: each interval's histogram holds its
// operations and gives back its percentiles, and together they hold the
// scenario's operations and errors.
func intervals(s Scenario, bad func(string, string, ...any) error) error {
	if len(s.Intervals) == 0 {
		return nil
	}
	var ops, errs int64
	for i, iv := range s.Intervals {
		at := fmt.Sprintf("/intervals/%d", i)
		ops += iv.Ops
		errs += iv.Errors
		if err := interval(at, iv.Ops, iv.Histogram, map[string]int64{"p50_ns": iv.P50NS, "p99_ns": iv.P99NS, "max_ns": iv.MaxNS}, bad); err != nil {
			return err
		}
		for j, o := range iv.Operations {
			if err := interval(fmt.Sprintf("%s/operations/%d", at, j), o.Ops, o.Histogram, map[string]int64{"p50_ns": o.P50NS, "p99_ns": o.P99NS}, bad); err != nil {
				return err
			}
		}
	}
	switch {
	case ops != s.Ops:
		return bad("/intervals", "hold %d operations, but ops is %d: they are not this scenario's time series", ops, s.Ops)
	case errs != s.Errors:
		return bad("/intervals", "hold %d errors, but errors is %d: they are not this scenario's time series", errs, s.Errors)
	}
	return nil
}

// interval checks one interval's (or one kind's in it) histogram against
// its operations and figures.
func interval(at string, ops int64, enc string, figures map[string]int64, bad func(string, string, ...any) error) error {
	if enc == "" {
		for _, name := range slices.Sorted(maps.Keys(figures)) {
			if ops == 0 && figures[name] != 0 {
				return bad(at+"/"+name, "%d with no successful operation", figures[name])
			}
		}
		return nil
	}
	h, err := latency.Decode(enc)
	if err != nil {
		return bad(at+"/histogram", "%v", err)
	}
	if n := h.Count(); n != ops {
		return bad(at+"/histogram", "holds %d values, but ops is %d: it is not the histogram of these operations", n, ops)
	}
	hist := map[string]int64{"p50_ns": int64(h.Percentile(50)), "p99_ns": int64(h.Percentile(99)), "max_ns": int64(h.Max())}
	for _, name := range slices.Sorted(maps.Keys(figures)) {
		if figures[name] != hist[name] {
			return bad(at+"/"+name, "%d, but the histogram's is %d: the figures are not of this histogram", figures[name], hist[name])
		}
	}
	return nil
}

// counts checks counters (none negative but Signed ones) and the shares
// among metrics (in [0, 1]), under pointer prefix at.
func counts(at string, counters map[string]int64, metrics metric.Values, bad func(string, string, ...any) error) error {
	for _, k := range slices.Sorted(maps.Keys(counters)) {
		if v := counters[k]; v < 0 && !metric.Signed(k) {
			return bad(at+"/counters/"+k, "%d: a count is never negative", v)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(metrics)) {
		d, ok := metric.Lookup(k)
		if v := metrics[k]; ok && d.Share && metric.Valid(v) && (v < 0 || v > 1) {
			return bad(at+"/metrics/"+k, "%g: a share is between 0 and 1", v)
		}
	}
	return nil
}

// runs checks a repeated scenario's runs: as many as its count, each a
// consistent run, together the scenario's operations and errors.
func runs(s Scenario, bad func(string, string, ...any) error) error {
	rp := s.Repeat
	if len(rp.Runs) != rp.Count {
		return bad("/repeat/count", "%d, but %d runs are listed", rp.Count, len(rp.Runs))
	}
	var ops, errs int64
	for i, run := range rp.Runs {
		at := fmt.Sprintf("/repeat/runs/%d", i)
		ops += run.Ops
		errs += run.Errors
		if err := distribution(at, "", run.Ops, run.Latency, run.Histogram, bad); err != nil {
			return err
		}
		if err := counts(at, run.Counters, run.Metrics, bad); err != nil {
			return err
		}
	}
	switch {
	case ops != s.Ops:
		return bad("/repeat/runs", "hold %d operations, but ops is %d: the scenario's figures are over all its runs", ops, s.Ops)
	case errs != s.Errors:
		return bad("/repeat/runs", "hold %d errors, but errors is %d: the scenario's figures are over all its runs", errs, s.Errors)
	}
	return nil
}
