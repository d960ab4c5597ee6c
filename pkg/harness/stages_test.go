package harness

import (
	"context"
	"testing"
	"time"
)

func TestStagesDue(t *testing.T) {
	s := time.Second
	ramp := Stages{{10 * s, 1000}} // 0 -> 1000/s over 10s: 5000 ops, N(t) = 50 t^2
	steady := Stages{{1 * s, 100}, {2 * s, 100}}
	tests := []struct {
		ss   Stages
		j    int64
		want time.Duration
		ok   bool
	}{
		{ramp, 0, 0, true},                                  // the first at the start
		{ramp, 50, 1 * s, true},                             // N(1s) = 50
		{ramp, 1250, 5 * s, true},                           // N(5s) = 1250: a quarter of the ops in half the time
		{ramp, 4999, 9998999, true},                         // just before the end (checked loosely below)
		{ramp, 5000, 0, false},                              // past the end
		{steady, 50, 1 * s, true},                           // 0 -> 100/s over 1s: 50 ops
		{steady, 150, 2 * s, true},                          // then 100/s: 100 more by 2s
		{steady, 250, 0, false},                             // 250 ops in all
		{Stages{{s, 10}, {s, 0}, {s, 10}}, 10, 2 * s, true}, // 5 up, 5 down: the 10th at 2s
		{Stages{{s, 10}, {s, 0}, {s, 10}}, 12, 2*s + 632455532*time.Nanosecond, true}, // then 5t^2 = 2: t = 0.632s
	}
	for _, tt := range tests {
		got, ok := tt.ss.Due(tt.j)
		if tt.j == 4999 {
			if !ok || got < 9990*time.Millisecond || got > 10*time.Second {
				t.Errorf("ramp Due(4999) = %s, %t; want just under 10s", got, ok)
			}
			continue
		}
		if ok != tt.ok || (ok && (got-tt.want > time.Microsecond || tt.want-got > time.Microsecond)) {
			t.Errorf("%v.Due(%d) = %s, %t; want %s, %t", tt.ss, tt.j, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseStages(t *testing.T) {
	ss, err := ParseStages("10s:1000, 30s:5000,10s:0")
	if err != nil || ss.String() != "10s:1000,30s:5000,10s:0" || ss.Total() != 50*time.Second || ss.Count() != 5000+90000+25000 {
		t.Errorf("ParseStages = %v, %v (total %s, count %g)", ss, err, ss.Total(), ss.Count())
	}
	for _, bad := range []string{"", "10s", "x:1", "10s:-1", "0s:5", "10s:NaN", "10s:0", "1s:1e10"} {
		if _, err := ParseStages(bad); err == nil {
			t.Errorf("ParseStages(%q) accepted", bad)
		}
	}
}

// FuzzParseStages: never panics; what parses schedules due times that
// never go backwards.
func FuzzParseStages(f *testing.F) {
	f.Add("10s:1000,30s:5000,10s:0")
	f.Add("1ms:1,1h:0.5")
	f.Fuzz(func(t *testing.T, s string) {
		ss, err := ParseStages(s)
		if err != nil {
			return
		}
		var prev time.Duration
		for j := int64(0); j < 50; j++ {
			d, ok := ss.Due(j)
			if !ok {
				break
			}
			if d < prev || d > ss.Total() {
				t.Fatalf("%q: Due(%d) = %s after %s (total %s)", s, j, d, prev, ss.Total())
			}
			prev = d
		}
	})
}

func TestRunStages(t *testing.T) {
	// 0 -> 2000/s over 200ms: 200 operations, average 1000/s.
	res, err := Run(context.Background(), Config{Workers: 2, Stages: Stages{{200 * time.Millisecond, 2000}}}, func(int) Op {
		return func(int) (Kind, error) { return 0, nil }
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ops != 200 || res.Rate != 1000 || res.Uncorrected.Count() != 200 || res.Scheduled != 200 {
		t.Errorf("ops %d, rate %g, uncorrected %d, scheduled %d; want 200, 1000, 200, 200", res.Ops, res.Rate, res.Uncorrected.Count(), res.Scheduled)
	}
	if _, err := Run(context.Background(), Config{Workers: 1, Rate: 5, Stages: Stages{{time.Second, 5}}}, nil); err == nil {
		t.Error("rate and stages together accepted")
	}
}

func TestStagesRateAt(t *testing.T) {
	ss := Stages{{Duration: 10 * time.Second, Target: 1000}, {Duration: 10 * time.Second, Target: 1000}, {Duration: 10 * time.Second, Target: 0}}
	for _, tt := range []struct {
		at   time.Duration
		want float64
	}{
		{0, 0},                   // the ramp starts from 0
		{5 * time.Second, 500},   // half way up the first stage
		{15 * time.Second, 1000}, // the plateau
		{25 * time.Second, 500},  // half way down
		{40 * time.Second, 0},    // past the end: the last target
	} {
		if got := ss.RateAt(tt.at); got != tt.want {
			t.Errorf("RateAt(%s) = %g; want %g", tt.at, got, tt.want)
		}
	}
}
