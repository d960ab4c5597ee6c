// Package cache is a multi-tier cache: a Manager reads through an ordered list
// of Tiers (fastest first), promotes what it finds below the top with its
// remaining TTL, and writes through to all of them.
//
// L1 is in-process on ristretto (NewL1), L2 shared on Redis (NewL2), L3 on
// local disk on Pebble (NewL3). Every tier but L1 sits behind a circuit
// breaker: a tier that fails (or panics) is counted and skipped, never
// failing a call another tier can serve, and is probed again after a
// backoff; one that failed for good says why in its Stats. Values are
// byte slices that L1 does not copy: a caller must not modify a slice after
// passing it to Set, nor one returned by Get.
package cache

import (
	"context"
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

// ValueGetter is implemented by tiers for which reading a value without its
// remaining TTL is cheaper (L2: one Redis command instead of two). The
// Manager uses it for the top tier, whose TTL nothing needs.
type ValueGetter interface {
	GetValue(ctx context.Context, key string) ([]byte, bool, error)
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
	// Skipped counts calls not made because the tier's breaker was open.
	Skipped uint64 `json:"skipped"`
	// Promotions counts items copied into this tier from a lower one.
	Promotions uint64 `json:"promotions"`
	// BreakerOpens counts the times the tier's breaker opened (after
	// failures in a row, or a failed probe), BreakerCloses the times it
	// closed again (a probe succeeded): the tier served once more.
	BreakerOpens  uint64 `json:"breaker_opens"`
	BreakerCloses uint64 `json:"breaker_closes"`
	// Degraded is true while the tier's breaker is open (or half-open):
	// calls skip it until a probe succeeds.
	Degraded bool `json:"degraded"`
	// Fault, when not nil, is what put the tier out of use for good (L3:
	// a disk that filled up): every call to it has failed since.
	Fault error `json:"-"`
}

// Since returns s's counters less those of b, an earlier reading of the same
// tier; the rest (Degraded, Fault) is s's.
func (s TierStats) Since(b TierStats) TierStats {
	s.Hits -= b.Hits
	s.Misses -= b.Misses
	s.Sets -= b.Sets
	s.Added -= b.Added
	s.SetsDropped -= b.SetsDropped
	s.SetsRejected -= b.SetsRejected
	s.Evictions -= b.Evictions
	s.Errors -= b.Errors
	s.Skipped -= b.Skipped
	s.Promotions -= b.Promotions
	s.BreakerOpens -= b.BreakerOpens
	s.BreakerCloses -= b.BreakerCloses
	return s
}

// Local is implemented by in-process tiers that cannot fail and count their
// own hits, misses and sets (L1). The Manager puts every other tier behind
// a circuit breaker, counts its calls and times them; a Local tier's hit
// path stays free of all that.
type Local interface {
	Local()
}

// Invalidator is implemented by shared tiers that tell of keys other
// processes wrote or deleted (L2, through Redis pub/sub).
type Invalidator interface {
	Invalidations(ctx context.Context, drop func(key string)) error
}
