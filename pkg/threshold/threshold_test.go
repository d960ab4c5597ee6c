package threshold

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	ms := float64(time.Millisecond)
	tests := []struct {
		expr  string
		scope string
		left  string
		q     float64
		right string
		op    Op
		limit float64
	}{
		// the examples
		{"p99<10ms", "", "p99", 99, "", LT, 10 * ms},
		{"p(99.9)<50ms", "", "p99.9", 99.9, "", LT, 50 * ms},
		{"mean<1ms", "", "mean", 0, "", LT, ms},
		{"max<=1s", "", "max", 0, "", LE, float64(time.Second)},
		{"throughput>1000", "", "throughput", 0, "", GT, 1000},
		{"hit_rate>0.95", "", "hit_rate", 0, "", GT, 0.95},
		{"p99/p50<20", "", "p99", 99, "p50", LT, 20},
		{"errors==0", "", "errors", 0, "", EQ, 0},
		// a scope, spaces, every unit
		{"cache-read:p99<2ms", "cache-read", "p99", 99, "", LT, 2 * ms},
		{"  cache : p95 >= 250 us ", "cache", "p95", 95, "", GE, 250e3},
		{"p50<900ns", "", "p50", 50, "", LT, 900},
		{"p50<2µs", "", "p50", 50, "", LT, 2000},
		{"p50<1.5s", "", "p50", 50, "", LT, 1.5e9},
		{"max<2m", "", "max", 0, "", LT, 120e9},
		{"cache-read:p99[1s]<1h", "cache-read", "p99", 99, "", LT, 3600e9},
		// p999 is 99.9, p9999 99.99; p99.9 is read as written
		{"p999<1ms", "", "p99.9", 99.9, "", LT, ms},
		{"p9999<1ms", "", "p99.99", 99.99, "", LT, ms},
		{"p99.9<1ms", "", "p99.9", 99.9, "", LT, ms},
		{"p(100)<1s", "", "p100", 100, "", LT, 1e9},
		{"p1<1s", "", "p1", 1, "", LT, 1e9},
		// != and negative or exponent limits on plain metrics
		{"admission_error!=-1", "", "admission_error", 0, "", NE, -1},
		{"throughput>=1e4", "", "throughput", 0, "", GE, 1e4},
		{"duration<2s", "", "duration", 0, "", LT, 2e9},
		// one kind of operation's figures, in a mixed scenario
		{"latency:read.p99/read.p50<20", "latency", "read.p99", 99, "read.p50", LT, 20},
		{"write.p(99.9)<5ms", "", "write.p99.9", 99.9, "", LT, 5 * ms},
		{"write.p999<5ms", "", "write.p99.9", 99.9, "", LT, 5 * ms},
		{"read.mean<1ms", "", "read.mean", 0, "", LT, ms},
		{"write.throughput>100", "", "write.throughput", 0, "", GT, 100},
	}
	for _, tt := range tests {
		got, err := Parse(tt.expr)
		if err != nil {
			t.Errorf("Parse(%q) error: %v", tt.expr, err)
			continue
		}
		right := ""
		if got.Right != nil {
			right = got.Right.Name
		}
		if got.Scope != tt.scope || got.Left.Name != tt.left || got.Left.Percentile != tt.q || right != tt.right || got.Op != tt.op || got.Limit != tt.limit {
			t.Errorf("Parse(%q) = {scope %q, %s (q %g) / %q %s %g}; want {scope %q, %s (q %g) / %q %s %g}",
				tt.expr, got.Scope, got.Left.Name, got.Left.Percentile, right, got.Op, got.Limit,
				tt.scope, tt.left, tt.q, tt.right, tt.op, tt.limit)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		expr string
		// want is a part of the message that tells what is wrong.
		want string
		col  int
	}{
		{"", "empty expression", 1},
		{"p99<<10ms", "want a number", 5},
		{"p99 10ms", "want a comparison", 5},
		{"p99<10", "give the limit a unit", 7},
		{"p99<10xs", `unknown unit "xs"`, 7},
		{"throughput>1k", `unexpected "k": throughput takes a plain number`, 13},
		{"p99/p50<20ms", "a ratio takes a plain number", 11},
		{"hit_rate>", "want a number", 10},
		{"p100<1s", "ambiguous", 1},
		{"p0<1s", "ambiguous", 1},
		{"p(0)<1s", "want a number in (0, 100]", 3},
		{"p(101)<1s", "want a number in (0, 100]", 3},
		{"p(99.9<1s", "unclosed p(", 1},
		{"Cache:p99<1ms", "scope", 1},
		{":p99<1ms", "scope", 1},
		{"Hit_rate>1", "not a metric name", 1},
		{"<1", "want a metric name", 1},
		{"p99<NaN ms", "want a number", 5},
		{"throughput>1e999", "is not a number", 12},
		{"p99/<1", "want a metric name", 5},
		{"read.hit_rate>0.9", "a kind of operation has percentiles", 1},
		{"read.p99<10", "give the limit a unit", 12},
		{"read.<1ms", "want a metric name", 6},
		// Limits that no measurement can meet.
		{"p99<-5ms", "can never hold: p99 is never below 0s", 4},
		{"p99<0ms", "can never hold: p99 is never below 0s", 4},
		{"write.max<=-1ns", "write.max is never below 0s", 10},
		{"throughput<0", "throughput is never below 0", 11},
		{"errors==-1", "errors is never below 0", 7},
		{"hit_rate>1", "can never hold: hit_rate is between 0 and 1", 9},
		{"cache-read:l1_hit_rate>=1.5", "l1_hit_rate is between 0 and 1", 23},
		{"fallback_rate==2", "fallback_rate is between 0 and 1", 14},
		{"p99/p50<0", "p99/p50 is never below 0", 8},
		{"hit_rate<0", "hit_rate is between 0 and 1", 9},
	}
	for _, tt := range tests {
		_, err := Parse(tt.expr)
		if err == nil {
			t.Errorf("Parse(%q) = nil error; want one containing %q", tt.expr, tt.want)
			continue
		}
		e, ok := err.(*Error)
		if !ok || !strings.Contains(err.Error(), tt.want) || e.Col != tt.col {
			t.Errorf("Parse(%q) error = %v; want one at column %d containing %q", tt.expr, err, tt.col, tt.want)
		}
		if !strings.Contains(err.Error(), "\""+tt.expr+"\"") && !strings.Contains(err.Error(), `""`) {
			t.Errorf("Parse(%q) error %q does not quote the expression", tt.expr, err)
		}
	}
}

// TestEvalKinds checks that a kind's figure is read from that kind's
// figures, and that a kind the run does not have fails as not computable.
func TestEvalKinds(t *testing.T) {
	f := Figures{
		Latencies: true, Percentile: func(float64) float64 { return 100 },
		Kinds: map[string]Figures{
			"read":  {Latencies: true, Ops: 90, Percentile: func(p float64) float64 { return p }},
			"write": {Ops: 10},
		},
	}
	tests := []struct {
		expr   string
		actual float64 // NaN: not computable
		pass   bool
	}{
		{"read.p99/read.p50<20", 99.0 / 50, true},
		{"read.ops==90", 90, true},
		{"write.p99<1ms", math.NaN(), false}, // no successful write: no latency
		{"delete.ops>0", math.NaN(), false},  // no such kind
		{"p99<1ms", 100, true},               // the whole is apart
	}
	for _, tt := range tests {
		th, err := Parse(tt.expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.expr, err)
		}
		o := Eval(th, f.Source())
		same := o.Actual == tt.actual || (math.IsNaN(o.Actual) && math.IsNaN(tt.actual))
		if !same || o.Pass != tt.pass {
			t.Errorf("Eval(%q) = (%g, %t); want (%g, %t)", tt.expr, o.Actual, o.Pass, tt.actual, tt.pass)
		}
	}
}

func TestEval(t *testing.T) {
	src := func(m Metric) (float64, bool) {
		switch m.Name {
		case "p99":
			return 4e6, true
		case "p50":
			return 1e6, true
		case "zero":
			return 0, true
		case "hit_rate":
			return 0.95, true
		case "na":
			return math.NaN(), true // present, but not computable
		case "inf":
			return math.Inf(1), true
		}
		return 0, false
	}
	tests := []struct {
		expr   string
		actual float64 // NaN: not computable
		pass   bool
	}{
		{"p99<5ms", 4e6, true},   // 4ms < 5ms
		{"p99<4ms", 4e6, false},  // strict
		{"p99<=4ms", 4e6, true},  // inclusive
		{"p99/p50<5", 4, true},   // ratio 4
		{"p99/p50>=5", 4, false}, // ratio 4 is not >= 5
		{"hit_rate>0.95", 0.95, false},
		{"hit_rate==0.95", 0.95, true},
		{"hit_rate!=0.95", 0.95, false},
		{"missing>1", math.NaN(), false},  // no such metric: fails
		{"p99/zero<1", math.NaN(), false}, // division by zero: fails
		{"na<1024", math.NaN(), false},    // n/a: fails
		{"na!=0", math.NaN(), false},      // n/a: fails even !=, which NaN would meet
		{"p99/na<1", math.NaN(), false},   // a ratio over n/a: fails
		{"na/p99<1", math.NaN(), false},
		{"inf>0", math.NaN(), false},     // not a figure: fails
		{"p99/inf<1", math.NaN(), false}, // 0 by IEEE, but not a figure
	}
	for _, tt := range tests {
		th, err := Parse(tt.expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.expr, err)
		}
		o := Eval(th, src)
		same := o.Actual == tt.actual || (math.IsNaN(o.Actual) && math.IsNaN(tt.actual))
		if !same || o.Pass != tt.pass {
			t.Errorf("Eval(%q) = (%g, %t); want (%g, %t)", tt.expr, o.Actual, o.Pass, tt.actual, tt.pass)
		}
	}
}

// FuzzParse: Parse never panics, an error always quotes the input, and what
// parses parses again, from its own Expr, to the same threshold.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"p99<10ms", "p(99.9)<50ms", "cache-read:hit_rate>0.95", "p99/p50<20", "errors==0", "throughput>=1e3", "x:y!=-2", "p(", "p999<1s"} {
		f.Add(s)
	}
	for _, s := range []string{"p99[1s]<10ms", "cache-read:p99[5s, 95%]<1ms", "latency:read.p99[1s]/read.p50[1s]<20", "throughput[300ms]>1000", "p99[", "p99[1s,]<1ms", "hit_rate[1s]>0.9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := Parse(s)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse(%q) error of type %T", s, err)
			}
			return
		}
		again, err := Parse(th.Expr)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but Parse of its Expr %q: %v", s, th.Expr, err)
		}
		if again.Scope != th.Scope || again.Left != th.Left || again.Op != th.Op || again.Limit != th.Limit || again.Window != th.Window {
			t.Fatalf("Parse(%q) = %+v; again = %+v", s, th, again)
		}
		if math.IsNaN(th.Limit) || math.IsInf(th.Limit, 0) {
			t.Fatalf("Parse(%q) limit %g", s, th.Limit)
		}
		if w := th.Window; w.Set() && (w.Length <= 0 || !(w.Share > 0 && w.Share <= 100)) {
			t.Fatalf("Parse(%q) window %+v: a length above 0 and a share in (0, 100] expected", s, w)
		}
		if w := th.Window; !w.Set() && w != (Window{}) {
			t.Fatalf("Parse(%q) window %+v without a length", s, w)
		}
	})
}

func TestParseWindows(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		expr  string
		scope string
		left  string
		right string
		w     Window
		limit float64
	}{
		// the examples: every window, or a share of them
		{"p99[1s]<10ms", "", "p99", "", Window{time.Second, 100}, 10e6},
		{"throughput[1s]>1000", "", "throughput", "", Window{time.Second, 100}, 1000},
		{"p99[5s, 95%]<10ms", "", "p99", "", Window{5 * time.Second, 95}, 10e6},
		// scopes and kinds, spaces, a fractional share, 100% as every window
		{"cache-read:p99[1s]<1ms", "cache-read", "p99", "", Window{time.Second, 100}, 1e6},
		{"latency:read.p99[1s]<1ms", "latency", "read.p99", "", Window{time.Second, 100}, 1e6},
		{" p(99.9) [ 300ms ,99.5 % ] < 2ms", "", "p99.9", "", Window{300 * ms, 99.5}, 2e6},
		{"errors[500ms,100%]==0", "", "errors", "", Window{500 * ms, 100}, 0},
		{"write.max[1m30s]<1s", "", "write.max", "", Window{90 * time.Second, 100}, 1e9},
		{"min[1s]>0ns", "", "min", "", Window{time.Second, 100}, 0},
		{"mean[1s]<1ms", "", "mean", "", Window{time.Second, 100}, 1e6},
		{"read.ops[200ms]>=1", "", "read.ops", "", Window{200 * ms, 100}, 1},
		// a ratio: both figures in the same window
		{"read.p99[1s]/read.p50[1s]<20", "", "read.p99", "read.p50", Window{time.Second, 100}, 20},
		{"p99[2s,90%] / p50[2s, 90%] < 5", "", "p99", "p50", Window{2 * time.Second, 90}, 5},
	}
	for _, tt := range tests {
		got, err := Parse(tt.expr)
		if err != nil {
			t.Errorf("Parse(%q) error: %v", tt.expr, err)
			continue
		}
		right := ""
		if got.Right != nil {
			right = got.Right.Name
		}
		if got.Scope != tt.scope || got.Left.Name != tt.left || right != tt.right || got.Window != tt.w || got.Limit != tt.limit {
			t.Errorf("Parse(%q) = {scope %q, %s / %q, window %+v, limit %g}; want {scope %q, %s / %q, window %+v, limit %g}",
				tt.expr, got.Scope, got.Left.Name, right, got.Window, got.Limit, tt.scope, tt.left, tt.right, tt.w, tt.limit)
		}
	}
	// No window: the whole phase, as before.
	if got, _ := Parse("p99<10ms"); got.Window.Set() {
		t.Errorf("Parse(p99<10ms) window %+v; want none", got.Window)
	}
}

func TestParseWindowErrors(t *testing.T) {
	tests := []struct {
		expr string
		want string
		col  int
	}{
		{"p99[1s<10ms", "unclosed [", 4},
		{"p99[]<10ms", "want a window's length", 5},
		{"p99[ , 95%]<10ms", "want a window's length", 6},
		{"p99[1x]<10ms", `window "1x": want a duration`, 5},
		{"p99[10]<10ms", `window "10": want a duration`, 5},
		{"p99[0s]<10ms", "window 0s: want a length above 0", 5},
		{"p99[-1s]<10ms", "want a length above 0", 5},
		{"p99[1s, 95]<10ms", `share "95": want the percentage of windows`, 9},
		{"p99[1s,]<10ms", `share "": want the percentage`, 8},
		{"p99[1s, 0%]<10ms", "share 0%: want more than 0% and at most 100%", 9},
		{"p99[1s, 101%]<10ms", "share 101%", 9},
		{"p99[1s, NaN%]<10ms", `share "NaN%"`, 9},
		{"p99[1s]<10", "give the limit a unit", 11},
		// figures the time series cannot give back
		{"hit_rate[1s]>0.9", "hit_rate cannot be judged per window", 1},
		{"cache-read:stdev[1s]<1ms", "stdev cannot be judged per window", 12},
		{"duration[1s]<2s", "duration cannot be judged per window", 1},
		{"achieved_rate_ratio[1s]>0.99", "achieved_rate_ratio cannot be judged per window", 1},
		{"l1_hits[1s]>0", "l1_hits cannot be judged per window", 1},
		{"admission_error[1s]==0", "cannot be judged per window", 1},
		{"p99[1s]/hit_rate[1s]<1", "hit_rate cannot be judged per window", 9},
		// a ratio's figures share one window
		{"p99[1s]/p50<20", "a ratio's two figures share one window", 9},
		{"p99/p50[1s]<20", "a ratio's two figures share one window", 5},
		{"p99[1s]/p50[2s]<20", "share one window", 9},
		{"p99[1s, 90%]/p50[1s]<20", "share one window", 14},
	}
	for _, tt := range tests {
		_, err := Parse(tt.expr)
		e, ok := err.(*Error)
		if !ok || !strings.Contains(err.Error(), tt.want) || e.Col != tt.col {
			t.Errorf("Parse(%q) error = %v; want one at column %d containing %q", tt.expr, err, tt.col, tt.want)
		}
	}
}

// TestWindowEnough: the share arithmetic, at its edges.
func TestWindowEnough(t *testing.T) {
	tests := []struct {
		share       float64
		held, total int
		want        bool
	}{
		{100, 2, 2, true},       // every window held
		{100, 1, 2, false},      // one did not
		{100, 0, 0, false},      // no window: nothing to judge, never holds
		{95, 0, 0, false},       // likewise with a share
		{95, 19, 20, true},      // exactly 95%
		{95, 18, 20, false},     // 90%
		{95, 9, 10, false},      // 95% of 10 is 9.5: 10 needed
		{95, 10, 10, true},      //
		{99.9, 999, 1000, true}, // 99.9% of 1000 is 999, whatever the rounding of 99.9
		{99.9, 998, 1000, false},
		{50, 1, 2, true},
		{50, 1, 3, false},
		{0.1, 1, 1000, true},
		{0.1, 0, 1000, false},
	}
	for _, tt := range tests {
		w := Window{Length: time.Second, Share: tt.share}
		if got := w.Enough(tt.held, tt.total); got != tt.want {
			t.Errorf("Window{share %g}.Enough(%d, %d) = %t; want %t", tt.share, tt.held, tt.total, got, tt.want)
		}
	}
}

func TestWindowString(t *testing.T) {
	for expr, want := range map[string]string{
		"p99[1s]<1ms":           "1s",
		"p99[1000ms, 100%]<1ms": "1s",
		"p99[5s,95%]<1ms":       "5s, 95%",
		"p99[300ms, 99.5%]<1ms": "300ms, 99.5%",
	} {
		th, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := th.Window.String(); got != want {
			t.Errorf("%s: Window.String() = %q; want %q", expr, got, want)
		}
	}
}

func TestWorst(t *testing.T) {
	vals := []float64{3, 1, 2}
	tests := []struct {
		expr string
		want float64
	}{
		{"errors<5", 3}, // the largest is the worst for <
		{"throughput>0", 1},
		{"errors==1", 3}, // a failing one
		{"errors==3", 1},
	}
	for _, tt := range tests {
		th, _ := Parse(tt.expr)
		if got := th.Worst(vals); got != tt.want {
			t.Errorf("%s: Worst(%v) = %g; want %g", tt.expr, vals, got, tt.want)
		}
	}
	th, _ := Parse("errors<5")
	if got := th.WorstAt([]float64{1, 7, 7, 2}); got != 1 {
		t.Errorf("WorstAt of two equal worst = %d; want the first, 1", got)
	}
	if got := th.WorstAt(nil); got != -1 {
		t.Errorf("WorstAt(nil) = %d; want -1", got)
	}
	if got := th.WorstAt([]float64{9, math.NaN(), math.NaN()}); got != 1 {
		t.Errorf("WorstAt with NaNs = %d; want the first NaN, 1", got)
	}
	if got := th.Worst([]float64{1, math.NaN()}); !math.IsNaN(got) {
		t.Errorf("Worst with a NaN = %g; want NaN", got)
	}
}

// TestParseLimitsAtTheEdge: limits a figure can just meet, and those of
// figures that may be negative, are accepted.
func TestParseLimitsAtTheEdge(t *testing.T) {
	for _, expr := range []string{
		"hit_rate>=1", "hit_rate<=0", "hit_rate==1", "hit_rate!=2", "l1_hit_rate>0.999",
		"p99<=0ms", "p99<1ns", "stdev<=0ns", "errors<=0", "errors==0", "throughput>0", "p99/p50<1",
		"heap_bytes<-100", "heap_bytes_per_item<-1", "admission_error<0", "admission_error/ops<-1",
	} {
		if _, err := Parse(expr); err != nil {
			t.Errorf("Parse(%q): %v", expr, err)
		}
	}
}

func TestParseMetric(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"p99", "p99", true},
		{"p999", "p99.9", true},    // the 9s after the first two are decimals
		{"p(99.9)", "p99.9", true}, // one name for one figure
		{"p99.9", "p99.9", true},
		{" read.p999 ", "read.p99.9", true},
		{"hit_rate", "hit_rate", true},
		{"write.ops", "write.ops", true},
		{"read.hits", "", false}, // a kind has no counters
		{"p99<1ms", "", false},   // a threshold, not a figure
		{"", "", false},
		{"P99", "", false},
	} {
		m, err := ParseMetric(tt.in)
		if (err == nil) != tt.ok || m.Name != tt.want {
			t.Errorf("ParseMetric(%q) = (%q, %v); want (%q, ok %t)", tt.in, m.Name, err, tt.want, tt.ok)
		}
	}
}
