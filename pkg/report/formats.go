package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode"
)

// Markdown writes r as a compact table for $GITHUB_STEP_SUMMARY or a pull
// request comment: one row per scenario with its key figures and a mark,
// the missed thresholds listed under it, and the verdict.
func Markdown(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	ew.printf("### rustci-perf %s: %s\n\n", r.ToolVersion, Verdict(r))
	ew.printf("| | scenario | ops | throughput | p50 | p99 | max | thresholds |\n")
	ew.printf("|---|---|---:|---:|---:|---:|---:|---|\n")
	for _, s := range r.Scenarios {
		held := 0
		for _, t := range s.Thresholds {
			if t.Pass {
				held++
			}
		}
		mark := map[string]string{StatusPassed: "✅", StatusFailed: "❌", StatusError: "💥", StatusSkipped: "⏭️", StatusInterrupted: "⏸️"}[s.Status]
		if s.Latency.Count == 0 {
			ew.printf("| %s | %s | %d | - | - | - | - | %s |\n", mark, s.Name, s.Ops, s.Status)
			continue
		}
		l := s.Latency
		ew.printf("| %s | %s | %d | %s | %s | %s | %s | %d/%d |\n", mark, s.Name, s.Ops, Throughput(s.ThroughputOpsPerSec),
			Duration(float64(l.P50)), Duration(float64(l.P99)), Duration(float64(l.Max)), held, len(s.Thresholds))
	}
	var missed []string
	for _, s := range r.Scenarios {
		for _, t := range s.Thresholds {
			if !t.Pass {
				missed = append(missed, fmt.Sprintf("- `%s` %s: actual %s", s.Name, "`"+t.Expr+"`", actual(t)))
			}
		}
		if s.Error != "" {
			missed = append(missed, fmt.Sprintf("- `%s` could not run: %s", s.Name, s.Error))
		}
	}
	if len(missed) > 0 {
		ew.printf("\n**Missed**\n\n%s\n", strings.Join(missed, "\n"))
	}
	if r.Comparison != nil {
		ew.printf("\n")
		if err := ComparisonMarkdown(ew, r.Comparison); err != nil {
			return err
		}
	}
	return ew.err
}

// GoBench writes r in Go's benchmark format, one line per scenario with
// its operations, ns/op (the mean latency), ops/s and percentiles, so that
// benchstat reads rustci-perf results beside go test -bench ones. Names
// are Benchmark plus the scenario's name in CamelCase. A scenario or run
// with no successful operation has no line; a figure that cannot be
// computed is left out of its line.
func GoBench(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	e := r.Environment
	ew.printf("goos: %s\ngoarch: %s\npkg: rustci-perf\n", e.OS, e.Arch)
	if e.CPUModel != "" {
		ew.printf("cpu: %s\n", e.CPUModel)
	}
	for _, s := range r.Scenarios {
		if s.Latency.Count == 0 {
			continue
		}
		runs := []Run{{Ops: s.Ops, ThroughputOpsPerSec: s.ThroughputOpsPerSec, Latency: s.Latency}}
		if s.Repeat != nil {
			runs = s.Repeat.Runs // one line per run: benchstat's samples
		}
		for _, run := range runs {
			l := run.Latency
			if l.Count == 0 {
				continue // a run with no successful operation has no figure to give
			}
			ew.printf("Benchmark%s-%d\t%d%s%s\t%d p50-ns\t%d p99-ns\t%d p999-ns\n",
				camel(s.Name), e.GOMAXPROCS, run.Ops, benchValue(l.Mean, "ns/op"), benchValue(run.ThroughputOpsPerSec, "ops/s"), l.P50, l.P99, l.P999)
		}
	}
	return ew.err
}

// benchValue is a tab, v and its unit; nothing when v is not a number, as
// benchstat reads a line with a value left out but not one that is "n/a".
func benchValue(v float64, unit string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return fmt.Sprintf("\t%.2f %s", v, unit)
}

// camel turns "cache-read" into "CacheRead".
func camel(name string) string {
	var b strings.Builder
	up := true
	for _, r := range name {
		if r == '-' || r == '_' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// JUnit writes r as JUnit XML, as GitLab and Jenkins read it: one
// testsuite for the run, one testcase per scenario; a scenario that could
// not run is an error, a skipped one is skipped. A scenario that missed
// thresholds or regressed against the baseline has one failure: CI JUnit
// readers show a testcase's first failure only, so its message lists every
// missed threshold (with the actual value) and every regression, and its
// text gives each in full.
func JUnit(w io.Writer, r *Report) error {
	type skipped struct {
		Message string `xml:"message,attr"`
	}
	type testcase struct {
		Name      string         `xml:"name,attr"`
		Classname string         `xml:"classname,attr"`
		Time      string         `xml:"time,attr"`
		Failure   *junitProblem  `xml:"failure"`
		Errors    []junitProblem `xml:"error"`
		Skipped   *skipped       `xml:"skipped"`
		SystemOut string         `xml:"system-out,omitempty"`
	}
	type testsuite struct {
		XMLName   xml.Name   `xml:"testsuite"`
		Name      string     `xml:"name,attr"`
		Tests     int        `xml:"tests,attr"`
		Failures  int        `xml:"failures,attr"`
		Errors    int        `xml:"errors,attr"`
		Skipped   int        `xml:"skipped,attr"`
		Time      string     `xml:"time,attr"`
		Timestamp string     `xml:"timestamp,attr"`
		Hostname  string     `xml:"hostname,attr"`
		Cases     []testcase `xml:"testcase"`
	}
	ts := testsuite{
		Name:      "rustci-perf",
		Tests:     len(r.Scenarios),
		Time:      fmt.Sprintf("%.3f", r.FinishedAt.Sub(r.StartedAt).Seconds()),
		Timestamp: r.StartedAt.UTC().Format("2006-01-02T15:04:05"),
		Hostname:  r.Environment.Hostname,
	}
	for _, s := range r.Scenarios {
		tc := testcase{Name: s.Name, Classname: "rustci-perf." + s.Group, Time: fmt.Sprintf("%.3f", float64(s.DurationNS)/1e9)}
		if tc.Failure = junitFailure(s, r.Comparison); tc.Failure != nil {
			ts.Failures++
		}
		switch s.Status {
		case StatusError, StatusInterrupted:
			msg := s.Error
			if msg == "" {
				msg = "interrupted"
			}
			tc.Errors = append(tc.Errors, junitProblem{Message: msg, Type: s.Status})
			ts.Errors++
		case StatusSkipped:
			tc.Skipped = &skipped{Message: s.Reason}
			ts.Skipped++
		}
		if s.Latency.Count > 0 {
			tc.SystemOut = fmt.Sprintf("ops %d, throughput %s, p50 %s, p99 %s, max %s", s.Ops, Throughput(s.ThroughputOpsPerSec),
				Duration(float64(s.Latency.P50)), Duration(float64(s.Latency.P99)), Duration(float64(s.Latency.Max)))
		}
		ts.Cases = append(ts.Cases, tc)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(ts); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitProblem is a testcase's failure or error.
type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// junitFailure gathers a scenario's missed thresholds and its regressions
// against the baseline c (nil: none) into one failure; nil when there are
// none.
func junitFailure(s Scenario, c *Comparison) *junitProblem {
	var parts, kinds, texts, missed []string
	for _, t := range s.Thresholds {
		if t.Pass {
			continue
		}
		limit := Number(t.Limit)
		if t.Unit == "ns" {
			limit = Duration(t.Limit)
		}
		missed = append(missed, fmt.Sprintf("%s (actual %s)", t.Expr, actual(t)))
		texts = append(texts, fmt.Sprintf("threshold %s\nexpected %s %s %s\nactual   %s", t.Expr, t.Metric, t.Op, limit, actual(t)))
	}
	if len(missed) > 0 {
		parts = append(parts, fmt.Sprintf("%d of %s missed: %s", len(missed), plural(len(s.Thresholds), "threshold"), strings.Join(missed, ", ")))
		kinds = append(kinds, "threshold")
	}
	var regressed, lines []string
	for _, ch := range c.regressions(s.Name) {
		what := fmt.Sprintf("%s %s (%s to %s)", ch.Metric, changePct(ch), value(ch, ch.Base), value(ch, ch.New))
		if ch.Test == TestLost {
			what += ": " + ch.Note
		}
		regressed = append(regressed, what)
		lines = append(lines, fmt.Sprintf("%s: base %s, new %s, change %s, %s", ch.Metric, value(ch, ch.Base), value(ch, ch.New), changePct(ch), testWords(ch)))
	}
	if len(regressed) > 0 {
		parts = append(parts, fmt.Sprintf("%s against the baseline: %s", plural(len(regressed), "regression"), strings.Join(regressed, ", ")))
		kinds = append(kinds, "regression")
		texts = append(texts, fmt.Sprintf("%s against the baseline %s\n%s", plural(len(regressed), "regression"), c.Base, strings.Join(lines, "\n")))
	}
	if len(parts) == 0 {
		return nil
	}
	return &junitProblem{Message: strings.Join(parts, "; "), Type: strings.Join(kinds, ","), Text: strings.Join(texts, "\n\n")}
}
