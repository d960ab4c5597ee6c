package scenarios

import (
	"context"
	"errors"
	"testing"

	"github.com/rustci/rustci-perf/internal/reportcheck"
	"github.com/rustci/rustci-perf/pkg/harness"
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
	reportcheck.NotComputable(t, out.Metrics, out.Notes, []string{"hit_rate", "l1_hit_rate"}, "hit_rate is n/a: hits + misses is 0")
}
