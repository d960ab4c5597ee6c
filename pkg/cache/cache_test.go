package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/wait"
)

func newL1(t *testing.T) *L1 {
	t.Helper()
	l1, err := NewL1(DefaultL1Config)
	if err != nil {
		t.Fatal(err)
	}
	return l1
}

func TestL1ReadAfterWrite(t *testing.T) {
	m, err := New(Options{}, newL1(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	want := map[string][]byte{}
	for i := 0; i < 1000; i++ {
		k := fmt.Sprint("key", i)
		want[k] = []byte(fmt.Sprint("value of ", k))
		if err := m.Set(ctx, k, want[k], 0); err != nil {
			t.Fatal(err)
		}
	}
	m.Wait()
	for k, v := range want {
		got, ok, err := m.Get(ctx, k)
		if err != nil || !ok || !bytes.Equal(got, v) {
			t.Fatalf("Get(%q) = %q, %t, %v; want %q, true, nil", k, got, ok, err, v)
		}
	}
	if err := m.Delete(ctx, "key7"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := m.Get(ctx, "key7"); ok {
		t.Error("Get after Delete: found; want a miss")
	}
	s := m.Stats()[0]
	if s.Name != "l1" || s.Hits != 1000 || s.Misses != 1 || s.Sets != 1000 || s.Added != 1000 || s.SetsDropped != 0 {
		t.Errorf("stats = %+v; want l1 with 1000 hits, 1 miss, 1000 sets and keys added, none dropped", s)
	}
	// An overwrite is a set, not an added key.
	m.Set(ctx, "key1", []byte("new"), 0)
	m.Wait()
	if s := m.Stats()[0]; s.Sets != 1001 || s.Added != 1000 {
		t.Errorf("after an overwrite: sets %d, added %d; want 1001, 1000", s.Sets, s.Added)
	}
}

func TestL1TTL(t *testing.T) {
	l1 := newL1(t)
	defer l1.Close()
	ctx := context.Background()
	if err := l1.Set(ctx, "k", []byte("v"), 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	l1.Wait()
	if _, ok, _ := l1.Get(ctx, "k"); !ok {
		t.Fatal("fresh item missing")
	}
	// ristretto stops serving an item once its expiry passes; wait for
	// that condition, with a deadline, rather than for a fixed time.
	reads := 1
	wait.Until(t, 5*time.Second, "an item with a 50ms TTL to expire", func() bool {
		reads++
		_, ok, _ := l1.Get(ctx, "k")
		return !ok
	})
	if err := l1.Set(ctx, "k", []byte("v"), -time.Second); err == nil {
		t.Error("negative TTL: want an error")
	}
	// The expired read is a miss, in Stats too, and the entry is gone.
	l1.Wait()
	if s := l1.Stats(); s.Misses != 1 || s.Hits+s.Misses != uint64(reads) {
		t.Errorf("stats %+v after %d reads, the last expired; want it a miss, the others hits", s, reads)
	}
	if _, ok := l1.c.Get("k"); ok {
		t.Error("an expired entry read is still in ristretto")
	}
}

// TestL1TTLNeverEarly: an entry is served until its TTL has passed (L1's
// coarse clock may serve it a little late, never early), and entries with
// a long TTL or none are served.
func TestL1TTLNeverEarly(t *testing.T) {
	l1 := newL1(t)
	defer l1.Close()
	ctx := context.Background()
	l1.Set(ctx, "hour", []byte("v"), time.Hour)
	l1.Set(ctx, "none", []byte("v"), 0)
	const ttl = 20 * ClockTick
	set := time.Now()
	l1.Set(ctx, "short", []byte("v"), ttl)
	l1.Wait()
	wait.Until(t, 5*time.Second, "an entry with a short TTL to expire", func() bool {
		_, ok, _ := l1.Get(ctx, "short")
		return !ok
	})
	if d := time.Since(set); d < ttl {
		t.Errorf("an entry with a TTL of %s expired %s after it was set", ttl, d)
	}
	for _, k := range []string{"hour", "none"} {
		if _, ok, _ := l1.Get(ctx, k); !ok {
			t.Errorf("%s: not served", k)
		}
	}
}

func TestNewL1Validates(t *testing.T) {
	for _, c := range []L1Config{{MaxCostBytes: 0, NumCounters: 1}, {MaxCostBytes: 1, NumCounters: 0}} {
		if _, err := NewL1(c); err == nil {
			t.Errorf("NewL1(%+v) = nil error", c)
		}
	}
	if _, err := New(Options{}); !errors.Is(err, ErrNoTiers) {
		t.Errorf("New() error = %v; want ErrNoTiers", err)
	}
}

// mapTier is a plain tier for testing the Manager's logic: a map with TTLs
// it reports back, and a switch that makes every call fail.
type mapTier struct {
	name  string
	mu    sync.Mutex
	m     map[string]Item
	fail  bool
	calls atomic.Int64
}

var _ Tier = (*mapTier)(nil)

var errDown = errors.New("tier down")

func newMapTier(name string) *mapTier { return &mapTier{name: name, m: map[string]Item{}} }

func (t *mapTier) Name() string { return t.name }
func (t *mapTier) Get(_ context.Context, k string) (Item, bool, error) {
	t.calls.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fail {
		return Item{}, false, errDown
	}
	it, ok := t.m[k]
	return it, ok, nil
}
func (t *mapTier) Set(_ context.Context, k string, v []byte, ttl time.Duration) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fail {
		return errDown
	}
	t.m[k] = Item{Value: v, TTL: ttl}
	return nil
}
func (t *mapTier) Delete(_ context.Context, k string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fail {
		return errDown
	}
	delete(t.m, k)
	return nil
}
func (t *mapTier) Stats() TierStats { return TierStats{Name: t.name} }
func (t *mapTier) Close() error     { return nil }

func TestPromotionCarriesTTL(t *testing.T) {
	top, mid, low := newMapTier("a"), newMapTier("b"), newMapTier("c")
	m, _ := New(Options{}, top, mid, low)
	ctx := context.Background()
	low.m["k"] = Item{Value: []byte("v"), TTL: 42 * time.Second}
	got, ok, err := m.Get(ctx, "k")
	if err != nil || !ok || string(got) != "v" {
		t.Fatalf("Get = %q, %t, %v; want v from the lowest tier", got, ok, err)
	}
	for _, tier := range []*mapTier{top, mid} {
		if it := tier.m["k"]; string(it.Value) != "v" || it.TTL != 42*time.Second {
			t.Errorf("tier %s holds %+v after promotion; want v with 42s left", tier.name, it)
		}
	}
	st := m.Stats()
	if st[0].Promotions != 1 || st[1].Promotions != 1 || st[2].Promotions != 0 {
		t.Errorf("promotions = %d, %d, %d; want 1, 1, 0", st[0].Promotions, st[1].Promotions, st[2].Promotions)
	}
}

func TestFailingTierIsSkippedAndCounted(t *testing.T) {
	top, low := newMapTier("a"), newMapTier("b")
	m, _ := New(Options{}, top, low)
	ctx := context.Background()
	top.fail = true
	if err := m.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatalf("Set with one tier down: %v; want success from the other", err)
	}
	got, ok, err := m.Get(ctx, "k")
	if err != nil || !ok || string(got) != "v" {
		t.Fatalf("Get with the top tier down = %q, %t, %v; want v from below", got, ok, err)
	}
	if e := m.Stats()[0].Errors; e != 3 { // set, get, failed promotion
		t.Errorf("top tier errors = %d; want 3", e)
	}
	low.fail = true
	if _, _, err := m.Get(ctx, "k"); !errors.Is(err, errDown) {
		t.Errorf("Get with every tier down: error %v; want errDown", err)
	}
	if err := m.Set(ctx, "k", []byte("v"), 0); !errors.Is(err, errDown) {
		t.Errorf("Set with every tier down: error %v; want errDown", err)
	}
	low.fail = false
	if err := m.Delete(ctx, "k"); err == nil || !strings.Contains(err.Error(), `a delete "k"`) {
		t.Errorf("Delete with a tier down: error %v; want it reported", err)
	}
}

// TestBreaker: consecutive failures open a tier's breaker, which then skips
// the tier (counted, degraded) without calling it; after the backoff one
// probe goes through, and when it succeeds the tier is used again.
func TestBreaker(t *testing.T) {
	ctx := context.Background()
	// trip returns a manager whose top tier failed three times in a row.
	trip := func(backoff time.Duration) (*Manager, *mapTier) {
		top, low := newMapTier("a"), newMapTier("b")
		m, _ := New(Options{BreakerFailures: 3, BreakerBackoff: backoff}, top, low)
		low.m["k"] = Item{Value: []byte("v")}
		top.fail = true
		for i := 0; i < 3; i++ {
			if _, ok, err := m.Get(ctx, "k"); !ok || err != nil {
				t.Fatalf("Get %d with the top tier down = %t, %v; want served from below", i, ok, err)
			}
		}
		return m, top
	}

	// A backoff longer than the test: the breaker stays open.
	m, top := trip(time.Hour)
	if st := m.Stats()[0]; !st.Degraded || st.Errors < 3 || st.BreakerOpens != 1 || st.BreakerCloses != 0 {
		t.Fatalf("after 3 failures: degraded %t, errors %d, breaker opened %d, closed %d; want open, >= 3, opened once, never closed",
			st.Degraded, st.Errors, st.BreakerOpens, st.BreakerCloses)
	}
	calls := top.calls.Load()
	for i := 0; i < 5; i++ {
		if _, ok, err := m.Get(ctx, "k"); !ok || err != nil {
			t.Fatalf("Get with the breaker open = %t, %v; want served from below", ok, err)
		}
	}
	if n := top.calls.Load() - calls; n != 0 || m.Stats()[0].Skipped < 5 {
		t.Errorf("open breaker: tier called %d more times, skipped %d; want 0 calls, the 5 reads (and their promotions) skipped", n, m.Stats()[0].Skipped)
	}

	// A short backoff: once the tier works again, a probe closes it.
	m, top = trip(20 * time.Millisecond)
	top.mu.Lock()
	top.fail = false
	top.mu.Unlock()
	wait.Until(t, 5*time.Second, "the breaker to close after the tier recovered (backoff 20ms)", func() bool {
		m.Get(ctx, "k")
		return !m.Stats()[0].Degraded
	})
	if _, ok := top.m["k"]; !ok {
		t.Error("recovered top tier did not get the promoted item")
	}
	if st := m.Stats()[0]; st.BreakerOpens != 1 || st.BreakerCloses != 1 {
		t.Errorf("recovered: breaker opened %d, closed %d; want once each", st.BreakerOpens, st.BreakerCloses)
	}
}

func TestL1HitDoesNotAllocate(t *testing.T) {
	m, _ := New(Options{}, newL1(t))
	defer m.Close()
	ctx := context.Background()
	m.Set(ctx, "k", []byte("v"), 0)
	m.Wait()
	if n := testing.AllocsPerRun(1000, func() { m.Get(ctx, "k") }); n != 0 {
		t.Errorf("an L1 hit through the Manager allocates %v times; want 0", n)
	}
}
