package fault

import (
	"strings"
	"testing"
	"time"
)

func rate(f float64) *float64 { return &f }

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // as String writes it
		spec Spec
	}{
		// every call to l2 2ms later
		{"l2:latency=2ms", "l2:latency=2ms", Spec{Target: "l2", Latency: &Latency{P: 1, Min: 2 * time.Millisecond, Max: 2 * time.Millisecond}}},
		// every call to l3 later by a uniform draw from 1ms to 5ms
		{"l3:latency=uniform:1ms-5ms", "l3:latency=uniform:1ms-5ms", Spec{Target: "l3", Latency: &Latency{P: 1, Min: time.Millisecond, Max: 5 * time.Millisecond}}},
		// one call to l1 in a hundred 50ms later
		{"l1:latency=p=0.01:50ms", "l1:latency=p=0.01:50ms", Spec{Target: "l1", Latency: &Latency{P: 0.01, Min: 50 * time.Millisecond, Max: 50 * time.Millisecond}}},
		// a share of calls, each later by a uniform draw
		{"l2:latency=p=0.5:uniform:0s-1ms", "l2:latency=p=0.5:uniform:0s-1ms", Spec{Target: "l2", Latency: &Latency{P: 0.5, Max: time.Millisecond}}},
		// p=1 is every call: written without it
		{"l2:latency=p=1:2ms", "l2:latency=2ms", Spec{Target: "l2", Latency: &Latency{P: 1, Min: 2 * time.Millisecond, Max: 2 * time.Millisecond}}},
		// one Redis call of the limiter's in a hundred fails
		{"limiter:error=0.01", "limiter:error=0.01", Spec{Target: "limiter", Error: rate(0.01)}},
		// an error rate of 0 fails nothing, and is said
		// l2 does not answer from 5s into the measured phase, for 2s
		{"l2:stall=2s@5s", "l2:stall=2s@5s", Spec{Target: "l2", Stalls: []Stall{{For: 2 * time.Second, At: 5 * time.Second}}}},
		// a stall from the start
		{"l3:stall=100ms@0s", "l3:stall=100ms@0s", Spec{Target: "l3", Stalls: []Stall{{For: 100 * time.Millisecond}}}},
		// kinds together, spaces around the parts, in any order; written in Kinds' order
		{" l2: error=0.5 , stall=1s@2s,latency=3ms ", "l2:latency=3ms,error=0.5,stall=1s@2s", Spec{Target: "l2",
			Latency: &Latency{P: 1, Min: 3 * time.Millisecond, Max: 3 * time.Millisecond}, Error: rate(0.5), Stalls: []Stall{{For: time.Second, At: 2 * time.Second}}}},
		// stalls as often as wanted, kept in the order given
		{"l2:stall=1s@5s,stall=1s@1s", "l2:stall=1s@5s,stall=1s@1s", Spec{Target: "l2", Stalls: []Stall{{For: time.Second, At: 5 * time.Second}, {For: time.Second, At: time.Second}}}},
	} {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q) = %v; want %s", tt.in, err, tt.want)
			continue
		}
		if got.String() != tt.want || got.String() != tt.spec.String() {
			t.Errorf("Parse(%q) = %s; want %s", tt.in, got, tt.want)
		}
		if l, w := got.Latency, tt.spec.Latency; (l == nil) != (w == nil) || (l != nil && *l != *w) {
			t.Errorf("Parse(%q).Latency = %+v; want %+v", tt.in, l, w)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		// no target
		{"latency=2ms", `inject "latency=2ms": want TARGET:KIND=VALUE[,KIND=VALUE], as in l2:latency=2ms`},
		{"l4:latency=2ms", `unknown target "l4" (targets: l1, l2, l3, limiter)`},
		{"l2:", `"": want KIND=VALUE, KIND one of latency, error, stall`},
		{"l2:latency", `"latency": want KIND=VALUE`},
		{"l2:latency=2ms,", `"": want KIND=VALUE`},
		{"l2:delay=2ms", `unknown kind "delay" (kinds: latency, error, stall)`},
		{"l2:latency=2ms,latency=3ms", "latency given twice"},
		{"l2:error=0.1,error=0.2", "error given twice"},
		// a latency needs a unit, and must be above 0
		{"l2:latency=2", `latency "2": want a delay above 0 (2ms), uniform:MIN-MAX, or p=SHARE:DELAY`},
		{"l2:latency=0s", `latency "0s": want a delay above 0`},
		{"l2:latency=-1ms", `latency "-1ms": want a delay above 0`},
		{"l2:latency=25h", `latency "25h": want a delay above 0`},
		{"l2:latency=uniform:5ms-1ms", `want uniform:MIN-MAX, two durations with MIN below MAX`},
		{"l2:latency=uniform:1ms", `want uniform:MIN-MAX`},
		{"l2:latency=p=0:1ms", `want p=SHARE:DELAY, SHARE the share of calls delayed, above 0 and at most 1`},
		{"l2:latency=p=1.5:1ms", `want p=SHARE:DELAY`},
		{"l2:latency=p=NaN:1ms", `want p=SHARE:DELAY`},
		{"l2:latency=p=0.1", `want p=SHARE:DELAY`},
		{"l2:error=1.5", `error "1.5": want the share of calls that fail, more than 0, at most 1, as in error=0.01`},
		{"l2:error=0", `error "0": want the share of calls that fail, more than 0, at most 1, as in error=0.01 (0 injects nothing)`},
		{"l2:error=1e-400", `error "1e-400": want the share of calls that fail, more than 0`},
		{"l2:error=-0.1", `error "-0.1": want the share`},
		{"l2:error=NaN", `error "NaN": want the share`},
		{"l2:error=1%", `error "1%": want the share`},
		{"l2:stall=2s", `stall "2s": want FOR@AT, a stall of FOR (above 0) starting AT into the measured phase, as in 2s@5s`},
		{"l2:stall=0s@1s", `stall "0s@1s": want FOR@AT`},
		{"l2:stall=1s@-1s", `stall "1s@-1s": want FOR@AT`},
	} {
		_, err := Parse(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v; want an error with %q", tt.in, err, tt.want)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "inject ") {
			t.Errorf("Parse(%q) error %q: want one line, naming the value", tt.in, msg)
		}
	}
}

func TestJoin(t *testing.T) {
	parse := func(ss ...string) []Spec {
		var out []Spec
		for _, s := range ss {
			sp, err := Parse(s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, sp)
		}
		return out
	}
	for _, tt := range []struct {
		in   []string
		want string // joined, written, ";" between targets
	}{
		// one target's specs add up; targets in the order l1, l2, l3, limiter
		{[]string{"limiter:error=1", "l2:latency=2ms", "l2:error=0.01", "l1:latency=1us"}, "l1:latency=1µs;l2:latency=2ms,error=0.01;limiter:error=1"},
		// stalls from several specs, in the order of their start
		{[]string{"l2:stall=1s@5s", "l2:stall=2s@1s,latency=1ms"}, "l2:latency=1ms,stall=2s@1s,stall=1s@5s"},
		{nil, ""},
	} {
		got, err := Join(parse(tt.in...))
		if err != nil {
			t.Errorf("Join(%q) = %v", tt.in, err)
			continue
		}
		if s := strings.Join(Strings(got), ";"); s != tt.want {
			t.Errorf("Join(%q) = %s; want %s", tt.in, s, tt.want)
		}
	}
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{[]string{"l2:latency=2ms", "l2:latency=3ms"}, "inject: l2: latency given twice (latency=2ms and latency=3ms)"},
		{[]string{"limiter:error=0.1", "limiter:error=0.2,latency=1ms"}, "inject: limiter: error given twice (error=0.1 and error=0.2)"},
	} {
		if _, err := Join(parse(tt.in...)); err == nil || err.Error() != tt.want {
			t.Errorf("Join(%q) = %v; want %q", tt.in, err, tt.want)
		}
	}
	joined := parse("l2:latency=2ms", "l3:error=0.5")
	if sp := For(joined, "l3"); sp == nil || sp.String() != "l3:error=0.5" {
		t.Errorf(`For(joined, "l3") = %v; want l3:error=0.5`, sp)
	}
	if sp := For(joined, "limiter"); sp != nil {
		t.Errorf(`For(joined, "limiter") = %v; want nil`, sp)
	}
}

// FuzzParse: Parse never panics, and what it reads, written, reads back
// the same (String is stable).
func FuzzParse(f *testing.F) {
	for _, s := range []string{"l2:latency=2ms", "l3:latency=uniform:1ms-5ms", "l1:latency=p=0.01:50ms", "limiter:error=0.01",
		"l2:stall=2s@5s", "l2:latency=p=0.5:uniform:0s-1ms,error=1,stall=1s@0s,stall=2s@1h", "l2:", ":", "l2:latency=p=:", "l2:error=1e-300"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := Parse(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n") {
				t.Errorf("Parse(%q) error spans lines: %q", s, err)
			}
			return
		}
		again, err := Parse(sp.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %s, which does not read back: %v", s, sp, err)
		}
		if again.String() != sp.String() {
			t.Fatalf("Parse(%q) = %s, read back as %s", s, sp, again)
		}
		if l := sp.Latency; l != nil && (l.Min < 0 || l.Max < l.Min || l.Max > MaxDuration || !(l.P > 0 && l.P <= 1)) {
			t.Fatalf("Parse(%q) latency %+v out of range", s, *l)
		}
		if _, err := Join([]Spec{sp}); err != nil {
			t.Fatalf("Join of one spec %s: %v", sp, err)
		}
	})
}
