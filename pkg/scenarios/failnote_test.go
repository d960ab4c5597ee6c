package scenarios

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rustci/rustci-perf/pkg/cache"
	"github.com/rustci/rustci-perf/pkg/config"
)

func TestFailedNote(t *testing.T) {
	l1 := cache.TierStats{Name: "l1"}
	l2 := cache.TierStats{Name: "l2", Errors: 5, Skipped: 10899995}
	l3 := cache.TierStats{Name: "l3"}
	l3failing := cache.TierStats{Name: "l3", Errors: 2}
	for _, tt := range []struct {
		tiers []cache.TierStats
		i     int
		want  string
	}{
		// L2 alone (cache-l2), Redis stopped: nothing else to serve
		{[]cache.TierStats{l2}, 0,
			"l2 failed 5 calls and skipped 10899995 while its breaker was open; it is the only tier, so nothing served those operations: they failed (counted in errors)"},
		// the full stack, L2 down: L1 and L3 served
		{[]cache.TierStats{l1, l2, l3}, 1,
			"l2 failed 5 calls and skipped 10899995 while its breaker was open; the other tiers (l1, l3) served those operations"},
		// L3 failing too: where both failed, the operation failed
		{[]cache.TierStats{l1, l2, l3failing}, 1,
			"l2 failed 5 calls and skipped 10899995 while its breaker was open; the other tiers (l1, l3) served those operations, but l3 failed calls too: an operation failed (counted in errors) where every tier did"},
		// a tier with no breaker, or a closed one: nothing skipped
		{[]cache.TierStats{l3failing}, 0,
			"l3 failed 2 calls; it is the only tier, so nothing served those operations: they failed (counted in errors)"},
	} {
		if got := failedNote(tt.tiers, tt.i); got != tt.want {
			t.Errorf("failedNote(%v, %d) =\n%s\nwant\n%s", tt.tiers, tt.i, got, tt.want)
		}
	}
}

// TestFailedTierNoteTellsWhatHappened reads through a tier whose every Get
// fails: alone, every read fails and the note says nothing served them;
// above L3, no read fails and the note says L3 served them.
func TestFailedTierNoteTellsWhatHappened(t *testing.T) {
	s := defaultSettings(t, "cache-read", false, 200)
	s.Concurrency, s.Warmup = 2, config.Warmup{Ops: 10}
	read := func(tiers ...cache.Tier) *Outcome {
		t.Helper()
		r := rigOf(t, s, tiers...)
		defer r.close()
		out, err := r.readAll(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	fail := errors.New("down")

	// Alone: an L1 whose every Get fails, as an L2 on a stopped Redis.
	l1, err := cache.NewL1(cache.DefaultL1Config)
	if err != nil {
		t.Fatal(err)
	}
	out := read(&faultyTier{Tier: l1, getErr: fail})
	notes := strings.Join(out.Notes, "\n")
	st := out.Tiers[0]
	if out.Errors == 0 || out.Errors != int64(st.Errors+st.Skipped) {
		t.Errorf("read errors %d, tier failures %d + skipped %d; want every failure a failed read", out.Errors, st.Errors, st.Skipped)
	}
	if !strings.Contains(notes, "it is the only tier, so nothing served those operations: they failed") || strings.Contains(notes, "other tiers") {
		t.Errorf("notes %q; want them to say nothing served the failed reads", out.Notes)
	}

	// Above L3: L3 serves what the failing tier does not.
	l1, err = cache.NewL1(cache.DefaultL1Config)
	if err != nil {
		t.Fatal(err)
	}
	out = read(&faultyTier{Tier: l1, getErr: fail}, newL3(t))
	notes = strings.Join(out.Notes, "\n")
	if out.Errors != 0 || out.Tiers[0].Errors+out.Tiers[0].Skipped == 0 {
		t.Errorf("read errors %d, tier failures %+v; want failures, and no read failed", out.Errors, out.Tiers[0])
	}
	if !strings.Contains(notes, "the other tiers (l3) served those operations") {
		t.Errorf("notes %q; want them to say l3 served the reads", out.Notes)
	}
}
