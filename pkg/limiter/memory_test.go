package limiter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/wait"
)

// fakeClock is a Clock that moves only when told.
type fakeClock struct{ now atomic.Int64 }

func (c *fakeClock) Now() time.Duration      { return time.Duration(c.now.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.now.Add(int64(d)) }

// keyCount is the number of keys whose state the named policy of m holds.
func keyCount(m *Memory, policy string) int {
	ps, ok := m.policies.get(policy)
	if !ok {
		return 0
	}
	n := 0
	ps.keys.m.Range(func(_, _ any) bool { n++; return true })
	return n
}

func newTest(t *testing.T, p Policy) (*Memory, *fakeClock) {
	t.Helper()
	clk := &fakeClock{}
	clk.Advance(time.Hour) // an origin far from zero, as in real use
	m, err := NewMemory(clk.Now, p)
	if err != nil {
		t.Fatal(err)
	}
	return m, clk
}

// admitted counts how many of n checks of key are allowed, at the current
// fake time.
func admitted(t *testing.T, m *Memory, policy, key string, n int) int {
	t.Helper()
	ok := 0
	for i := 0; i < n; i++ {
		r, err := m.Allow(context.Background(), policy, key)
		if err != nil {
			t.Fatal(err)
		}
		ok += r.Allowed
	}
	return ok
}

var tenPerSec = Policy{Name: "p", Rate: 10, Burst: 5, Period: time.Second}

func TestGCRAAdmissions(t *testing.T) {
	// Each step advances the fake clock, then makes checks; want is how
	// many of them GCRA admits.
	type step struct {
		advance time.Duration
		checks  int
		want    int
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"a full bucket admits the burst at once", []step{{0, 20, 5}}},
		{"then one per emission interval (100ms)", []step{{0, 5, 5}, {100 * time.Millisecond, 3, 1}, {99 * time.Millisecond, 1, 0}, {time.Millisecond, 1, 1}}},
		{"steady rate over a second", []step{{0, 5, 5}, {time.Second, 100, 5}}},
		{"after idle the bucket is full again, never more", []step{{0, 5, 5}, {time.Hour, 100, 5}}},
		{"half a second of idle refills half the burst", []step{{0, 5, 5}, {250 * time.Millisecond, 10, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := newTest(t, tenPerSec)
			for i, s := range tt.steps {
				clk.Advance(s.advance)
				if got := admitted(t, m, "p", "k", s.checks); got != s.want {
					t.Fatalf("step %d (+%s, %d checks): admitted %d; want %d", i, s.advance, s.checks, got, s.want)
				}
			}
		})
	}
}

func TestGCRAResultFields(t *testing.T) {
	m, clk := newTest(t, tenPerSec)
	ctx := context.Background()
	r, _ := m.Allow(ctx, "p", "k")
	// First of a burst of 5: 4 remain; the key is full again after one
	// emission interval; allowed requests have RetryAfter -1.
	if r.Allowed != 1 || r.Remaining != 4 || r.RetryAfter != -1 || r.ResetAfter != 100*time.Millisecond {
		t.Errorf("first check = %+v; want allowed 1, remaining 4, retry -1, reset 100ms", r)
	}
	admitted(t, m, "p", "k", 4)
	r, _ = m.Allow(ctx, "p", "k")
	if r.Allowed != 0 || r.Remaining != 0 || r.RetryAfter != 100*time.Millisecond || r.ResetAfter != 500*time.Millisecond {
		t.Errorf("check past the burst = %+v; want allowed 0, retry 100ms, reset 500ms", r)
	}
	clk.Advance(40 * time.Millisecond)
	r, _ = m.Allow(ctx, "p", "k")
	if r.Allowed != 0 || r.RetryAfter != 60*time.Millisecond {
		t.Errorf("check 40ms later = %+v; want denied, retry 60ms", r)
	}
}

func TestAllowN(t *testing.T) {
	m, clk := newTest(t, tenPerSec)
	ctx := context.Background()
	if r, _ := m.AllowN(ctx, "p", "k", 3); r.Allowed != 3 || r.Remaining != 2 {
		t.Errorf("AllowN(3) on a full bucket = %+v; want allowed 3, remaining 2", r)
	}
	if r, _ := m.AllowN(ctx, "p", "k", 3); r.Allowed != 0 {
		t.Errorf("AllowN(3) with 2 left = %+v; want denied", r)
	}
	if r, _ := m.AllowN(ctx, "p", "k", 2); r.Allowed != 2 {
		t.Errorf("AllowN(2) with 2 left = %+v; want allowed", r)
	}
	// More than the burst is never allowed, as in redis_rate.
	clk.Advance(time.Hour)
	if r, _ := m.AllowN(ctx, "p", "k", 6); r.Allowed != 0 || r.RetryAfter != -1 {
		t.Errorf("AllowN(6) over a burst of 5 = %+v; want denied, no retry", r)
	}
	if _, err := m.AllowN(ctx, "p", "k", 0); !errors.Is(err, ErrBadCount) {
		t.Errorf("AllowN(0) error = %v; want ErrBadCount", err)
	}
}

func TestKeysAreIndependent(t *testing.T) {
	m, _ := newTest(t, tenPerSec)
	for i := 0; i < 100; i++ {
		if got := admitted(t, m, "p", fmt.Sprint("k", i), 7); got != 5 {
			t.Fatalf("key %d admitted %d of 7; want its own burst of 5", i, got)
		}
	}
	if s := m.Stats()["p"]; s.Allowed != 500 || s.Denied != 200 {
		t.Errorf("Stats = %+v; want 500 allowed, 200 denied", s)
	}
}

// TestConcurrentAdmissionIsExact: many goroutines on one key at one instant
// get exactly the burst between them, and after each emission interval
// exactly one more: the compare-and-swap loses no update and grants none
// twice.
func TestConcurrentAdmissionIsExact(t *testing.T) {
	m, clk := newTest(t, Policy{Name: "p", Rate: 1000, Burst: 50, Period: time.Second})
	var allowed atomic.Int64
	hammer := func() {
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 200; i++ {
					r, err := m.Allow(context.Background(), "p", "hot")
					if err != nil {
						t.Error(err)
						return
					}
					allowed.Add(int64(r.Allowed))
				}
			}()
		}
		wg.Wait()
	}
	hammer()
	if got := allowed.Load(); got != 50 {
		t.Fatalf("1600 concurrent checks at one instant admitted %d; want the burst, 50", got)
	}
	clk.Advance(20 * time.Millisecond) // 20 emission intervals of 1ms
	hammer()
	if got := allowed.Load(); got != 70 {
		t.Fatalf("after 20ms, %d admitted in all; want 50 + 20", got)
	}
}

func TestPolicies(t *testing.T) {
	m, clk := newTest(t, tenPerSec)
	ctx := context.Background()
	if _, err := m.Allow(ctx, "nope", "k"); !errors.Is(err, ErrUnknownPolicy) {
		t.Errorf("unknown policy: error = %v; want ErrUnknownPolicy", err)
	}
	admitted(t, m, "p", "k", 5)
	// A replacement keeps the key's state, as Redis keeps the key: its TAT
	// is 500ms ahead, so at 100/s with a burst of 5 (10ms interval, 50ms
	// tolerance) the next admission comes at 500 - 50 + 10 = 460ms.
	if err := m.SetPolicy(Policy{Name: "p", Rate: 100, Burst: 5, Period: time.Second}); err != nil {
		t.Fatal(err)
	}
	if got := admitted(t, m, "p", "k", 5); got != 0 {
		t.Errorf("right after replacement: admitted %d; want 0 (state kept)", got)
	}
	clk.Advance(459 * time.Millisecond)
	if got := admitted(t, m, "p", "k", 5); got != 0 {
		t.Errorf("459ms after replacement: admitted %d; want 0", got)
	}
	clk.Advance(time.Millisecond)
	if got := admitted(t, m, "p", "k", 5); got != 1 {
		t.Errorf("460ms after replacement: admitted %d; want 1", got)
	}
	if !m.RemovePolicy("p") || m.RemovePolicy("p") {
		t.Error("RemovePolicy: want true then false")
	}
	if _, err := m.Allow(ctx, "p", "k"); !errors.Is(err, ErrUnknownPolicy) {
		t.Errorf("removed policy: error = %v; want ErrUnknownPolicy", err)
	}
	// Added again, it starts fresh.
	if err := m.SetPolicy(tenPerSec); err != nil {
		t.Fatal(err)
	}
	if got := admitted(t, m, "p", "k", 10); got != 5 {
		t.Errorf("re-added policy admitted %d; want a fresh burst of 5", got)
	}
}

func TestPolicyValidate(t *testing.T) {
	bad := []Policy{
		{Name: "", Rate: 1, Burst: 1, Period: time.Second},
		{Name: "r", Rate: 0, Burst: 1, Period: time.Second},
		{Name: "b", Rate: 1, Burst: 0, Period: time.Second},
		{Name: "p", Rate: 1, Burst: 1, Period: 0},
		{Name: "f", Rate: 2, Burst: 1, Period: time.Nanosecond},
		{Name: "o", Rate: 1, Burst: 1 << 40, Period: time.Hour}, // burst spans overflow
	}
	m, _ := newTest(t, tenPerSec)
	for _, p := range bad {
		if err := m.SetPolicy(p); err == nil {
			t.Errorf("SetPolicy(%+v) = nil; want an error", p)
		}
	}
}

// TestPoliciesChangeWhileChecking replaces and removes policies while
// checks run; under -race this shows the policy set is safely shared, and
// no check ever fails but with ErrUnknownPolicy.
func TestPoliciesChangeWhileChecking(t *testing.T) {
	m, err := NewMemory(nil, tenPerSec)
	if err != nil {
		t.Fatal(err)
	}
	stop := wait.Background(t, 4, func(_, i int) error {
		if _, err := m.Allow(context.Background(), "p", fmt.Sprint(i%64)); err != nil && !errors.Is(err, ErrUnknownPolicy) {
			return err
		}
		return nil
	})
	for i := 0; i < 2000; i++ {
		switch i % 3 {
		case 0:
			_ = m.SetPolicy(Policy{Name: "p", Rate: 10 + i, Burst: 5, Period: time.Second})
		case 1:
			m.RemovePolicy("p")
		case 2:
			_ = m.SetPolicy(tenPerSec)
		}
	}
	if stop() == 0 {
		t.Fatal("no check ran")
	}
}

// TestSweepForgetsOnlyIdleKeys: keys whose bucket refilled are dropped
// after enough inserts; a key still limited is kept, with its state.
func TestSweepForgetsOnlyIdleKeys(t *testing.T) {
	m, clk := newTest(t, tenPerSec)
	admitted(t, m, "p", "busy", 5) // empty bucket: TAT 500ms ahead
	for i := 0; i < minSweep-2; i++ {
		admitted(t, m, "p", fmt.Sprint("idle", i), 1)
	}
	clk.Advance(200 * time.Millisecond) // idle keys full again; busy not
	admitted(t, m, "p", "trigger", 1)   // the minSweep-th insert
	if n := keyCount(m, "p"); n != 2 {
		t.Errorf("after the sweep %d keys remain; want busy and trigger", n)
	}
	if got := admitted(t, m, "p", "busy", 5); got != 2 {
		t.Errorf("busy key 200ms on admitted %d; want 2 (its state kept)", got)
	}
}

func TestAllowDoesNotAllocate(t *testing.T) {
	m, _ := newTest(t, tenPerSec)
	ctx := context.Background()
	m.Allow(ctx, "p", "k")
	if n := testing.AllocsPerRun(1000, func() { m.Allow(ctx, "p", "k") }); n != 0 {
		t.Errorf("Allow on a known key allocates %v times; want 0", n)
	}
}

// TestSweepUnderLoadNeverAdmitsTwice: while sweeps retire idle keys, checks
// on those same keys from several goroutines must still get exactly one
// burst per key per round: a check holding a retired state must not admit
// from it as well as from the key's new state.
func TestSweepUnderLoadNeverAdmitsTwice(t *testing.T) {
	m, clk := newTest(t, tenPerSec)
	ps, _ := m.policies.get("p")
	table := ps.keys
	const keys, rounds, workers = 2000, 20, 4
	names := make([]string, keys)
	for i := range names {
		names[i] = fmt.Sprint("k", i)
	}
	var retired atomic.Int64
	for round := 0; round < rounds; round++ {
		// Every key is idle again, so a sweep may retire any of them
		// while the checkers below are on it.
		clk.Advance(time.Hour)
		counts := make([]atomic.Int32, keys)
		done := make(chan struct{})
		swept := make(chan struct{})
		first := make(chan struct{})
		go func() {
			defer close(swept)
			for i := 0; ; i++ {
				if i == 1 {
					close(first)
				}
				select {
				case <-done:
					return
				default:
				}
				before := keyCount(m, "p")
				m.sweep(table)
				if i == 0 { // alone: no check adds a key meanwhile
					retired.Add(int64(before - keyCount(m, "p")))
				}
			}
		}()
		// The checkers start once one sweep has ended, so that on a busy
		// machine, where the sweeper may not run beside them, some sweep
		// still retires keys; the sweeps after race with the checks.
		<-first
		var wg sync.WaitGroup
		for g := 0; g < workers; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 2*keys; j++ {
					k := (j*7 + g*keys/workers) % keys
					r, err := m.Allow(context.Background(), "p", names[k])
					if err != nil {
						t.Error(err)
						return
					}
					counts[k].Add(int32(r.Allowed))
				}
			}()
		}
		wg.Wait()
		close(done)
		<-swept
		for k := range counts {
			if n := counts[k].Load(); n != 5 {
				t.Fatalf("round %d: key %s admitted %d; want exactly its burst, 5", round, names[k], n)
			}
		}
	}
	if retired.Load() == 0 {
		t.Fatal("no sweep retired a key: the test exercised nothing")
	}
}
