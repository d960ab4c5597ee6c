package metric

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func same(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

func TestRatio(t *testing.T) {
	tests := []struct {
		a, b int64
		want float64
	}{
		{1, 4, 0.25}, // a share
		{0, 4, 0},    // none of something: 0, computed
		{-248, 1, -248},
		{3, 0, NA},    // a share of nothing: n/a, not 0
		{-248, 0, NA}, // memory with no item stored
		{5, -2, NA},   // a count that went down has no meaning
	}
	for _, tt := range tests {
		if got := Ratio(tt.a, tt.b); !same(got, tt.want) {
			t.Errorf("Ratio(%d, %d) = %g; want %g", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestDerive(t *testing.T) {
	tests := []struct {
		d        Def
		counters map[string]int64
		want     float64
		why      string
	}{
		// 3 hits of 4 reads
		{HitRate, map[string]int64{"hits": 3, "misses": 1}, 0.75, ""},
		// every read errored: no hit, no miss, no rate
		{HitRate, map[string]int64{"hits": 0, "misses": 0}, NA, "hit_rate is n/a: hits + misses is 0"},
		// l1 answered 2 of 4 reads
		{L1HitRate, map[string]int64{"hits": 3, "misses": 1, "l1_hits": 2}, 0.5, ""},
		// no L1 in the stack
		{L1HitRate, map[string]int64{"hits": 3, "misses": 1}, NA, "l1_hit_rate is n/a: there is no l1_hits counter"},
		// the warmup stored every key: the measured phase added none
		{HeapBytesPerItem, map[string]int64{"heap_bytes": -248, "items_stored": 0}, NA, "heap_bytes_per_item is n/a: items_stored is 0"},
		// evictions outnumbered additions
		{HeapBytesPerItem, map[string]int64{"heap_bytes": 100, "items_stored": -3}, NA, "items_stored is -3"},
		{FallbackRate, map[string]int64{"fallback": 5, "allowed": 8, "denied": 2}, 0.5, ""},
		// counters that disagree give no share outside [0, 1]: more L1
		// hits than reads, fewer fallbacks than none
		{L1HitRate, map[string]int64{"hits": 3, "misses": 1, "l1_hits": 5}, NA, "l1_hits is 5, outside hits + misses (4)"},
		{FallbackRate, map[string]int64{"fallback": -1, "allowed": 8, "denied": 2}, NA, "fallback is -1, outside allowed + denied (10)"},
		// per operation run: failed ones too
		{AllocsPerOp, Counts(map[string]int64{"allocs": 300}, 90, 10), 3, ""},
		{CPUPerOp, Counts(map[string]int64{"cpu_user": 800, "cpu_system": 200}, 100, 0), 10, ""},
		// no operation ran: nothing per operation
		{AllocBytesPerOp, Counts(map[string]int64{"alloc_bytes": 64}, 0, 0), NA, "alloc_bytes_per_op is n/a: ops + errors is 0"},
		// no CPU time measured (not Linux or macOS)
		{CPUPerOp, Counts(map[string]int64{}, 100, 0), NA, "there is no cpu_user counter"},
		// the operations are the measured ones, never a counter's
		{AllocsPerOp, map[string]int64{"allocs": 300}, NA, "there is no ops counter"},
		// admission_error is not derived from counters
		{AdmissionError, map[string]int64{}, NA, "not derived from counters"},
	}
	for _, tt := range tests {
		got, why := tt.d.Derive(tt.counters)
		if !same(got, tt.want) || !strings.Contains(why, tt.why) || (tt.why == "") != (why == "") {
			t.Errorf("%s.Derive(%v) = (%g, %q); want (%g, %q)", tt.d.Name, tt.counters, got, why, tt.want, tt.why)
		}
	}
}

// TestCounts: Counts puts the operations beside the counters, in a copy.
func TestCounts(t *testing.T) {
	counters := map[string]int64{"allocs": 3}
	c := Counts(counters, 5, 1)
	if c["ops"] != 5 || c["errors"] != 1 || c["allocs"] != 3 {
		t.Errorf("Counts = %v; want allocs 3, ops 5, errors 1", c)
	}
	if _, ok := counters["ops"]; ok {
		t.Errorf("Counts changed the counters it was given: %v", counters)
	}
	if c := Counts(nil, 2, 0); c["ops"] != 2 {
		t.Errorf("Counts(nil, 2, 0) = %v; want ops 2", c)
	}
}

func TestSigned(t *testing.T) {
	for counter, want := range map[string]bool{
		"heap_bytes": true, "items_stored": true, // growth over the measured phase
		"hits": false, "misses": false, "fallback": false, "l1_errors": false, // counts
	} {
		if got := Signed(counter); got != want {
			t.Errorf("Signed(%q) = %t; want %t", counter, got, want)
		}
	}
}

func TestCatalogue(t *testing.T) {
	for _, d := range All() {
		if got, ok := Lookup(d.Name); !ok || got.Name != d.Name {
			t.Errorf("Lookup(%q) = %v, %t", d.Name, got, ok)
		}
		if d.Better != Higher && d.Better != Lower && d.Better != "" && (d.Better != Zero || !d.Signed) {
			t.Errorf("%s: better %q", d.Name, d.Better)
		}
		if d.Derivable() && len(d.Num) == 0 {
			t.Errorf("%s: a denominator without a numerator", d.Name)
		}
	}
	if d, ok := Lookup("p99"); !ok || d.Source == Derived || d.Derivable() {
		t.Errorf("Lookup(p99) = %+v, %t; want a measured figure, not a derived one", d, ok)
	}
}

func TestValuesJSON(t *testing.T) {
	v := Values{"hit_rate": 0.5, "heap_bytes_per_item": NA, "inf": math.Inf(1), "neg": math.Inf(-1), "big": 1e21, "zero": 0}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"big":1e+21,"heap_bytes_per_item":null,"hit_rate":0.5,"inf":null,"neg":null,"zero":0}`
	if string(b) != want {
		t.Errorf("json.Marshal = %s; want %s", b, want)
	}
	var back Values
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for k, w := range map[string]float64{"big": 1e21, "heap_bytes_per_item": NA, "hit_rate": 0.5, "inf": NA, "neg": NA, "zero": 0} {
		if got, ok := back[k]; !ok || !same(got, w) {
			t.Errorf("read back %s = %g (present %t); want %g", k, got, ok, w)
		}
	}
	if b, _ := json.Marshal(Values(nil)); string(b) != "null" {
		t.Errorf("nil Values = %s; want null, as for a nil map", b)
	}
	for _, bad := range []string{`[1]`, `{"a":"x"}`, `{"a":1`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("Unmarshal(%s): no error", bad)
		}
	}
}

func TestAchievedRateRatio(t *testing.T) {
	tests := []struct {
		ops             int64
		scheduled, took time.Duration
		target          float64
		want            float64
		why             string
	}{
		// 1000 ops scheduled over 1s at 1000/s, done in 999.5ms: on target
		{1000, time.Second, 999500 * time.Microsecond, 1000, 1, ""},
		// the workers fell behind: the same ops took 2s
		{1000, time.Second, 2 * time.Second, 1000, 0.5, ""},
		// --rate 0.1 --duration 2s: one operation of 8µs is no rate
		{1, 2 * time.Second, 8 * time.Microsecond, 0.1, NA, "1 operation ran, fewer than the 100"},
		// 100 ops at 1e9/s over 100ns: fewer than 10 intervals? no, 100
		{100, 100 * time.Nanosecond, 90 * time.Nanosecond, 1e9, 1, ""},
		// enough ops, but the window is under 10 intervals of the target
		{200, 0, 5 * time.Second, 1, NA, "shorter than 10 intervals"},
		// scheduled unknown: took alone
		{500, 0, time.Second, 1000, 0.5, ""},
		{500, 0, time.Second, 0, NA, "no target rate"},
		{500, 0, 0, 1000, NA, "shorter than 10 intervals"},
	}
	for _, tt := range tests {
		got, why := AchievedRateRatio(tt.ops, tt.scheduled, tt.took, tt.target)
		if !same(got, tt.want) || !strings.Contains(why, tt.why) || (tt.why == "") != (why == "") {
			t.Errorf("AchievedRateRatio(%d, %s, %s, %g) = (%g, %q); want (%g, %q)", tt.ops, tt.scheduled, tt.took, tt.target, got, why, tt.want, tt.why)
		}
	}
}

func TestMergeRateRatios(t *testing.T) {
	tests := []struct {
		parts []RatePart
		want  float64
	}{
		// 1000/s achieved in full and 500 of 1000/s: 1500 of 2000
		{[]RatePart{{1000, 1}, {1000, 0.5}}, 0.75},
		// weighted by target: 100 of 100 and 450 of 900
		{[]RatePart{{100, 1}, {900, 0.5}}, 0.55},
		// one source too short to tell
		{[]RatePart{{1000, 1}, {1000, NA}}, NA},
		{nil, NA},
	}
	for _, tt := range tests {
		if got, _ := MergeRateRatios(tt.parts); !same(got, tt.want) {
			t.Errorf("MergeRateRatios(%v) = %g; want %g", tt.parts, got, tt.want)
		}
	}
}

// FuzzValuesJSON: reading never panics, and what was read writes and reads
// back to the same values.
func FuzzValuesJSON(f *testing.F) {
	f.Add([]byte(`{"hit_rate":0.5,"heap_bytes_per_item":null}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"a":1e308,"b":-0,"c":5e-324}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v Values
		if err := json.Unmarshal(data, &v); err != nil {
			return
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("Marshal(%v): %v", v, err)
		}
		var back Values
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		if len(back) != len(v) {
			t.Fatalf("round trip: %v, then %v", v, back)
		}
		for k, x := range v {
			if y, ok := back[k]; !ok || !same(x, y) {
				t.Fatalf("round trip of %s: %g, then %g", k, x, y)
			}
		}
	})
}
