package report

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rustci/rustci-perf/pkg/metric"
)

// Text writes r for a person: a header line, one table of scenarios, one of
// thresholds, each scenario's details, and a one-line verdict.
func Text(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	e := r.Environment
	ew.printf("rustci-perf %s · %s %s/%s · %d CPUs, GOMAXPROCS %d", r.ToolVersion, e.GoVersion, e.OS, e.Arch, e.NumCPU, e.GOMAXPROCS)
	if e.CPUModel != "" {
		ew.printf(" · %s", e.CPUModel)
	}
	ew.printf("\nstarted %s, took %s", r.StartedAt.UTC().Format(time.RFC3339), Duration(float64(r.FinishedAt.Sub(r.StartedAt))))
	if c := e.Canary; c != nil {
		ew.printf(" · canary %s: %s before, %s after", c.Workload, Throughput(c.BeforeOpsPerSec), Throughput(c.AfterOpsPerSec))
	}
	ew.printf("\n")
	if line := ProvenanceLine(r.Provenance); line != "" {
		ew.printf("%s\n", line)
	}
	if line := InjectedLine(r.Injected); line != "" {
		ew.printf("%s\n", line)
	}
	ew.printf("\n")

	if err := summaryTable(ew, r.Scenarios); err != nil {
		return err
	}
	if err := capacityTable(ew, r.Scenarios); err != nil {
		return err
	}

	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	ew.printf("\n")
	// Thresholds judged per window say how their windows went, in a
	// column of their own, and their actual is the worst window's.
	windowed := false
	for _, s := range r.Scenarios {
		for _, t := range s.Thresholds {
			windowed = windowed || t.Windows != nil
		}
	}
	if windowed {
		fmt.Fprintln(tw, "SCENARIO\tTHRESHOLD\tACTUAL\tRESULT\tWINDOWS")
	} else {
		fmt.Fprintln(tw, "SCENARIO\tTHRESHOLD\tACTUAL\tRESULT")
	}
	for _, s := range r.Scenarios {
		for _, t := range s.Thresholds {
			mark := "FAIL"
			if t.Pass {
				mark = "pass"
			}
			if windowed {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, t.Expr, actual(t), mark, windowsWords(t, s.Repeat != nil))
			} else {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, t.Expr, actual(t), mark)
			}
		}
		if len(s.Thresholds) == 0 && s.Status != StatusPassed && s.Status != StatusFailed {
			fmt.Fprintf(tw, "%s\t(not judged)\t-\t%s\n", s.Name, s.Status)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, line := range strings.SplitAfter(table.String(), "\n") {
		// A threshold on the whole phase leaves its WINDOWS cell empty.
		if line = strings.TrimRight(line, " \n"); line != "" {
			ew.printf("%s\n", line)
		}
	}

	for _, s := range r.Scenarios {
		if s.Component != "" {
			ew.printf("\n%s: %s\n", s.Name, s.Component)
		} else {
			ew.printf("\n%s:\n", s.Name)
		}
		if s.Error != "" {
			ew.printf("  error: %s\n", s.Error)
			continue
		}
		if s.Status == StatusSkipped {
			ew.printf("  skipped: %s\n", s.Reason)
			continue
		}
		mode := s.Mode
		if s.TargetRateOpsPerSec > 0 {
			mode = fmt.Sprintf("open-loop at %s", Throughput(s.TargetRateOpsPerSec))
			if r, ok := s.Metrics["achieved_rate_ratio"]; ok {
				mode += fmt.Sprintf(" (achieved %s)", percent(r))
			}
		}
		ew.printf("  concurrency %d, %s, %d warmup ops excluded, %d latencies recorded over %s",
			s.Concurrency, mode, s.WarmupOps, s.Latency.Count, Duration(float64(s.DurationNS)))
		if s.Latency.Clamped > 0 {
			ew.printf(", %d clamped to the histogram's range", s.Latency.Clamped)
		}
		label := "latency"
		if s.LatencyUncorrected != nil {
			label = "latency from when due"
		}
		if s.Latency.Count == 0 {
			ew.printf("\n  %s: n/a, no operation succeeded\n", label)
		} else {
			ew.printf("\n  %s: min %s, mean %s, stdev %s, p90 %s, p99.9 %s\n", label,
				Duration(float64(s.Latency.Min)), Duration(s.Latency.Mean), Duration(s.Latency.Stdev),
				Duration(float64(s.Latency.P90)), Duration(float64(s.Latency.P999)))
		}
		if u := s.LatencyUncorrected; u != nil && u.Count > 0 {
			ew.printf("  latency from start (uncorrected, hides queueing): p50 %s, p99 %s, p99.9 %s, max %s\n",
				Duration(float64(u.P50)), Duration(float64(u.P99)), Duration(float64(u.P999)), Duration(float64(u.Max)))
		}
		for _, o := range s.Operations {
			ew.printf("  %s\n", kindLine(o))
		}
		if line := precisionLine(s); line != "" && !noteSaysPrecision(s) {
			ew.printf("  precision: %s\n", line)
		}
		if line := seriesLine(s); line != "" {
			ew.printf("  time series: %s\n", line)
		}
		if r := s.Repeat; r != nil {
			ew.printf("  %d runs, thresholds judged on %s", r.Count, judgeWord(r.Judge))
			if t, ok := r.Stats["throughput"]; ok {
				ew.printf("; throughput median %s (min %s, max %s, CV %s)", Throughput(t.Median), Throughput(t.Min), Throughput(t.Max), percent(t.CV))
			}
			if p, ok := r.Stats["p99"]; ok {
				ew.printf("; p99 median %s (CV %s)", Duration(p.Median), percent(p.CV))
			}
			ew.printf("\n")
		}
		if s.Capacity != nil {
			if err := capacityText(ew, s.Capacity); err != nil {
				return err
			}
		}
		for _, t := range s.Tiers {
			ew.printf("  %s\n", tierLine(t, s.Counters))
		}
		if line := costLine(s); line != "" {
			ew.printf("  cost: %s\n", line)
		}
		if line := figures(s); line != "" {
			ew.printf("  %s\n", line)
		}
		for _, n := range s.Notes {
			ew.printf("  note: %s\n", n)
		}
	}
	ew.printf("\n%s\n", Verdict(r))
	if r.Comparison != nil {
		ew.printf("\n")
		if err := ComparisonText(ew, r.Comparison); err != nil {
			return err
		}
	}
	return ew.err
}

// summaryTable writes one row per scenario, numbers aligned right; under a
// scenario that mixes kinds of operation, one indented row per kind. When
// a scenario has a precision, a ±P99 column gives the half-width of its
// p99's 95% confidence interval.
func summaryTable(w io.Writer, ss []Scenario) error {
	// tabwriter aligns every column alike; the scenario column is padded
	// by hand to stay left-aligned, and the padding tabwriter puts before
	// the first cell is cut.
	width := len("SCENARIO")
	precise := false
	for _, s := range ss {
		width = max(width, len(s.Name))
		for _, o := range s.Operations {
			width = max(width, len(kindIndent)+len(o.Name))
		}
		precise = precise || s.Precision != nil
	}
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	pm := func(p *Precision, pct *float64) string {
		switch {
		case !precise:
			return ""
		case p == nil:
			return "-\t"
		}
		return plusMinus(pct) + "\t"
	}
	head := "%-*s\tOPS\tERRORS\tTHROUGHPUT\tP50\tP95\tP99\tMAX\tRESULT\t\n"
	if precise {
		head = "%-*s\tOPS\tERRORS\tTHROUGHPUT\tP50\tP95\tP99\tMAX\t±P99\tRESULT\t\n"
	}
	fmt.Fprintf(tw, head, width, "SCENARIO")
	row := func(name string, ops, errs int64, tput float64, l Latency, prec, result string) {
		if l.Count == 0 {
			fmt.Fprintf(tw, "%-*s\t%d\t%d\t-\t-\t-\t-\t-\t%s%s\t\n", width, name, ops, errs, prec, result)
			return
		}
		fmt.Fprintf(tw, "%-*s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s%s\t\n", width, name, ops, errs,
			Throughput(tput), Duration(float64(l.P50)), Duration(float64(l.P95)),
			Duration(float64(l.P99)), Duration(float64(l.Max)), prec, result)
	}
	for _, s := range ss {
		var p99 *float64
		if s.Precision != nil {
			p99 = s.Precision.P99Pct
		}
		prec := pm(s.Precision, p99)
		if s.Latency.Count == 0 && precise {
			prec = "-\t"
		}
		row(s.Name, s.Ops, s.Errors, s.ThroughputOpsPerSec, s.Latency, prec, result(s))
		for _, o := range s.Operations {
			row(kindIndent+o.Name, o.Ops, o.Errors, o.ThroughputOpsPerSec, o.Latency, pm(s.Precision, kindPrecision(s.Precision, o.Name)), "")
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		// A kind's row has no result: its empty cell's padding is cut.
		line = strings.TrimRight(strings.TrimPrefix(line, "  "), " \n")
		if line == "" {
			continue
		}
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// kindIndent sets a kind of operation's row under its scenario's.
const kindIndent = "  "

// InjectedLine is the line every format puts at its top when faults were
// injected (package fault), so that the report is not taken for a clean
// run's: "" when none were.
func InjectedLine(injected []string) string {
	if len(injected) == 0 {
		return ""
	}
	return "FAULTS INJECTED, not a clean run: " + strings.Join(injected, "; ")
}

// judgeWord says how repeated runs were judged.
func judgeWord(j string) string {
	switch j {
	case "worst":
		return "the worst run"
	case "each":
		return "each run"
	}
	return "the median"
}

// tierLine writes one tier's figures on a line: its counts, from the
// scenario's counters, and its latency.
func tierLine(t Tier, counters map[string]int64) string {
	n := func(count string) int64 { return counters[TierCounter(t.Name, count)] }
	line := fmt.Sprintf("tier %s: hits %d, misses %d, sets %d, promotions %d, errors %d, skipped %d",
		t.Name, n("hits"), n("misses"), n("sets"), n("promotions"), n("errors"), n("skipped"))
	if n("sets_dropped")+n("sets_rejected") > 0 {
		line += fmt.Sprintf(", sets dropped %d, rejected %d", n("sets_dropped"), n("sets_rejected"))
	}
	if n("breaker_opens")+n("breaker_closes") > 0 {
		line += fmt.Sprintf(", breaker opened %d, closed %d", n("breaker_opens"), n("breaker_closes"))
	}
	if l := t.Latency; l != nil && l.Count > 0 {
		line += fmt.Sprintf("; latency p50 %s, p99 %s, max %s", Duration(float64(l.P50)), Duration(float64(l.P99)), Duration(float64(l.Max)))
	}
	if n("degraded") > 0 {
		line += "; DEGRADED (breaker open)"
	}
	return line
}

// Verdict is the report's one-line conclusion.
func Verdict(r *Report) string {
	held, total, errs, skipped := 0, 0, 0, 0
	for _, s := range r.Scenarios {
		switch s.Status {
		case StatusError:
			errs++
		case StatusSkipped:
			skipped++
		}
		for _, t := range s.Thresholds {
			total++
			if t.Pass {
				held++
			}
		}
	}
	n := len(r.Scenarios)
	// With a baseline, a regression fails the run as a missed threshold
	// does: the verdict must not read PASS above a REGRESSION.
	if c := r.Comparison; c != nil && c.Regressions > 0 && r.Passed && !r.Interrupted && errs == 0 {
		return fmt.Sprintf("FAIL: %d of %d thresholds held in %d scenarios, but %d regressions against the baseline", held, total, n-skipped, c.Regressions)
	}
	switch {
	case r.Interrupted:
		return fmt.Sprintf("INTERRUPTED: %d of %d thresholds held in the %d scenarios that ran", held, total, n)
	case errs > 0:
		return fmt.Sprintf("ERROR: %d of %d scenarios could not run; %d of %d thresholds held", errs, n, held, total)
	case r.Passed && skipped > 0:
		return fmt.Sprintf("PASS: %d of %d thresholds held in %d scenarios; %d skipped", held, total, n-skipped, skipped)
	case r.Passed:
		return fmt.Sprintf("PASS: %d of %d thresholds held in %d scenarios", held, total, n)
	}
	return fmt.Sprintf("FAIL: %d of %d thresholds missed in %d scenarios", total-held, total, n)
}

func result(s Scenario) string {
	if s.Status == StatusFailed {
		return "FAIL"
	}
	if s.Status == StatusPassed {
		return "pass"
	}
	return s.Status
}

// actual writes a threshold's actual value next to its limit's unit, a
// rate (throughput, read.throughput) in the catalogue's ops/s.
func actual(t Threshold) string {
	if t.Actual == nil {
		return "n/a"
	}
	if t.Unit == metric.NS {
		return Duration(*t.Actual)
	}
	if d, _ := metric.Lookup(t.Metric); d.Unit == metric.OpsPerSec {
		return Throughput(*t.Actual)
	}
	return Number(*t.Actual)
}

// figures writes counters and metrics as "name=value", sorted, but for
// what the measured phase cost, which the cost line says.
func figures(s Scenario) string {
	var parts []string
	for k, v := range s.Counters {
		if !isCost(k) {
			parts = append(parts, k+"="+strconv.FormatInt(v, 10))
		}
	}
	for k, v := range s.Metrics {
		if !isCost(k) {
			parts = append(parts, k+"="+Number(v))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// NA is how every format but JSON writes a figure that cannot be computed
// (JSON writes null).
const NA = "n/a"

// Duration writes nanoseconds in the report's one duration format: three
// significant digits at most, in ns, µs, ms or s; NA when ns is not a
// number.
func Duration(ns float64) string {
	if !metric.Valid(ns) {
		return NA
	}
	switch a := math.Abs(ns); {
	case a < 1e3 && ns == math.Trunc(ns):
		return strconv.FormatFloat(ns, 'f', 0, 64) + "ns"
	case a < 1e3:
		return sig(ns) + "ns"
	case a < 1e6:
		return sig(ns/1e3) + "µs"
	case a < 1e9:
		return sig(ns/1e6) + "ms"
	}
	return sig(ns/1e9) + "s"
}

// sig writes v with three significant digits, no exponent.
func sig(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// Throughput writes operations per second, whole (three significant
// digits under 100); NA when v is not a number.
func Throughput(v float64) string {
	if !metric.Valid(v) {
		return NA
	}
	if v < 100 && v != math.Trunc(v) {
		return sig(v) + " ops/s"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + " ops/s"
}

// Number writes a plain figure: whole numbers as such, others with four
// significant digits; NA when v is not a number.
func Number(v float64) string {
	if !metric.Valid(v) {
		return NA
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	if math.Abs(v) >= 1000 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// percent writes a fraction as a percentage with one decimal; NA when it
// is not a number.
func percent(v float64) string {
	if !metric.Valid(v) {
		return NA
	}
	return strconv.FormatFloat(100*v, 'f', 1, 64) + "%"
}

// errWriter keeps the first write error, so a failed write is reported, not
// swallowed.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}
