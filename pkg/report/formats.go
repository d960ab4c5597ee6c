package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/metric"
)

// Markdown writes r as a compact table for $GITHUB_STEP_SUMMARY or a pull
// request comment: one row per scenario with its key figures and a mark,
// under a scenario that mixes kinds of operation one row per kind, the
// precision of throughput and p99 beside them (±, the half-width of a 95%
// confidence interval), a table of what an operation cost, the missed
// thresholds listed under it, and the verdict. Thresholds judged per
// window (p99[1s]<10ms) are listed with their worst window and how many
// windows held.
func Markdown(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	ew.printf("### rustci-perf %s: %s\n\n", r.ToolVersion, Verdict(r))
	if line := ProvenanceLine(r.Provenance); line != "" {
		ew.printf("%s\n\n", mdEscape(line))
	}
	if len(r.Injected) > 0 {
		ew.printf("> **Faults injected, not a clean run:** `%s`\n\n", strings.Join(r.Injected, "`, `"))
	}
	ew.printf("| | scenario | ops | throughput | p50 | p99 | max | thresholds |\n")
	ew.printf("|---|---|---:|---:|---:|---:|---:|---|\n")
	precise, unknown := false, false
	withPM := func(p *Precision, v string, pct *float64) string {
		if p == nil {
			return v
		}
		precise = true
		if pm := plusMinus(pct); pm != NA {
			return v + " " + pm
		}
		unknown = true
		return v + " ±" + NA
	}
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
		l, p := s.Latency, s.Precision
		var tput, p99 *float64
		if p != nil {
			tput, p99 = p.ThroughputPct, p.P99Pct
		}
		ew.printf("| %s | %s | %d | %s | %s | %s | %s | %d/%d |\n", mark, s.Name, s.Ops, withPM(p, Throughput(s.ThroughputOpsPerSec), tput),
			Duration(float64(l.P50)), withPM(p, Duration(float64(l.P99)), p99), Duration(float64(l.Max)), held, len(s.Thresholds))
		for _, o := range s.Operations {
			if o.Latency.Count == 0 {
				ew.printf("| | ↳ %s | %d | - | - | - | - | |\n", o.Name, o.Ops)
				continue
			}
			ol := o.Latency
			ew.printf("| | ↳ %s | %d | %s | %s | %s | %s | |\n", o.Name, o.Ops, Throughput(o.ThroughputOpsPerSec),
				Duration(float64(ol.P50)), withPM(p, Duration(float64(ol.P99)), kindPrecision(p, o.Name)), Duration(float64(ol.Max)))
		}
	}
	if precise {
		ew.printf("\n± is the half-width of a 95%% confidence interval, from the spread of the run's intervals")
		if unknown {
			ew.printf("; ±%s: too few intervals to tell", NA)
		}
		ew.printf(".\n")
	}
	var windowed []string
	for _, s := range r.Scenarios {
		for _, t := range s.Thresholds {
			if t.Windows == nil {
				continue
			}
			mark := "❌"
			if t.Pass {
				mark = "✅"
			}
			windowed = append(windowed, fmt.Sprintf("- %s `%s` `%s`: worst window %s; %s", mark, s.Name, t.Expr, actual(t), windowsWords(t, s.Repeat != nil)))
		}
	}
	if len(windowed) > 0 {
		ew.printf("\n**Thresholds per window**\n\n%s\n", strings.Join(windowed, "\n"))
	}
	costTable(ew, r.Scenarios)
	var missed []string
	for _, s := range r.Scenarios {
		for _, t := range s.Thresholds {
			if !t.Pass {
				line := fmt.Sprintf("- `%s` %s: actual %s", s.Name, "`"+t.Expr+"`", actual(t))
				if t.Windows != nil {
					line += " (" + windowsWords(t, s.Repeat != nil) + ")"
				}
				missed = append(missed, line)
			}
		}
		if s.Error != "" {
			missed = append(missed, fmt.Sprintf("- `%s` could not run: %s", s.Name, s.Error))
		}
	}
	if len(missed) > 0 {
		ew.printf("\n**Missed**\n\n%s\n", strings.Join(missed, "\n"))
	}
	capacityMarkdown(ew, r)
	if r.Comparison != nil {
		ew.printf("\n")
		if err := ComparisonMarkdown(ew, r.Comparison); err != nil {
			return err
		}
	}
	return ew.err
}

// GoBench writes r in Go's benchmark format, so that benchstat reads
// rustci-perf results beside go test -bench ones: one line per scenario
// with its operations (N) and, as go test -bench writes them, ns/op, the
// measured wall time over the operations (what b.RunParallel reports:
// the elapsed time over the operations of every goroutine, so that N
// times ns/op is the wall time, and ns/op is the reciprocal of ops/s),
// then ops/s, the latencies in units of their own (mean-ns, p50-ns,
// p99-ns, p999-ns: a latency is not ns/op, as workers overlap) and what
// an operation cost (cpu-ns/op, B/op, allocs/op). Names are Benchmark
// plus the scenario's name in CamelCase; in a scenario that mixes kinds of
// operation, each kind has a line of its own, named as a sub-benchmark
// with the key op (BenchmarkLatency/op=read), so benchstat -col /op sets
// them side by side: its operations, ops/s and latencies, but neither
// ns/op nor the cost. The kinds share the wall time, so the wall time
// over a kind's operations would be the mix's share of it, not what an
// operation of that kind costs (in a mix of nine reads to a write, writes
// would read nine times "slower"): a kind's latencies are what compares
// kinds, and the scenario's line is the mix's, as a Go benchmark of the
// mix would report it. The cost is the whole process's, not a kind's.
// With repeated runs each run has its lines (benchstat's samples), ns/op
// each run's wall time over its operations; a kind's figures per run are
// those of the run's intervals. A scenario or run with no successful
// operation has no line; a figure that cannot be computed is left out of
// its line. A Unit line per figure, before the benchmarks, says which way
// is better, as the metric catalogue has it (Unit ops/s better=higher; ns/op
// the other way from throughput, whose reciprocal it is), so that
// benchstat tells an improvement from a regression.
func GoBench(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	e := r.Environment
	ew.printf("goos: %s\ngoarch: %s\npkg: rustci-perf\n", e.OS, e.Arch)
	if e.CPUModel != "" {
		ew.printf("cpu: %s\n", e.CPUModel)
	}
	if len(r.Injected) > 0 {
		// A configuration line: benchstat keeps results with different
		// faults apart.
		ew.printf("injected: %s\n", strings.Join(r.Injected, " "))
	}
	for _, c := range benchColumns {
		if better := c.better(); better != "" {
			ew.printf("Unit %s better=%s\n", c.unit, better)
		}
	}
	capacityUnits(ew, r)
	line := func(name string, ops int64, b benchLine) {
		if b.l.Count == 0 {
			return // no successful operation: no figure to give
		}
		ew.printf("Benchmark%s-%d\t%d", name, e.GOMAXPROCS, ops)
		for _, c := range benchColumns {
			if v := c.value(b); c.whole {
				ew.printf("\t%d %s", int64(v), c.unit)
			} else {
				ew.printf("%s", benchValue(v, c.unit))
			}
		}
		ew.printf("\n")
	}
	for _, s := range r.Scenarios {
		if s.Latency.Count == 0 {
			continue
		}
		name := camel(s.Name)
		runs := []Run{{Ops: s.Ops, DurationNS: s.DurationNS, ThroughputOpsPerSec: s.ThroughputOpsPerSec, Latency: s.Latency, Metrics: s.Metrics}}
		kinds := [][]Operation{s.Operations}
		if s.Repeat != nil {
			runs = s.Repeat.Runs // one line per run: benchstat's samples
			kinds = kindRuns(s)
			if kinds == nil {
				// No per-run figures for the kinds: their lines, over
				// all runs, come once, after the runs'.
				kinds = make([][]Operation, len(runs)+1)
				kinds[len(runs)] = s.Operations
			}
		}
		for i, run := range runs {
			line(name, run.Ops, benchLine{ops: run.Ops, wallNS: run.DurationNS, tput: run.ThroughputOpsPerSec, l: run.Latency, metrics: run.Metrics})
			for _, o := range kinds[i] {
				line(name+"/op="+o.Name, o.Ops, benchLine{ops: o.Ops, tput: o.ThroughputOpsPerSec, l: o.Latency})
			}
		}
		for _, rest := range kinds[len(runs):] {
			for _, o := range rest {
				line(name+"/op="+o.Name, o.Ops, benchLine{ops: o.Ops, tput: o.ThroughputOpsPerSec, l: o.Latency})
			}
		}
	}
	capacityBench(ew, r)
	return ew.err
}

// kindRuns returns each run's kinds of operation, from the intervals of
// the run (which hold every operation of it): their counts summed, their
// histograms merged, throughput over the run's duration. Nil when the
// report cannot give them exactly: no intervals, an interval without its
// histogram, or counts that do not add up to the run's.
func kindRuns(s Scenario) [][]Operation {
	if s.Repeat == nil || len(s.Operations) == 0 || len(s.Intervals) == 0 {
		return nil
	}
	type acc struct {
		ops, errs int64
		rec       *latency.Recorder
	}
	runs := make([]map[string]*acc, len(s.Repeat.Runs))
	for _, iv := range s.Intervals {
		if iv.Run < 0 || iv.Run >= len(runs) {
			return nil
		}
		if runs[iv.Run] == nil {
			runs[iv.Run] = map[string]*acc{}
		}
		for _, o := range iv.Operations {
			a := runs[iv.Run][o.Name]
			if a == nil {
				a = &acc{rec: latency.NewRecorder()}
				runs[iv.Run][o.Name] = a
			}
			a.ops += o.Ops
			a.errs += o.Errors
			if o.Ops == 0 {
				continue
			}
			h, err := latency.Decode(o.Histogram)
			if err != nil {
				return nil
			}
			a.rec.Merge(h)
		}
	}
	out := make([][]Operation, len(runs))
	for i, run := range s.Repeat.Runs {
		var sum int64
		for _, k := range s.Operations {
			a := runs[i][k.Name]
			if a == nil || a.rec.Count() != a.ops {
				return nil
			}
			sum += a.ops
			o := Operation{Name: k.Name, Ops: a.ops, Errors: a.errs, Latency: LatencyOf(a.rec.Summary())}
			if run.DurationNS > 0 {
				o.ThroughputOpsPerSec = float64(a.ops) / (float64(run.DurationNS) / 1e9)
			}
			out[i] = append(out[i], o)
		}
		if sum != run.Ops {
			return nil
		}
	}
	return out
}

// benchLine is what a gobench line is written from: a scenario's, a
// run's or a kind of operation's operations, throughput and latency, the
// wall time of a scenario or run (0 for a kind, whose operations share it
// with the others': no ns/op), and the metrics of a scenario or run (nil
// for a kind, which has none of its own).
type benchLine struct {
	ops, wallNS int64
	tput        float64
	l           Latency
	metrics     map[string]float64
}

// metric is b's metric name, NaN when it has none: left out of the line.
func (b benchLine) metric(name string) float64 {
	if v, ok := b.metrics[name]; ok {
		return v
	}
	return metric.NA
}

// nsPerOp is b's wall time over its operations, as go test -bench writes
// ns/op (b.RunParallel: the elapsed time over every goroutine's
// operations); NaN without a wall time of its own (a kind of operation):
// left out of the line.
func (b benchLine) nsPerOp() float64 {
	if b.wallNS <= 0 || b.ops <= 0 {
		return metric.NA
	}
	return float64(b.wallNS) / float64(b.ops)
}

// benchColumn is a figure of a gobench line after its operations: a
// figure of the metric catalogue (its reciprocal when reciprocal is set:
// ns/op, of throughput), written in the unit benchstat reads, whole when
// it is recorded so (the percentiles, in nanoseconds).
type benchColumn struct {
	figure, unit string
	reciprocal   bool
	value        func(benchLine) float64
	whole        bool
}

// better is the way c is better, from the catalogue's figure, the other
// way for its reciprocal; "" when the catalogue has neither higher nor
// lower.
func (c benchColumn) better() string {
	d, _ := metric.Lookup(c.figure)
	flip := map[string]string{metric.Higher: metric.Lower, metric.Lower: metric.Higher}
	if c.reciprocal {
		return flip[d.Better]
	}
	if _, ok := flip[d.Better]; ok {
		return d.Better
	}
	return ""
}

// benchColumns are the figures of a gobench line after its operations, in
// order: ns/op first, as go test -bench writes it, the wall time per
// operation (the reciprocal of throughput); the latencies in units named
// after their figures (mean-ns, p50-ns: benchfmt's unit syntax, which
// benchstat tidies into seconds, mean-sec); what the measured phase cost
// per operation as go test -benchmem writes it, B/op and allocs/op, and
// its CPU time as cpu-ns/op.
var benchColumns = []benchColumn{
	{figure: "throughput", unit: "ns/op", reciprocal: true, value: benchLine.nsPerOp},
	{figure: "throughput", unit: "ops/s", value: func(b benchLine) float64 { return b.tput }},
	{figure: "mean", unit: "mean-ns", value: func(b benchLine) float64 { return b.l.Mean }},
	{figure: "p50", unit: "p50-ns", value: func(b benchLine) float64 { return float64(b.l.P50) }, whole: true},
	{figure: "p99", unit: "p99-ns", value: func(b benchLine) float64 { return float64(b.l.P99) }, whole: true},
	{figure: "p99.9", unit: "p999-ns", value: func(b benchLine) float64 { return float64(b.l.P999) }, whole: true},
	{figure: metric.CPUPerOp.Name, unit: "cpu-ns/op", value: func(b benchLine) float64 { return b.metric(metric.CPUPerOp.Name) }},
	{figure: metric.AllocBytesPerOp.Name, unit: "B/op", value: func(b benchLine) float64 { return b.metric(metric.AllocBytesPerOp.Name) }},
	{figure: metric.AllocsPerOp.Name, unit: "allocs/op", value: func(b benchLine) float64 { return b.metric(metric.AllocsPerOp.Name) }},
}

// benchValue is a tab, v and its unit; nothing when v is not a number, as
// benchstat reads a line with a value left out but not one that is "n/a".
// Two decimals, or four significant digits under 1 (0.0001586 allocs/op).
func benchValue(v float64, unit string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	if v != 0 && math.Abs(v) < 1 {
		return fmt.Sprintf("\t%s %s", strconv.FormatFloat(v, 'g', 4, 64), unit)
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
// text gives each in full. A testcase's system-out holds the scenario's
// figures, each kind of operation's among them (see junitOut).
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
	type property struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	type properties struct {
		Property []property `xml:"property"`
	}
	type testsuite struct {
		XMLName    xml.Name    `xml:"testsuite"`
		Properties *properties `xml:"properties"`
		Name       string      `xml:"name,attr"`
		Tests      int         `xml:"tests,attr"`
		Failures   int         `xml:"failures,attr"`
		Errors     int         `xml:"errors,attr"`
		Skipped    int         `xml:"skipped,attr"`
		Time       string      `xml:"time,attr"`
		Timestamp  string      `xml:"timestamp,attr"`
		Hostname   string      `xml:"hostname,attr"`
		Cases      []testcase  `xml:"testcase"`
	}
	ts := testsuite{
		Name:      "rustci-perf",
		Tests:     len(r.Scenarios),
		Time:      fmt.Sprintf("%.3f", r.FinishedAt.Sub(r.StartedAt).Seconds()),
		Timestamp: r.StartedAt.UTC().Format("2006-01-02T15:04:05"),
		Hostname:  r.Environment.Hostname,
	}
	if len(r.Injected) > 0 {
		// One property per target's faults, named as CI readers show
		// them beside the suite.
		ts.Properties = &properties{}
		for _, in := range r.Injected {
			ts.Properties.Property = append(ts.Properties.Property, property{Name: "rustci-perf.injected", Value: in})
		}
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
			tc.SystemOut = junitOut(s)
		}
		if line := InjectedLine(r.Injected); line != "" {
			// Readers that show a testcase alone show this too.
			tc.SystemOut = strings.TrimSuffix(line+"\n"+tc.SystemOut, "\n")
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

// junitOut is a scenario's figures in its testcase's system-out, which CI
// readers show beside the result: its key figures on the first line, then
// each kind of operation's (thresholds name them "read.p99"), the
// precision reached, the time series' range, what the measured phase
// cost and how each threshold judged per window went, as the text report
// words them.
func junitOut(s Scenario) string {
	lines := []string{fmt.Sprintf("ops %d, throughput %s, p50 %s, p99 %s, max %s", s.Ops, Throughput(s.ThroughputOpsPerSec),
		Duration(float64(s.Latency.P50)), Duration(float64(s.Latency.P99)), Duration(float64(s.Latency.Max)))}
	for _, o := range s.Operations {
		lines = append(lines, kindLine(o))
	}
	if line := precisionLine(s); line != "" {
		lines = append(lines, "precision: "+line)
	}
	if line := seriesLine(s); line != "" {
		lines = append(lines, "time series: "+line)
	}
	if line := costLine(s); line != "" {
		lines = append(lines, "cost: "+line)
	}
	for _, t := range s.Thresholds {
		if w := windowsWords(t, s.Repeat != nil); w != "" {
			lines = append(lines, fmt.Sprintf("%s: worst window %s; %s", t.Expr, actual(t), w))
		}
	}
	if s.Capacity != nil {
		lines = append(lines, capacityLines(s.Capacity)...)
	}
	return strings.Join(lines, "\n")
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
		text := fmt.Sprintf("threshold %s\nexpected %s %s %s\nactual   %s", t.Expr, t.Metric, t.Op, limit, actual(t))
		if w := windowsWords(t, s.Repeat != nil); w != "" {
			missed = append(missed, fmt.Sprintf("%s (actual %s; %s)", t.Expr, actual(t), w))
			if t.Windows.Worst != nil {
				text += " (the worst window's)"
			}
			text += "\nwindows  " + w
		} else {
			missed = append(missed, fmt.Sprintf("%s (actual %s)", t.Expr, actual(t)))
		}
		texts = append(texts, text)
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

// mdEscaper backslash-escapes what Markdown would read as markup in text
// of the user's choosing (labels): GitHub's renderer shows it as typed.
var mdEscaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "#", `\#`, "~", `\~`, "!", `\!`)

func mdEscape(s string) string { return mdEscaper.Replace(s) }
