package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/rustci/rustci-perf/pkg/metric"
)

// CompareSchema identifies a comparison written alone as JSON (compare
// --format json); inside a report (run --baseline) it is the report's.
const CompareSchema = "rustci-perf/compare/v1"

// Verdicts of a Change.
const (
	Regression  = "regression"
	Improvement = "improvement"
	NoChange    = "~"
	// NotJudged is a change in a figure with no better direction.
	NotJudged = "n/a"
)

// Tests that decide a Change.
const (
	// TestMannWhitney is the Mann-Whitney U test over the runs' values.
	TestMannWhitney = "mann-whitney"
	// TestBootstrap is a bootstrap confidence interval of the relative
	// change of a throughput or a percentile, resampling the reports'
	// intervals (runs first, when there are several), or, in reports
	// without intervals, the operations of the encoded histograms.
	TestBootstrap = "bootstrap"
	// TestTolerance is the minimum effect alone: single runs, or too few
	// runs for the U test to ever be significant.
	TestTolerance = "tolerance"
	// TestLost is no test: the scenario was measured in the baseline and
	// is not in the new report (no successful operation, could not run,
	// skipped). Its one change, ops, is a regression whatever the minimum
	// effect, and its note says why.
	TestLost = "lost"
)

// Comparison is a new report set against a baseline, scenario by scenario
// and figure by figure (rustci-perf compare, run --baseline).
type Comparison struct {
	Schema string `json:"schema,omitempty"`
	// Base and New name the two reports (their files).
	Base string `json:"base"`
	New  string `json:"new"`
	// Alpha is the significance level; MinEffect the smallest relative
	// change (a fraction) that counts.
	Alpha     float64 `json:"alpha"`
	MinEffect float64 `json:"min_effect"`
	// Regressions and Improvements count the changes so judged.
	Regressions  int              `json:"regressions"`
	Improvements int              `json:"improvements"`
	Scenarios    []ScenarioChange `json:"scenarios"`
	// Notes say what was not compared and why.
	Notes []string `json:"notes,omitempty"`
	// BaseReport is the baseline itself, for formats that draw it.
	BaseReport *Report `json:"-"`
}

// ScenarioChange is one scenario's figures compared.
type ScenarioChange struct {
	Name string `json:"name"`
	// BaseRuns and NewRuns are the runs on each side (--count).
	BaseRuns int      `json:"base_runs"`
	NewRuns  int      `json:"new_runs"`
	Changes  []Change `json:"changes"`
	Notes    []string `json:"notes,omitempty"`
}

// Change is one figure compared.
type Change struct {
	Metric string `json:"metric"`
	// Unit is the metric catalogue's: "ns" for latencies (cpu_per_op too),
	// "ops/s" for throughput, "bytes" for sizes, "" otherwise.
	Unit string `json:"unit"`
	// Better is "higher", "lower", "zero" (a signed error: nearer 0 is
	// better), or "" when neither is (not judged).
	Better string `json:"better"`
	// Base and New are the medians of the runs' values (one run: its
	// value); for figures judged by bootstrap, the figure of all runs'
	// operations together.
	Base float64 `json:"base"`
	New  float64 `json:"new"`
	// ChangePct is (New - Base) / Base in percent; null when Base is 0.
	ChangePct *float64 `json:"change_pct"`
	// Test is what decided: mann-whitney, bootstrap, tolerance or lost.
	Test string `json:"test"`
	// P is the U test's p-value.
	P *float64 `json:"p,omitempty"`
	// CILowPct and CIHighPct bound the bootstrap confidence interval
	// (1 - alpha) of the change, in percent.
	CILowPct  *float64 `json:"ci_low_pct,omitempty"`
	CIHighPct *float64 `json:"ci_high_pct,omitempty"`
	// Verdict is regression, improvement, ~ (no significant change of at
	// least the minimum effect) or n/a (no better direction).
	Verdict string `json:"verdict"`
	// Note qualifies the verdict (too few runs, a missing histogram).
	Note string `json:"note,omitempty"`
}

// Summary is the comparison's one-line conclusion.
func (c *Comparison) Summary() string {
	word := "NO REGRESSION"
	if c.Regressions > 0 {
		word = "REGRESSION"
	}
	return fmt.Sprintf("%s: %s, %s in %s compared (alpha %g, min effect %s)",
		word, plural(c.Regressions, "regression"), plural(c.Improvements, "improvement"), plural(len(c.Scenarios), "scenario"), c.Alpha, strconv.FormatFloat(c.MinEffect*100, 'g', -1, 64)+"%")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// ComparisonFormats are the formats a comparison is written in alone.
var ComparisonFormats = map[string]func(io.Writer, *Comparison) error{
	"text":     ComparisonText,
	"markdown": ComparisonMarkdown,
	"json":     ComparisonJSON,
}

// ComparisonJSON writes c alone as indented JSON, under CompareSchema.
func ComparisonJSON(w io.Writer, c *Comparison) error {
	cc := *c
	cc.Schema = CompareSchema
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&cc); err != nil {
		return fmt.Errorf("json comparison: %w", err)
	}
	return nil
}

// ComparisonText writes c as one table row per figure, then the notes and
// the conclusion.
func ComparisonText(w io.Writer, c *Comparison) error {
	ew := &errWriter{w: w}
	ew.printf("baseline %s vs %s\n\n", c.Base, c.New)
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "SCENARIO\tMETRIC\tBASE\tNEW\tCHANGE\tTEST\tVERDICT\n")
	for _, s := range c.Scenarios {
		name := s.Name
		for _, ch := range s.Changes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, ch.Metric, value(ch, ch.Base), value(ch, ch.New),
				changePct(ch), testWords(ch), ch.Verdict)
			name = ""
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	ew.printf("%s", b.String())
	notes := c.notes()
	if len(notes) > 0 {
		ew.printf("\n")
	}
	for _, n := range notes {
		ew.printf("note: %s\n", n)
	}
	ew.printf("\n%s\n", c.Summary())
	return ew.err
}

// ComparisonMarkdown writes c as a table of the figures that changed
// (every row when none did) for a pull-request comment.
func ComparisonMarkdown(w io.Writer, c *Comparison) error {
	ew := &errWriter{w: w}
	ew.printf("### rustci-perf compared with the baseline: %s\n\n", c.Summary())
	ew.printf("| | scenario | metric | base | new | change | test |\n")
	ew.printf("|---|---|---|---:|---:|---:|---|\n")
	for _, s := range c.Scenarios {
		for _, ch := range s.Changes {
			mark := map[string]string{Regression: "❌", Improvement: "✅", NoChange: "", NotJudged: ""}[ch.Verdict]
			ew.printf("| %s | %s | %s | %s | %s | %s | %s |\n", mark, s.Name, ch.Metric, value(ch, ch.Base), value(ch, ch.New),
				changePct(ch), strings.ReplaceAll(testWords(ch), "|", "\\|"))
		}
	}
	if notes := c.notes(); len(notes) > 0 {
		ew.printf("\n")
		for _, n := range notes {
			ew.printf("- %s\n", n)
		}
	}
	return ew.err
}

// regressions are the regressions of scenario name; none when c is nil.
func (c *Comparison) regressions(name string) []Change {
	if c == nil {
		return nil
	}
	var out []Change
	for _, s := range c.Scenarios {
		if s.Name != name {
			continue
		}
		for _, ch := range s.Changes {
			if ch.Verdict == Regression {
				out = append(out, ch)
			}
		}
	}
	return out
}

// notes are the comparison's notes, then the scenarios'.
func (c *Comparison) notes() []string {
	out := append([]string(nil), c.Notes...)
	for _, s := range c.Scenarios {
		for _, n := range s.Notes {
			out = append(out, s.Name+": "+n)
		}
	}
	return out
}

func value(ch Change, v float64) string {
	switch ch.Unit {
	case "ns":
		return Duration(v)
	case "ops/s":
		return Throughput(v)
	case metric.Bytes:
		return Bytes(v)
	}
	return Number(v)
}

func changePct(ch Change) string {
	if ch.ChangePct == nil {
		if ch.Base == ch.New {
			return "0%"
		}
		return "new"
	}
	return pct(*ch.ChangePct)
}

func pct(v float64) string {
	if math.Abs(v) < 0.05 {
		return "0%"
	}
	return fmt.Sprintf("%+.1f%%", v)
}

// testWords says what decided a change, briefly.
func testWords(ch Change) string {
	var s string
	switch {
	case ch.Test == TestMannWhitney && ch.P != nil:
		s = fmt.Sprintf("p=%.3f", *ch.P)
	case ch.Test == TestLost:
		return ch.Note // the reason is the whole story
	case ch.Test == TestBootstrap && ch.CILowPct != nil && ch.CIHighPct != nil:
		s = fmt.Sprintf("CI %s..%s", pct(*ch.CILowPct), pct(*ch.CIHighPct))
		if ch.P != nil {
			s += fmt.Sprintf(", runs p=%.3f", *ch.P)
		}
	default:
		s = ch.Test
	}
	if ch.Note != "" {
		s += " (" + ch.Note + ")"
	}
	return s
}
