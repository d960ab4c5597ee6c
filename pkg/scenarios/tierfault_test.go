package scenarios

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/pkg/cache"
)

// brokenTier is a tier that failed for good: every Set fails, Stats says
// why, and Close cannot close it.
type brokenTier struct {
	cache.Tier
	fault error
}

func (b *brokenTier) Set(context.Context, string, []byte, time.Duration) error { return b.fault }
func (b *brokenTier) Stats() cache.TierStats {
	return cache.TierStats{Name: b.Tier.Name(), Fault: b.fault}
}
func (b *brokenTier) Close() error {
	b.Tier.Close()
	return errors.New("store abandoned: Pebble had not closed after 5s")
}

// TestTierFaultIsANote: cache-write over L1 and an L3 that failed for good
// runs on L1; the fault and the failed close are notes of a scenario that
// ran, not its error.
func TestTierFaultIsANote(t *testing.T) {
	s := defaultSettings(t, "cache-write", false, 200)
	l1, err := cache.NewL1(cache.L1Config{MaxCostBytes: s.Cache.L1.MaxCostBytes, NumCounters: s.Cache.L1.NumCounters})
	if err != nil {
		t.Fatal(err)
	}
	r := rigOf(t, s, l1, &brokenTier{Tier: newL3(t), fault: errors.New("disk write failed: no space left on device")})
	defer r.close()
	out, err := r.writeAll(context.Background(), s)
	if err != nil {
		t.Fatalf("cache-write with L3 failed: %v; want it run on L1", err)
	}
	notes := strings.Join(out.Notes, "\n")
	for _, want := range []string{
		"l3 failed and was out of use from then on, every call to it an error: disk write failed: no space left on device",
		"closing the cache: l3 close: store abandoned",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if failed := out.Counters["l3_errors"] + out.Counters["l3_skipped"]; out.Ops == 0 || failed == 0 {
		t.Errorf("ops %d, l3 errors and skipped %d; want L1's writes measured and L3's calls counted as failed", out.Ops, failed)
	}
}
