package scenarios

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/metric"
)

// TestEveryReadFailedHitRateIsNA: when every measured read fails, there is
// no hit and no miss, so the hit rates are n/a, with a note, not 0.
func TestEveryReadFailedHitRateIsNA(t *testing.T) {
	s := small(t, "cache-read", 50)
	r, err := newRig(s)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	out, err := r.measure(context.Background(), s, nil, func(context.Context, int, *tally) harness.Op {
		return func(int) (harness.Kind, error) { return 0, errors.New("tier down") }
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Ops != 0 || out.Errors != 50 {
		t.Fatalf("ops %d, errors %d; want 0, 50", out.Ops, out.Errors)
	}
	for _, k := range []string{"hit_rate", "l1_hit_rate"} {
		if v, ok := out.Metrics[k]; !ok || metric.Valid(v) {
			t.Errorf("%s = %g (present %t); want n/a", k, v, ok)
		}
	}
	if notes := strings.Join(out.Notes, "\n"); !strings.Contains(notes, "hit_rate is n/a: hits + misses is 0") {
		t.Errorf("no note says why hit_rate is n/a:\n%s", notes)
	}
}

// TestRatioOverNothing: the scenarios' ratio is n/a over a zero or negative
// count, never 0.
func TestRatioOverNothing(t *testing.T) {
	for _, tt := range []struct{ a, b int64 }{{-248, 0}, {0, 0}, {10, -1}} {
		if v := ratio(tt.a, tt.b); metric.Valid(v) {
			t.Errorf("ratio(%d, %d) = %g; want n/a", tt.a, tt.b, v)
		}
	}
	if v := ratio(1, 4); v != 0.25 {
		t.Errorf("ratio(1, 4) = %g; want 0.25", v)
	}
}
