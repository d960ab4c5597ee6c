package cache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/ristretto/v2"
)

// L1Config configures the in-process tier.
type L1Config struct {
	// MaxCostBytes is the capacity. An item costs its value's length plus
	// ristretto's own per-item bookkeeping (IgnoreInternalCost is false on
	// purpose), so the capacity is close to the memory the tier may hold.
	MaxCostBytes int64
	// NumCounters is the number of keys whose access frequency the
	// admission policy tracks; about 10x the items expected when full.
	NumCounters int64
}

// DefaultL1Config holds 64 MiB and tracks a million keys.
var DefaultL1Config = L1Config{MaxCostBytes: 64 << 20, NumCounters: 1_000_000}

// L1 is the in-process tier on ristretto. Its writes are asynchronous and
// lossy by design: a Set may be dropped when ristretto's buffer is full or
// turned away by its admission policy, so L1 is never the source of truth;
// both are counted in Stats. Wait makes earlier writes visible.
type L1 struct {
	c *ristretto.Cache[string, []byte]
}

var (
	_ Tier   = (*L1)(nil)
	_ Waiter = (*L1)(nil)
	_ Local  = (*L1)(nil)
)

// Local marks L1 as in-process: it cannot fail and counts its own calls.
func (*L1) Local() {}

// NewL1 returns an empty L1 tier.
func NewL1(cfg L1Config) (*L1, error) {
	if cfg.MaxCostBytes <= 0 {
		return nil, fmt.Errorf("l1 max cost %d bytes: want more than 0", cfg.MaxCostBytes)
	}
	if cfg.NumCounters <= 0 {
		return nil, fmt.Errorf("l1 counters %d: want more than 0", cfg.NumCounters)
	}
	c, err := ristretto.NewCache(&ristretto.Config[string, []byte]{
		NumCounters: cfg.NumCounters,
		MaxCost:     cfg.MaxCostBytes,
		BufferItems: 64,
		Metrics:     true,
	})
	if err != nil {
		return nil, fmt.Errorf("l1: %w", err)
	}
	return &L1{c: c}, nil
}

// Name is "l1".
func (*L1) Name() string { return "l1" }

// Get returns the value under key. ristretto does not report the time left,
// so TTL is 0; L1 is the top tier and promotes into nothing.
func (l *L1) Get(_ context.Context, key string) (Item, bool, error) {
	v, ok := l.c.Get(key)
	return Item{Value: v}, ok, nil
}

// errNegativeTTL is returned for a negative ttl, which ristretto would
// silently discard.
var errNegativeTTL = errors.New("negative ttl")

// Set offers value to ristretto at a cost of its length. A write dropped or
// rejected by ristretto is not an error: it shows in Stats.
func (l *L1) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl < 0 {
		return errNegativeTTL
	}
	l.c.SetWithTTL(key, value, int64(len(value)), ttl)
	return nil
}

// Delete removes key.
func (l *L1) Delete(_ context.Context, key string) error {
	l.c.Del(key)
	return nil
}

// Wait blocks until earlier Sets are applied.
func (l *L1) Wait() { l.c.Wait() }

// Stats maps ristretto's metrics onto TierStats.
func (l *L1) Stats() TierStats {
	m := l.c.Metrics
	return TierStats{
		Name:         "l1",
		Hits:         m.Hits(),
		Misses:       m.Misses(),
		Sets:         m.KeysAdded() + m.KeysUpdated(),
		Added:        m.KeysAdded(),
		SetsDropped:  m.SetsDropped(),
		SetsRejected: m.SetsRejected(),
		Evictions:    m.KeysEvicted(),
	}
}

// Close stops ristretto's goroutines.
func (l *L1) Close() error {
	l.c.Close()
	return nil
}
