package limiter

import (
	"context"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Clock returns the time elapsed since some fixed origin. It must not go
// backwards. Tests pass a fake one.
type Clock func() time.Duration

// MonotonicClock returns a Clock on the monotonic clock, from now.
func MonotonicClock() Clock {
	origin := time.Now()
	return func() time.Duration { return time.Since(origin) }
}

// Memory is the in-process GCRA backend. It is safe for concurrent use.
type Memory struct {
	now      Clock
	policies registry[*policyState]
	seed     maphash.Seed
}

var _ Limiter = (*Memory)(nil)

// policyState is a policy with its keys' state. A replacement makes a new
// policyState that shares keys and counters with the old one.
type policyState struct {
	Policy
	emission, burstOffset int64 // nanoseconds
	keys                  *keyTable
	stats                 *stripes
}

// keyTable maps keys to their theoretical arrival time (TAT), in ns of the
// limiter's clock. A key whose TAT has passed is in the same state as a key
// never seen, so sweep may drop it.
type keyTable struct {
	m sync.Map // string -> *keyState
	// inserts since the last sweep, and the count that triggers the next.
	inserts   atomic.Int64
	nextSweep atomic.Int64
	sweeping  atomic.Bool
}

type keyState struct {
	tat    atomic.Int64
	stripe uint8
}

// deadTAT marks a state retired by a sweep.
const deadTAT = math.MinInt64

// retire removes ks from t if it is still the state stored for key.
func (ks *keyState) retire(t *keyTable, key string) {
	t.m.CompareAndDelete(key, ks)
}

// stripes spread a policy's counters over cache lines, so that checks of
// different keys on different cores do not fight over one counter.
type stripes [64]struct {
	allowed, denied atomic.Uint64
	_               [48]byte
}

// minSweep is the fewest inserts between two sweeps of a key table.
const minSweep = 4096

// NewMemory returns an in-memory limiter on clock now (MonotonicClock when
// nil) with the given policies.
func NewMemory(now Clock, policies ...Policy) (*Memory, error) {
	if now == nil {
		now = MonotonicClock()
	}
	m := &Memory{now: now, seed: maphash.MakeSeed()}
	for _, p := range policies {
		if err := m.SetPolicy(p); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// SetPolicy adds or replaces p.
func (m *Memory) SetPolicy(p Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	m.policies.put(p.Name, func(prev *policyState, had bool) *policyState {
		ps := &policyState{Policy: p, emission: int64(p.Emission())}
		ps.burstOffset = ps.emission * int64(p.Burst)
		if had {
			ps.keys, ps.stats = prev.keys, prev.stats
		} else {
			ps.keys, ps.stats = &keyTable{}, &stripes{}
			ps.keys.nextSweep.Store(minSweep)
		}
		return ps
	})
	return nil
}

// RemovePolicy removes the named policy and reports whether it existed.
func (m *Memory) RemovePolicy(name string) bool { return m.policies.remove(name) }

// Allow is AllowN with n = 1.
func (m *Memory) Allow(ctx context.Context, policy, key string) (Result, error) {
	return m.AllowN(ctx, policy, key, 1)
}

// AllowN decides n actions on key under policy, as redis_rate's script does:
//
//	tat      = max(stored TAT, now)
//	new_tat  = tat + n*emission
//	allow_at = new_tat - burst*emission
//	allowed  iff now >= allow_at, and then TAT := new_tat
//
// The arithmetic is in integer nanoseconds, so Remaining is exact where
// redis_rate's float arithmetic can truncate it one lower. As there, n larger
// than the burst is never allowed; unlike there, its RetryAfter is then -1,
// as no wait would make it allowed.
func (m *Memory) AllowN(_ context.Context, policy, key string, n int) (Result, error) {
	ps, err := m.policies.check(policy, key, n)
	if err != nil {
		return Result{}, err
	}
	if n > ps.Burst {
		ps.stats[0].denied.Add(1)
		return Result{Policy: ps.Policy, RetryAfter: -1}, nil
	}
	ks := m.state(ps.keys, key)
	st := &ps.stats[ks.stripe]
	inc := ps.emission * int64(n)
	for {
		now := int64(m.now())
		old := ks.tat.Load()
		if old == deadTAT {
			// A sweep retired this state; take the key's live one.
			ks.retire(ps.keys, key)
			ks = m.state(ps.keys, key)
			st = &ps.stats[ks.stripe]
			continue
		}
		tat := max(old, now)
		newTAT := tat + inc
		diff := now - (newTAT - ps.burstOffset)
		if diff < 0 {
			st.denied.Add(1)
			return Result{
				Policy:     ps.Policy,
				RetryAfter: time.Duration(-diff),
				ResetAfter: time.Duration(tat - now),
			}, nil
		}
		// Subtleness ahead: the TAT may have moved since it was loaded;
		// the swap succeeds only if it did not, else decide again on the
		// new TAT. Denials write nothing, so they never make others retry.
		if ks.tat.CompareAndSwap(old, newTAT) {
			st.allowed.Add(1)
			return Result{
				Policy:     ps.Policy,
				Allowed:    n,
				Remaining:  int(diff / ps.emission),
				RetryAfter: -1,
				ResetAfter: time.Duration(newTAT - now),
			}, nil
		}
	}
}

// state returns key's state in t, creating it on first use.
func (m *Memory) state(t *keyTable, key string) *keyState {
	if v, ok := t.m.Load(key); ok {
		return v.(*keyState)
	}
	fresh := &keyState{stripe: uint8(maphash.String(m.seed, key) % uint64(len(stripes{})))}
	v, loaded := t.m.LoadOrStore(key, fresh)
	if !loaded && t.inserts.Add(1) >= t.nextSweep.Load() {
		m.sweep(t)
	}
	return v.(*keyState)
}

// sweep drops the keys whose TAT has passed: they are at a full burst, the
// same state as a key never seen. It runs when the inserts since the last
// sweep reach the number of keys then kept (at least minSweep), so its cost
// is amortised over those inserts. One caller sweeps at a time.
func (m *Memory) sweep(t *keyTable) {
	if !t.sweeping.CompareAndSwap(false, true) {
		return
	}
	defer t.sweeping.Store(false)
	now := int64(m.now())
	kept := int64(0)
	t.m.Range(func(k, v any) bool {
		ks := v.(*keyState)
		tat := ks.tat.Load()
		// Subtleness ahead: a check may hold ks from before the sweep.
		// Swapping in deadTAT first means such a check either wins (its
		// CAS lands first, this one fails and the key stays) or sees
		// deadTAT and moves to a fresh state: never two live states
		// for one key, which could admit a burst twice.
		if tat <= now && ks.tat.CompareAndSwap(tat, deadTAT) {
			ks.retire(t, k.(string))
			return true
		}
		kept++
		return true
	})
	t.inserts.Store(0)
	t.nextSweep.Store(max(kept, minSweep))
}

// Stats returns allowed and denied counts per policy.
func (m *Memory) Stats() map[string]PolicyStats {
	out := map[string]PolicyStats{}
	for name := range m.policies.all() {
		out[name], _ = m.PolicyStats(name)
	}
	return out
}

// PolicyStats is Stats' entry for the policy named, made without a map,
// for a reader that polls the counters while checks run; ok is false
// when there is no such policy.
func (m *Memory) PolicyStats(name string) (s PolicyStats, ok bool) {
	ps, ok := m.policies.all()[name]
	if !ok {
		return s, false
	}
	for i := range ps.stats {
		s.Allowed += ps.stats[i].allowed.Load()
		s.Denied += ps.stats[i].denied.Load()
	}
	return s, true
}
