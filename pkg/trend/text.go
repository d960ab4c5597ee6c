package trend

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/report"
)

// Formats are the formats a Result is written in: the one registry the
// trend command picks from.
var Formats = map[string]func(io.Writer, *Result) error{
	"text":     Text,
	"json":     JSON,
	"markdown": Markdown,
	"html":     HTML,
}

// Lookup returns the format named.
func Lookup(name string) (func(io.Writer, *Result) error, error) {
	if f, ok := Formats[name]; ok {
		return f, nil
	}
	names := make([]string, 0, len(Formats))
	for n := range Formats {
		names = append(names, n)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("unknown format %q (formats: %s)", name, strings.Join(names, ", "))
}

// Summary is r's one-line conclusion.
func (r *Result) Summary() string {
	word := "NO REGRESSION"
	if r.Verdict == Alert {
		word = "REGRESSION"
	}
	changes := 0
	for _, s := range r.Series {
		changes += len(s.Changes)
	}
	return fmt.Sprintf("%s: %s alerting, %s in %s (false alarm ≤ %s per invocation, min effect %s)", word,
		seriesCount(r.Alerts), plural(changes, "change point"),
		seriesCount(len(r.Series)), percent(r.FalseAlarm), percent(r.MinEffect))
}

// value writes v in unit.
func value(unit string, v float64) string {
	switch unit {
	case metric.NS:
		return report.Duration(v)
	case metric.OpsPerSec:
		return report.Throughput(v)
	case metric.Bytes:
		return report.Bytes(v)
	}
	return report.Number(v)
}

// change writes a relative change in percent, n/a when not computable.
func change(v float64) string {
	if !metric.Valid(v) {
		return report.NA
	}
	if math.Abs(v) < 0.0005 {
		return "0%"
	}
	return fmt.Sprintf("%+.1f%%", v*100)
}

func pValue(p float64) string { return fmt.Sprintf("p=%.2g", p) }

// between says where a change happened.
func between(c Change) string {
	return fmt.Sprintf("between %s and %s", orUnknown(c.FromCommit), orUnknown(c.ToCommit))
}

func orUnknown(commit string) string {
	if commit == "" {
		return "?"
	}
	return commit
}

// Text writes r as a table of change points, a line per series without
// any, the notes, then the conclusion.
func Text(w io.Writer, r *Result) error {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "SCENARIO\tMETRIC\tRUNS\tSTATUS\tRUN\tWHERE\tMEAN\tCHANGE\tMEDIAN CHANGE\tTEST\tDIRECTION\n")
	for _, s := range r.Series {
		if len(s.Changes) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t-\t-\t%s\t-\t-\t-\t-\n", s.Scenario, s.Metric, len(s.Points), s.Status, levels(s))
			continue
		}
		name, met, runs, status := s.Scenario, s.Metric, fmt.Sprint(len(s.Points)), s.Status
		for _, c := range s.Changes {
			dir := c.Direction
			switch {
			case c.Alert:
				dir += " (ALERT)"
			case c.Machine != nil:
				dir += " (machine)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s → %s\t%s\t%s\t%s\t%s\n", name, met, runs, status, c.RunID, between(c),
				value(s.Unit, c.Before.Mean), value(s.Unit, c.After.Mean), change(c.MeanChange), change(c.MedianChange), pValue(c.PValue), dir)
			name, met, runs, status = "", "", "", ""
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range r.notes() {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	fmt.Fprintf(&b, "\n%s\n", r.Summary())
	_, err := w.Write(b.Bytes())
	return err
}

// levels is a series' one level when it has no change point.
func levels(s SeriesResult) string {
	if len(s.Segments) == 0 {
		return "-"
	}
	return value(s.Unit, s.Segments[0].Mean)
}

// notes are the series' notes and changes' notes, each named, and what
// an alert rests on.
func (r *Result) notes() []string {
	var out []string
	for _, s := range r.Series {
		for _, n := range s.Notes {
			out = append(out, fmt.Sprintf("%s %s: %s", s.Scenario, s.Metric, n))
		}
		for _, c := range s.Changes {
			if c.Note != "" {
				out = append(out, fmt.Sprintf("%s %s, run %d: %s", s.Scenario, s.Metric, c.RunID, c.Note))
			}
		}
		if g := s.Regressed; g != nil && s.Status == Alert {
			out = append(out, fmt.Sprintf("%s %s: regressed %s since run %d (%s), between %s and %s: %s → %s", s.Scenario, s.Metric,
				change(g.MeanChange), g.RunID, plural(g.Changes, "change point"), orUnknown(g.FromCommit), orUnknown(g.ToCommit),
				value(s.Unit, g.Before.Mean), value(s.Unit, g.After.Mean)))
		}
	}
	return out
}

// Markdown writes r for $GITHUB_STEP_SUMMARY or an issue: the
// conclusion, a row per change point, the series without any in a line.
func Markdown(w io.Writer, r *Result) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "### rustci-perf trend: %s\n\n", r.Summary())
	var quiet []string
	rows := 0
	for _, s := range r.Series {
		if len(s.Changes) == 0 {
			quiet = append(quiet, fmt.Sprintf("`%s` %s (%s)", s.Scenario, s.Metric, s.Status))
			continue
		}
		if rows == 0 {
			b.WriteString("| | scenario | metric | run | where | mean | change | median change | test |\n")
			b.WriteString("|---|---|---|---:|---|---:|---:|---:|---|\n")
		}
		for _, c := range s.Changes {
			mark := map[string]string{Regression: "🔺", Improvement: "✅", Moved: "↕️"}[c.Direction]
			switch {
			case c.Alert:
				mark = "❌"
			case c.Machine != nil:
				mark = "🖥️"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %s → %s | %s | %s | %s |\n", mark, s.Scenario, s.Metric, c.RunID, between(c),
				value(s.Unit, c.Before.Mean), value(s.Unit, c.After.Mean), change(c.MeanChange), change(c.MedianChange), pValue(c.PValue))
			rows++
		}
	}
	if len(quiet) > 0 {
		fmt.Fprintf(&b, "\nNo change point: %s.\n", strings.Join(quiet, ", "))
	}
	if notes := r.notes(); len(notes) > 0 {
		b.WriteString("\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// seriesCount is "1 series", "2 series".
func seriesCount(n int) string { return fmt.Sprintf("%d series", n) }
