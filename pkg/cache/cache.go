// Package cache is a multi-tier cache: a Manager reads through an ordered list
// of Tiers (fastest first), promotes what it finds below the top, and writes
// through to all of them.
//
// L1 is an in-process ristretto cache (NewL1). Slower shared or persistent
// tiers implement the same Tier interface and slot in below it. Values are
// byte slices that the cache does not copy: a caller must not modify a slice
// after passing it to Set, nor one returned by Get.
package cache

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Item is what a tier returns for a key: the value and the time it has left
// to live (0 when it never expires or the tier does not know).
type Item struct {
	Value []byte
	TTL   time.Duration
}

// Tier is one level of the cache.
type Tier interface {
	// Name identifies the tier in statistics ("l1", "l2", ...).
	Name() string
	// Get returns the item stored under key, and whether there was one.
	Get(ctx context.Context, key string) (Item, bool, error)
	// Set stores value under key for ttl (0: no expiry). A tier may decline
	// to keep an item (L1's admission policy) without it being an error.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes key.
	Delete(ctx context.Context, key string) error
	// Stats returns the tier's own counters.
	Stats() TierStats
	// Close releases the tier's resources.
	Close() error
}

// Waiter is implemented by tiers whose writes are applied asynchronously;
// Wait returns once every earlier Set is visible to Get.
type Waiter interface {
	Wait()
}

// TierStats are one tier's counters since it was created.
type TierStats struct {
	Name   string `json:"name"`
	Hits   uint64 `json:"hits"`
	Misses uint64 `json:"misses"`
	// Sets counts the writes the tier accepted, Added those of them that
	// stored a key it did not hold. For L1 they are ristretto's keys added
	// or updated, and keys added; SetsDropped are writes its set buffer
	// dropped when full, SetsRejected writes its admission policy turned
	// away.
	Sets         uint64 `json:"sets"`
	Added        uint64 `json:"added"`
	SetsDropped  uint64 `json:"sets_dropped"`
	SetsRejected uint64 `json:"sets_rejected"`
	Evictions    uint64 `json:"evictions"`
	// Errors counts calls that failed (counted by the Manager).
	Errors uint64 `json:"errors"`
	// Promotions counts items copied into this tier from a lower one.
	Promotions uint64 `json:"promotions"`
}

// Manager reads through and writes through an ordered list of tiers.
// It is safe for concurrent use.
type Manager struct {
	tiers []tierState
}

type tierState struct {
	Tier
	// errors and promotions are touched only off the hit path: on a tier
	// error, or when a lower tier's hit is copied upwards.
	errors, promotions *atomic.Uint64
}

// ErrNoTiers is returned by New when it is given no tier.
var ErrNoTiers = errors.New("cache: no tiers")

// New returns a Manager over tiers, fastest first.
func New(tiers ...Tier) (*Manager, error) {
	if len(tiers) == 0 {
		return nil, ErrNoTiers
	}
	m := &Manager{}
	for _, t := range tiers {
		m.tiers = append(m.tiers, tierState{Tier: t, errors: new(atomic.Uint64), promotions: new(atomic.Uint64)})
	}
	return m, nil
}

// Get returns the value under key from the first tier that has it, and
// copies it, with its remaining time to live, into the tiers above. A tier
// that fails is counted and skipped; Get fails only when every tier failed.
func (m *Manager) Get(ctx context.Context, key string) ([]byte, bool, error) {
	var firstErr error
	failed := 0
	for i := range m.tiers {
		t := &m.tiers[i]
		it, ok, err := t.Get(ctx, key)
		if err != nil {
			t.errors.Add(1)
			failed++
			if firstErr == nil {
				firstErr = fmt.Errorf("%s get %q: %w", t.Name(), key, err)
			}
			continue
		}
		if ok {
			if i > 0 {
				m.promote(ctx, i, key, it)
			}
			return it.Value, true, nil
		}
	}
	if failed == len(m.tiers) {
		return nil, false, firstErr
	}
	return nil, false, nil
}

// promote copies an item found in tier i into every tier above it.
func (m *Manager) promote(ctx context.Context, i int, key string, it Item) {
	for j := 0; j < i; j++ {
		t := &m.tiers[j]
		if err := t.Set(ctx, key, it.Value, it.TTL); err != nil {
			t.errors.Add(1)
			continue
		}
		t.promotions.Add(1)
	}
}

// Set writes value under key to every tier. A tier that fails is counted;
// Set fails only when every tier failed, and the error then names the first.
func (m *Manager) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	var firstErr error
	failed := 0
	for i := range m.tiers {
		t := &m.tiers[i]
		if err := t.Set(ctx, key, value, ttl); err != nil {
			t.errors.Add(1)
			failed++
			if firstErr == nil {
				firstErr = fmt.Errorf("%s set %q: %w", t.Name(), key, err)
			}
		}
	}
	if failed == len(m.tiers) {
		return firstErr
	}
	return nil
}

// Delete removes key from every tier. It fails when any tier failed, since a
// tier that still holds the key would serve it again.
func (m *Manager) Delete(ctx context.Context, key string) error {
	var errs []error
	for i := range m.tiers {
		t := &m.tiers[i]
		if err := t.Delete(ctx, key); err != nil {
			t.errors.Add(1)
			errs = append(errs, fmt.Errorf("%s delete %q: %w", t.Name(), key, err))
		}
	}
	return errors.Join(errs...)
}

// Wait blocks until every asynchronous tier has applied earlier writes, so a
// Get after Wait sees every Set before it (unless a tier declined the item).
func (m *Manager) Wait() {
	for _, t := range m.tiers {
		if w, ok := t.Tier.(Waiter); ok {
			w.Wait()
		}
	}
}

// Stats returns every tier's counters, top tier first.
func (m *Manager) Stats() []TierStats {
	out := make([]TierStats, len(m.tiers))
	for i, t := range m.tiers {
		s := t.Stats()
		s.Errors = t.errors.Load()
		s.Promotions = t.promotions.Load()
		out[i] = s
	}
	return out
}

// Close closes every tier and returns their errors joined.
func (m *Manager) Close() error {
	var errs []error
	for _, t := range m.tiers {
		if err := t.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s close: %w", t.Name(), err))
		}
	}
	return errors.Join(errs...)
}
