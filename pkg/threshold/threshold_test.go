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
		if again.Scope != th.Scope || again.Left != th.Left || again.Op != th.Op || again.Limit != th.Limit {
			t.Fatalf("Parse(%q) = %+v; again = %+v", s, th, again)
		}
		if math.IsNaN(th.Limit) || math.IsInf(th.Limit, 0) {
			t.Fatalf("Parse(%q) limit %g", s, th.Limit)
		}
	})
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
