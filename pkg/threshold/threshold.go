// Package threshold is the small language in which pass/fail limits on a
// scenario's figures are written: "p99<10ms", "cache-read:hit_rate>0.95".
//
// An expression is [SCOPE:] METRIC[WINDOW] [/ METRIC[WINDOW]] OP NUMBER
// [UNIT]. SCOPE names a scenario or group. METRIC is a name (mean,
// throughput, hit_rate, errors, a scenario's counter), a percentile (p50,
// p99, p999 for 99.9, or p(99.95)), and a ratio of two metrics is unitless
// (p99/p50<20). OP is one of < <= > >= == !=. A duration's limit (a
// latency, cpu_per_op, gc_pause_total: what the metric catalogue has in
// ns) needs a unit (ns, us, µs, ms, s, m, h); any other metric's must not
// have one.
//
// A WINDOW judges the figure in every window of the measured phase's time
// series rather than over the whole phase: p99[1s]<10ms holds when the p99
// of every whole second does; p99[5s, 95%]<10ms when that of at least 95%
// of the 5s windows does. Only the figures the time series gives back for
// any run of intervals can be windowed (metric.Def.Windowed: latency
// percentiles, min, mean, max, throughput, ops, errors, each kind's too);
// a ratio is windowed by giving both figures the same window
// (read.p99[1s]/read.p50[1s]<20), judged window by window.
//
// Parse checks the syntax; whether a scenario has the metric, and whether a
// window is a whole number of its intervals, is checked by the caller,
// which knows the scenarios.
package threshold

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/rustci/rustci-perf/pkg/metric"
)

// Op is a comparison.
type Op string

// The comparisons, longest first so "<=" is not read as "<".
const (
	LE Op = "<="
	GE Op = ">="
	EQ Op = "=="
	NE Op = "!="
	LT Op = "<"
	GT Op = ">"
)

var ops = []Op{LE, GE, EQ, NE, LT, GT}

// Metric names one figure of a scenario.
type Metric struct {
	// Name is canonical: "p99.9" for p999 and p(99.9) alike;
	// "read.p99.9" for one kind of operation's.
	Name string
	// Percentile is in (0, 100] for a percentile (99.9 for p99.9), 0
	// otherwise.
	Percentile float64
	// Kind, when set, names the kind of operation (read, write) whose
	// figure this is, in a scenario that mixes several: "read.p99".
	Kind string
}

// Base is the metric's name without its kind: "p99" for "read.p99".
func (m Metric) Base() string { return strings.TrimPrefix(m.Name, m.Kind+".") }

// KindMetrics returns the figures each kind of operation has besides its
// percentiles (metric.Def.PerKind), as a threshold names them after the
// kind ("write.ops").
func KindMetrics() []string {
	return metric.Names(func(d metric.Def) bool { return d.PerKind })
}

// kindMetrics is KindMetrics as a set.
var kindMetrics = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range KindMetrics() {
		m[n] = true
	}
	return m
}()

// IsLatency reports whether m's value is a duration, so that its limit
// needs a unit: a figure the metric catalogue has in nanoseconds (the
// percentiles, min, mean, stdev, max, duration).
func (m Metric) IsLatency() bool {
	d, ok := metric.Lookup(m.Name)
	return ok && d.Unit == metric.NS
}

// Threshold is one parsed expression.
type Threshold struct {
	// Expr is the expression as written, trimmed.
	Expr string
	// Scope is the scenario or group it applies to; empty for all.
	Scope string
	Left  Metric
	// Right is the divisor of a ratio, nil otherwise.
	Right *Metric
	Op    Op
	// Limit is in the metric's base unit: nanoseconds for latencies.
	Limit float64
	// Window, when set (p99[1s]), judges the figure per window of the
	// time series instead of over the whole measured phase.
	Window Window
}

// Window is how a threshold is judged over a measured phase's time series:
// the phase is cut into consecutive windows of Length (whole intervals of
// the series), the figure computed in each, and the threshold holds when
// at least Share percent of the windows hold (100: every one). The zero
// Window judges the whole phase at once.
type Window struct {
	Length time.Duration
	// Share is the percentage of windows that must hold, in (0, 100].
	Share float64
}

// Set reports whether w is a window at all (p99[1s]), not the whole phase.
func (w Window) Set() bool { return w.Length > 0 }

// String writes w as the expression's brackets hold it: "1s", "5s, 95%".
func (w Window) String() string {
	if w.Share >= 100 {
		return w.Length.String()
	}
	return fmt.Sprintf("%s, %s%%", w.Length, strconv.FormatFloat(w.Share, 'f', -1, 64))
}

// Enough reports whether held windows of total are enough: at least
// Share percent of them, and at least one window (none at all tells
// nothing, and never holds).
func (w Window) Enough(held, total int) bool {
	// Share*total is not exact for every share (99.9% of 1000 is not
	// 999.0 in floating point): a millionth of a window is allowed for.
	return total > 0 && held >= 0 && float64(held)*100+1e-6 >= w.Share*float64(total)
}

// IsLatency reports whether the compared value is a duration.
func (t Threshold) IsLatency() bool { return t.Right == nil && t.Left.IsLatency() }

// Metrics returns the metrics t reads.
func (t Threshold) Metrics() []Metric {
	if t.Right != nil {
		return []Metric{t.Left, *t.Right}
	}
	return []Metric{t.Left}
}

// Error is a parse error: it quotes the expression and says where.
type Error struct {
	Expr string
	// Col is the 1-based column (in bytes) of the problem.
	Col int
	Msg string
}

func (e *Error) Error() string {
	return fmt.Sprintf("threshold %q: column %d: %s", e.Expr, e.Col, e.Msg)
}

var units = map[string]time.Duration{
	"ns": time.Nanosecond, "us": time.Microsecond, "µs": time.Microsecond,
	"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
}

// Parse reads one expression.
func Parse(expr string) (Threshold, error) {
	raw := expr
	expr = strings.TrimSpace(expr)
	lead := strings.Index(raw, expr) // columns count in the original
	p := &parser{s: expr, orig: raw, off: lead}
	t := Threshold{Expr: expr}
	if expr == "" {
		return t, p.fail(0, "empty expression")
	}

	// The scope is what stands before the first ':'.
	if i := strings.IndexByte(expr, ':'); i >= 0 {
		t.Scope = strings.TrimSpace(expr[:i])
		if !isName(t.Scope) {
			return t, p.fail(0, fmt.Sprintf("scope %q: want a scenario or group name", t.Scope))
		}
		p.pos = i + 1
	}

	var err error
	p.space()
	at := []int{p.pos} // where each metric starts
	if t.Left, err = p.metric(); err != nil {
		return t, err
	}
	if t.Window, err = p.window(); err != nil {
		return t, err
	}
	p.space()
	if p.peek() == '/' {
		p.pos++
		p.space()
		at = append(at, p.pos)
		r, err := p.metric()
		if err != nil {
			return t, err
		}
		t.Right = &r
		w, err := p.window()
		if err != nil {
			return t, err
		}
		if w != t.Window {
			return t, p.fail(at[1], fmt.Sprintf("%s/%s: a ratio's two figures share one window: give both the same, as in %s[1s]/%s[1s], or neither", t.Left.Name, r.Name, t.Left.Name, r.Name))
		}
		p.space()
	}
	if t.Window.Set() {
		for i, m := range t.Metrics() {
			if d, ok := metric.Lookup(m.Name); !ok || !d.Windowed {
				return t, p.fail(at[i], fmt.Sprintf("%s cannot be judged per window: the time series gives back latency percentiles, min, mean, max, throughput, ops and errors (each kind's too), and nothing else", m.Name))
			}
		}
	}

	opAt := p.pos
	for _, o := range ops {
		if strings.HasPrefix(p.s[p.pos:], string(o)) {
			t.Op = o
			p.pos += len(o)
			break
		}
	}
	if t.Op == "" {
		return t, p.fail(opAt, "want a comparison (< <= > >= == !=) after the metric")
	}

	p.space()
	numAt := p.pos
	end := p.pos
	for end < len(p.s) && strings.ContainsRune("0123456789.+-eE", rune(p.s[end])) {
		// An 'e' counts as an exponent only when a digit follows it.
		if (p.s[end] == 'e' || p.s[end] == 'E') && (end+1 >= len(p.s) || !strings.ContainsRune("0123456789+-", rune(p.s[end+1]))) {
			break
		}
		end++
	}
	if end == numAt {
		return t, p.fail(numAt, fmt.Sprintf("want a number after %q", t.Op))
	}
	v, perr := strconv.ParseFloat(p.s[numAt:end], 64)
	if perr != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return t, p.fail(numAt, fmt.Sprintf("%q is not a number", p.s[numAt:end]))
	}
	p.pos = end
	p.space()
	unitAt := p.pos
	unit := strings.TrimSpace(p.s[p.pos:])

	switch {
	case t.IsLatency() && unit == "":
		// A latency is read as milliseconds (p99<10ms); a CPU or GC
		// time, small, as the nanoseconds it is in (cpu_per_op<2000ns).
		what, eg := "a latency", "ms"
		if d, _ := metric.Lookup(t.Left.Name); d.Source != metric.Measured {
			what, eg = "a time", "ns"
		}
		return t, p.fail(unitAt, fmt.Sprintf("%s is %s: give the limit a unit (ns, us, ms, s), as in %s%s%g%s", t.Left.Name, what, t.Left.Name, t.Op, v, eg))
	case t.IsLatency():
		u, ok := units[unit]
		if !ok {
			return t, p.fail(unitAt, fmt.Sprintf("unknown unit %q: want ns, us, µs, ms, s, m or h", unit))
		}
		v *= float64(u)
	case unit != "":
		return t, p.fail(unitAt, fmt.Sprintf("unexpected %q: %s takes a plain number", unit, describe(t)))
	}
	t.Limit = v
	if why := t.never(); why != "" {
		return t, p.fail(opAt, why)
	}
	return t, nil
}

// ParseMetric reads one metric as an expression names it (p99, p999,
// p(99.9), read.p99, hit_rate), with no comparison, and returns it under
// its canonical name ("p99.9" for p999 and p(99.9) alike): the one name a
// figure has wherever it is stored or asked for (package history stores
// figures under it; a trend asks for it). Whether a scenario has it is
// the caller's to check.
func ParseMetric(s string) (Metric, error) {
	p := &parser{s: s, orig: s}
	if strings.TrimSpace(s) == "" {
		return Metric{}, p.fail(0, "want a metric name")
	}
	m, err := p.metric()
	if err != nil {
		return Metric{}, err
	}
	p.space()
	if p.pos != len(p.s) {
		return Metric{}, p.fail(p.pos, fmt.Sprintf("unexpected %q after the metric %s", p.s[p.pos:], m.Name))
	}
	return m, nil
}

// never says why t can never hold, whatever is measured, or returns "":
// a limit outside what the metric can be at all, not one merely out of
// reach (p99<1ns is a threshold that fails, exit 1, which CI relies on).
// "p99<-5ms" (a latency is never negative), "hit_rate>1" (a share is at
// most 1). Such a limit is a mistake to be told at once, not a threshold
// that fails every run. The bounds are the metrics' own (metric.Bounds); a
// ratio of two figures that are never negative is never negative.
func (t Threshold) never() string {
	lo, hi := metric.Bounds(t.Left.Base())
	what := t.Left.Name
	if t.Right != nil {
		rlo, _ := metric.Bounds(t.Right.Base())
		what = t.Left.Name + "/" + t.Right.Name
		lo, hi = 0, math.Inf(1)
		if l, _ := metric.Bounds(t.Left.Base()); l < 0 || rlo < 0 {
			lo = math.Inf(-1)
		}
	}
	var impossible bool
	switch t.Op {
	case LT:
		impossible = t.Limit <= lo
	case LE:
		impossible = t.Limit < lo
	case GT:
		impossible = t.Limit >= hi
	case GE:
		impossible = t.Limit > hi
	case EQ:
		impossible = t.Limit < lo || t.Limit > hi
	}
	if !impossible {
		return ""
	}
	bound := func(v float64) string {
		if t.IsLatency() {
			return time.Duration(v).String()
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	if math.IsInf(hi, 1) {
		return fmt.Sprintf("can never hold: %s is never below %s", what, bound(lo))
	}
	return fmt.Sprintf("can never hold: %s is between %s and %s", what, bound(lo), bound(hi))
}

func describe(t Threshold) string {
	if t.Right != nil {
		return "a ratio"
	}
	return t.Left.Name
}

type parser struct {
	s    string
	orig string
	off  int // offset of s in orig
	pos  int
}

func (p *parser) fail(at int, msg string) error {
	return &Error{Expr: p.orig, Col: p.off + at + 1, Msg: msg}
}

func (p *parser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *parser) space() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

// metric reads a name, pNN or p(X), each perhaps after a kind of
// operation and a dot (read.p99).
func (p *parser) metric() (Metric, error) {
	p.space()
	at := p.pos
	if kind := p.kind(); kind != "" {
		m, err := p.plainMetric()
		if err != nil {
			return m, err
		}
		if m.Percentile == 0 && !kindMetrics[m.Name] {
			return m, p.fail(at, fmt.Sprintf("%s.%s: a kind of operation has percentiles, min, mean, stdev, max, ops, errors and throughput", kind, m.Name))
		}
		m.Kind, m.Name = kind, kind+"."+m.Name
		return m, nil
	}
	return p.plainMetric()
}

// window reads a window in brackets, [1s] or [5s, 95%], when one follows
// (spaces before it allowed); the zero Window when none does.
func (p *parser) window() (Window, error) {
	save := p.pos
	p.space()
	if p.peek() != '[' {
		p.pos = save
		return Window{}, nil
	}
	at := p.pos
	end := strings.IndexByte(p.s[at:], ']')
	if end < 0 {
		return Window{}, p.fail(at, "unclosed [: want a window, as in p99[1s] or p99[5s, 95%]")
	}
	inner := p.s[at+1 : at+end]
	length, share, hasShare := strings.Cut(inner, ",")
	lenAt := at + 1 + len(length) - len(strings.TrimLeft(length, " \t"))
	length = strings.TrimSpace(length)
	if length == "" {
		return Window{}, p.fail(lenAt, "want a window's length, as in [1s] or [5s, 95%]")
	}
	d, err := time.ParseDuration(length)
	if err != nil {
		return Window{}, p.fail(lenAt, fmt.Sprintf("window %q: want a duration, as in 1s or 500ms", length))
	}
	if d <= 0 {
		return Window{}, p.fail(lenAt, fmt.Sprintf("window %s: want a length above 0", length))
	}
	w := Window{Length: d, Share: 100}
	if hasShare {
		shareAt := at + 1 + len(inner) - len(strings.TrimLeft(share, " \t"))
		share = strings.TrimSpace(share)
		num, pct := strings.CutSuffix(share, "%")
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if !pct || err != nil || math.IsNaN(v) {
			return Window{}, p.fail(shareAt, fmt.Sprintf("share %q: want the percentage of windows that must hold, as in [5s, 95%%]", share))
		}
		if v <= 0 || v > 100 {
			return Window{}, p.fail(shareAt, fmt.Sprintf("share %s: want more than 0%% and at most 100%% of the windows", share))
		}
		w.Share = v
	}
	p.pos = at + end + 1
	return w, nil
}

// kind reads "read." (a lower-case name and a dot that do not start a
// percentile such as p99.9) and returns the name, or reads nothing and
// returns "".
func (p *parser) kind() string {
	end := p.pos
	for end < len(p.s) && p.s[end] != '.' && isMetricByte(p.s[end]) {
		end++
	}
	name := p.s[p.pos:end]
	if end >= len(p.s) || p.s[end] != '.' || !isName(name) || (name[0] == 'p' && allDigits(name[1:])) {
		return ""
	}
	p.pos = end + 1
	return name
}

// plainMetric reads a name, pNN or p(X).
func (p *parser) plainMetric() (Metric, error) {
	at := p.pos
	if strings.HasPrefix(p.s[p.pos:], "p(") {
		end := strings.IndexByte(p.s[p.pos:], ')')
		if end < 0 {
			return Metric{}, p.fail(at, "unclosed p(: want p(99.9)")
		}
		arg := strings.TrimSpace(p.s[p.pos+2 : p.pos+end])
		q, err := percentile(arg)
		if err != nil {
			return Metric{}, p.fail(at+2, err.Error())
		}
		p.pos += end + 1
		return q, nil
	}
	end := p.pos
	for end < len(p.s) && isMetricByte(p.s[end]) {
		end++
	}
	name := p.s[p.pos:end]
	if name == "" {
		if p.pos < len(p.s) {
			return Metric{}, p.fail(at, fmt.Sprintf("want a metric name, not %q", p.s[p.pos:p.pos+1]))
		}
		return Metric{}, p.fail(at, "want a metric name")
	}
	p.pos = end
	if len(name) > 1 && name[0] == 'p' && allDigits(strings.Replace(name[1:], ".", "", 1)) {
		m, err := shortPercentile(name)
		if err != nil {
			return Metric{}, p.fail(at, err.Error())
		}
		return m, nil
	}
	if !isName(name) {
		return Metric{}, p.fail(at, fmt.Sprintf("%q is not a metric name", name))
	}
	return Metric{Name: name}, nil
}

// shortPercentile reads p50, p99 (whole percentiles 1..99), p99.9, and p999,
// p9999 (99.9, 99.99: the 9s after the first two are decimals).
func shortPercentile(name string) (Metric, error) {
	d := name[1:]
	switch {
	case strings.Contains(d, "."):
		return percentile(d)
	case len(d) <= 2 && d != "0" && d != "00":
		return percentile(d)
	case strings.Trim(d, "9") == "" && len(d) <= 6:
		return percentile(d[:2] + "." + d[2:])
	}
	return Metric{}, fmt.Errorf("%s is ambiguous: write p(NN.N), for example p(99.9)", name)
}

// percentile reads a percentile in (0, 100].
func percentile(s string) (Metric, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || v <= 0 || v > 100 {
		return Metric{}, fmt.Errorf("percentile %q: want a number in (0, 100]", s)
	}
	return Metric{Name: "p" + strconv.FormatFloat(v, 'f', -1, 64), Percentile: v}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isMetricByte reports whether c may stand in a metric name as scanned:
// letters (upper case too, to be refused with the whole name), digits, '_',
// and '.' for p99.9.
func isMetricByte(c byte) bool {
	return c == '_' || c == '.' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// isName reports whether s is a lower-case identifier such as hit_rate or
// cache-read: a letter, then letters, digits, '_' or '-'.
func isName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '-' || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9')) {
			return false
		}
	}
	return true
}

// Source gives the value of a metric for one scenario run; ok is false when
// the run has no such metric.
type Source func(m Metric) (v float64, ok bool)

// Outcome is a threshold judged against a run.
type Outcome struct {
	Threshold
	// Actual is the compared value (a ratio for ratios); NaN when it could
	// not be computed (a metric missing, or a ratio over zero).
	Actual float64
	Pass   bool
}

// Eval judges t against src. A value that cannot be computed (a metric
// missing, one the source gives as NaN, a ratio over zero) fails, whatever
// the comparison: "hit_rate!=0" does not hold for a hit rate of nothing.
func Eval(t Threshold, src Source) Outcome {
	o := Outcome{Threshold: t, Actual: math.NaN()}
	l, ok := src(t.Left)
	if !ok || !finite(l) {
		return o
	}
	if t.Right != nil {
		r, ok := src(*t.Right)
		if !ok || r == 0 || !finite(r) {
			return o
		}
		l /= r
	}
	o.Actual = l
	o.Pass = t.Holds(l)
	return o
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Holds reports whether value v meets t (a NaN, a value that could not be
// computed, never does, not even for !=).
func (t Threshold) Holds(v float64) bool { return !math.IsNaN(v) && compare(v, t.Op, t.Limit) }

// Worst returns, of values, the one that meets t worst: the largest for <
// and <=, the smallest for > and >=, and for == and != a failing one if
// any. NaN, a value that could not be computed, is the worst of all.
func (t Threshold) Worst(values []float64) float64 {
	if i := t.WorstAt(values); i >= 0 {
		return values[i]
	}
	return math.NaN()
}

// WorstAt returns the index of the first of values that meets t worst (see
// Worst); -1 when there are none.
func (t Threshold) WorstAt(values []float64) int {
	w := -1
	for i, v := range values {
		switch {
		case math.IsNaN(v):
			return i
		case w < 0:
			w = i
		case (t.Op == LT || t.Op == LE) && v > values[w]:
			w = i
		case (t.Op == GT || t.Op == GE) && v < values[w]:
			w = i
		case (t.Op == EQ || t.Op == NE) && !t.Holds(v) && t.Holds(values[w]):
			w = i // the first failing one
		}
	}
	return w
}

func compare(a float64, op Op, b float64) bool {
	switch op {
	case LT:
		return a < b
	case LE:
		return a <= b
	case GT:
		return a > b
	case GE:
		return a >= b
	case EQ:
		return a == b
	case NE:
		return a != b
	}
	return false
}

// Figures are a run's values under the metric names every scenario has;
// Source turns them into a Source, looking up other names in Metrics, then
// Counters.
type Figures struct {
	Ops, Errors float64
	Throughput  float64
	// Duration and the latency figures are in nanoseconds.
	Duration              float64
	Min, Mean, Stdev, Max float64
	// Latencies says whether there is a latency distribution at all (no
	// successful operation: none); Percentile reads it, p in (0, 100].
	Latencies  bool
	Percentile func(p float64) float64
	Metrics    map[string]float64
	Counters   map[string]int64
	// Kinds are the figures of each kind of operation, in a scenario that
	// mixes several ("read.p99").
	Kinds map[string]Figures
}

// Source returns the Source of f.
func (f Figures) Source() Source {
	return func(m Metric) (float64, bool) {
		if m.Kind != "" {
			k, ok := f.Kinds[m.Kind]
			if !ok {
				return 0, false
			}
			return k.Source()(Metric{Name: m.Base(), Percentile: m.Percentile})
		}
		if m.Percentile > 0 {
			if !f.Latencies {
				return 0, false
			}
			return f.Percentile(m.Percentile), true
		}
		switch m.Name {
		case "ops":
			return f.Ops, true
		case "errors":
			return f.Errors, true
		case "throughput":
			return f.Throughput, true
		case "duration":
			return f.Duration, true
		case "min":
			return f.Min, f.Latencies
		case "mean":
			return f.Mean, f.Latencies
		case "stdev":
			return f.Stdev, f.Latencies
		case "max":
			return f.Max, f.Latencies
		}
		if v, ok := f.Metrics[m.Name]; ok {
			return v, true
		}
		v, ok := f.Counters[m.Name]
		return float64(v), ok
	}
}
