package cache

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
	"golang.org/x/sync/singleflight"
)

// Options tune a Manager; the zero value is usable.
type Options struct {
	// BreakerFailures is how many consecutive failures of a tier open its
	// breaker (default 5).
	BreakerFailures uint32
	// BreakerBackoff is how long an open breaker skips its tier before it
	// lets one probe call through (default 1s).
	BreakerBackoff time.Duration
	// Invalidate subscribes to the invalidations of every Invalidator tier
	// and drops the keys named from the tiers above it (see Manager).
	Invalidate bool
	// Observe, when set, is told of every call to a tier that is not
	// Local, with its duration and error (errSkipped's callers excepted:
	// a call skipped by an open breaker is not made). It is called from
	// the calling goroutine, concurrently: a caller timing the tiers makes
	// it safe for that.
	Observe func(tier string, d time.Duration, err error)
}

// Manager reads through and writes through an ordered list of tiers. It is
// safe for concurrent use.
//
// Consistency: a write goes to every tier in order and is visible in this
// process once L1 applies it (Wait). Another process sharing L2 may serve
// a stale value from its own L1 until it receives the invalidation that
// this process's L2 publishes with every Set and Delete: the publish
// latency, about a Redis round trip, when Options.Invalidate is on; the
// item's TTL when it is off or while Redis is unreachable.
type Manager struct {
	tiers []*tierState
	sf    singleflight.Group
	// observe is Options.Observe.
	observe func(tier string, d time.Duration, err error)
}

type tierState struct {
	Tier
	local bool
	// breaker is nil for Local tiers.
	breaker *gobreaker.CircuitBreaker[struct{}]
	// The counters below are only touched for tiers that are not Local,
	// whose calls cost microseconds or more: a shared atomic is noise there.
	hits, misses, sets                    atomic.Uint64
	errors, skipped, promotions, subFails atomic.Uint64
	// opens and closes count the breaker's moves to open and to closed.
	opens, closes atomic.Uint64
}

// ErrNoTiers is returned by New when it is given no tier.
var ErrNoTiers = errors.New("cache: no tiers")

// New returns a Manager over tiers, fastest first.
func New(opts Options, tiers ...Tier) (*Manager, error) {
	if len(tiers) == 0 {
		return nil, ErrNoTiers
	}
	if opts.BreakerFailures == 0 {
		opts.BreakerFailures = 5
	}
	if opts.BreakerBackoff == 0 {
		opts.BreakerBackoff = time.Second
	}
	m := &Manager{observe: opts.Observe}
	for _, t := range tiers {
		ts := &tierState{Tier: t}
		if _, ok := t.(Local); ok {
			ts.local = true
		} else {
			ts.breaker = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
				Name:        t.Name(),
				MaxRequests: 1,
				Timeout:     opts.BreakerBackoff,
				ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= opts.BreakerFailures },
				// A caller giving up is not the tier failing.
				IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
				OnStateChange: func(_ string, _, to gobreaker.State) {
					switch to {
					case gobreaker.StateOpen:
						ts.opens.Add(1)
					case gobreaker.StateClosed:
						ts.closes.Add(1)
					}
				},
			})
		}
		m.tiers = append(m.tiers, ts)
	}
	if opts.Invalidate {
		m.subscribe()
	}
	return m, nil
}

// subscribe asks every Invalidator tier for the keys others changed and
// drops them from the tiers above it. A tier that cannot subscribe now
// (Redis down) is counted in its errors; go-redis keeps trying.
func (m *Manager) subscribe() {
	for i, t := range m.tiers {
		inv, ok := t.Tier.(Invalidator)
		if !ok {
			continue
		}
		above := m.tiers[:i]
		// A Redis that is down must not hold up the start for long:
		// the subscription is kept and re-established when it answers.
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := inv.Invalidations(ctx, func(key string) {
			for _, a := range above {
				_ = a.Delete(context.Background(), key)
			}
		})
		cancel()
		if err != nil {
			t.subFails.Add(1)
			t.errors.Add(1)
		}
	}
}

// errSkipped marks a call not made because the tier's breaker is open.
var errSkipped = errors.New("tier skipped: breaker open")

// call runs f against t: directly for a Local tier; else through its
// breaker, timed and counted, with a panic in f made the tier's error.
func (m *Manager) call(t *tierState, key string, f func() error) error {
	if t.local {
		return f()
	}
	var start time.Time
	if m.observe != nil {
		start = time.Now()
	}
	_, err := t.breaker.Execute(func() (struct{}, error) { return struct{}{}, recovered(f) })
	switch {
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		t.skipped.Add(1)
		return errSkipped
	case err != nil:
		t.errors.Add(1)
	}
	if m.observe != nil {
		m.observe(t.Name(), time.Since(start), err)
	}
	return err
}

// recovered calls f and makes a panic in it an error: a fault in one tier
// must not end the process its other tiers serve.
func recovered(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = fmt.Errorf("panic: %w", e)
			} else {
				err = fmt.Errorf("panic: %v", r)
			}
		}
	}()
	return f()
}

// Get returns the value under key from the first tier that has it, and
// copies it, with its remaining time to live, into the tiers above. A tier
// that fails or is skipped does not fail the Get; the Get fails only when
// no tier could be asked.
func (m *Manager) Get(ctx context.Context, key string) ([]byte, bool, error) {
	var firstErr error
	failed := 0
	for i, t := range m.tiers {
		var it Item
		var ok bool
		var err error
		if t.local {
			if it, ok, err = t.Get(ctx, key); err != nil {
				t.errors.Add(1)
			}
		} else {
			if vg, isVG := t.Tier.(ValueGetter); isVG && i == 0 {
				// Nothing above to promote into: no TTL needed.
				err = m.call(t, key, func() (e error) { it.Value, ok, e = vg.GetValue(ctx, key); return e })
			} else {
				err = m.call(t, key, func() (e error) { it, ok, e = t.Get(ctx, key); return e })
			}
			if err == nil {
				if ok {
					t.hits.Add(1)
				} else {
					t.misses.Add(1)
				}
			}
		}
		if err != nil {
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
	for _, t := range m.tiers[:i] {
		if err := m.set(ctx, t, key, it.Value, it.TTL); err == nil {
			t.promotions.Add(1)
		}
	}
}

func (m *Manager) set(ctx context.Context, t *tierState, key string, value []byte, ttl time.Duration) error {
	if t.local {
		return t.Set(ctx, key, value, ttl)
	}
	err := m.call(t, key, func() error { return t.Set(ctx, key, value, ttl) })
	if err == nil {
		t.sets.Add(1)
	}
	return err
}

// GetOrLoad is Get, and on a miss in every tier, load: its value is written
// to every tier with ttl and returned. Concurrent misses of one key share
// one load.
func (m *Manager) GetOrLoad(ctx context.Context, key string, ttl time.Duration, load func(context.Context) ([]byte, error)) ([]byte, error) {
	if v, ok, err := m.Get(ctx, key); ok {
		return v, nil
	} else if err != nil && len(m.tiers) == 1 {
		return nil, err
	}
	v, err, _ := m.sf.Do(key, func() (any, error) {
		// Another caller's load may have finished since our miss.
		if v, ok, _ := m.Get(ctx, key); ok {
			return v, nil
		}
		v, err := load(ctx)
		if err != nil {
			return nil, fmt.Errorf("load %q: %w", key, err)
		}
		_ = m.Set(ctx, key, v, ttl) // counted per tier; the value is good either way
		return v, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// Set writes value under key to every tier. A tier that fails or is skipped
// is counted; Set fails only when no tier took the write, and the error then
// names the first failure.
func (m *Manager) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	var firstErr error
	failed := 0
	for _, t := range m.tiers {
		if err := m.set(ctx, t, key, value, ttl); err != nil {
			if t.local {
				t.errors.Add(1)
			}
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

// Delete removes key from every tier. It fails when any tier failed or was
// skipped, since a tier that still holds the key would serve it again.
func (m *Manager) Delete(ctx context.Context, key string) error {
	var errs []error
	for _, t := range m.tiers {
		var err error
		if t.local {
			if err = t.Delete(ctx, key); err != nil {
				t.errors.Add(1)
			}
		} else {
			err = m.call(t, key, func() error { return t.Delete(ctx, key) })
		}
		if err != nil {
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

// Names returns the tiers' names, top first.
func (m *Manager) Names() []string {
	out := make([]string, len(m.tiers))
	for i, t := range m.tiers {
		out[i] = t.Name()
	}
	return out
}

// Stats returns every tier's counters, top tier first.
func (m *Manager) Stats() []TierStats {
	out := make([]TierStats, len(m.tiers))
	m.StatsInto(out)
	return out
}

// StatsInto is Stats into dst, whose length must be Stats': it allocates
// nothing, for a reader that polls the counters while the cache is in use
// (every counter is atomic, or ristretto's).
func (m *Manager) StatsInto(dst []TierStats) {
	out := dst[:len(m.tiers)]
	for i, t := range m.tiers {
		s := t.Stats()
		s.Name = t.Name()
		s.Errors += t.errors.Load()
		s.Promotions = t.promotions.Load()
		if !t.local {
			s.Hits, s.Misses, s.Sets = t.hits.Load(), t.misses.Load(), t.sets.Load()
			s.Skipped = t.skipped.Load()
			s.BreakerOpens, s.BreakerCloses = t.opens.Load(), t.closes.Load()
			s.Degraded = t.breaker.State() != gobreaker.StateClosed
		}
		out[i] = s
	}
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
