package fault

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rustci/rustci-perf/pkg/cache"
)

// Tier returns t with in's faults injected into each of its calls (Get,
// GetValue, Set, Delete), before the call is made. It keeps what t is to
// the cache.Manager: a Local tier (L1) stays local, with no breaker in
// front; another goes behind the Manager's breaker, which counts an
// injected error or deadline as the tier's failure. Waiting for writes,
// invalidations, statistics and Close are t's own, unfaulted.
//
// For a tier on Redis (L2) inject with Hook on its client instead: there
// the delay runs inside the call's own timeout, as a slow Redis's would.
func Tier(t cache.Tier, in *Injector) cache.Tier {
	ft := &tier{Tier: t, in: in}
	if _, ok := t.(cache.Local); ok {
		return localTier{ft}
	}
	return ft
}

// tier is a cache.Tier with faults.
type tier struct {
	cache.Tier
	in *Injector
}

// localTier is a Local tier with faults.
type localTier struct{ *tier }

var (
	_ cache.Tier        = (*tier)(nil)
	_ cache.ValueGetter = (*tier)(nil)
	_ cache.Waiter      = (*tier)(nil)
	_ cache.Invalidator = (*tier)(nil)
	_ cache.Local       = localTier{}
)

// Local marks the tier in process, as the tier it wraps is.
func (localTier) Local() {}

func (t *tier) Get(ctx context.Context, key string) (cache.Item, bool, error) {
	if err := t.in.Do(ctx); err != nil {
		return cache.Item{}, false, err
	}
	return t.Tier.Get(ctx, key)
}

// GetValue is the wrapped tier's, or, when it has none, its Get.
func (t *tier) GetValue(ctx context.Context, key string) ([]byte, bool, error) {
	if err := t.in.Do(ctx); err != nil {
		return nil, false, err
	}
	if vg, ok := t.Tier.(cache.ValueGetter); ok {
		return vg.GetValue(ctx, key)
	}
	it, ok, err := t.Tier.Get(ctx, key)
	return it.Value, ok, err
}

func (t *tier) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := t.in.Do(ctx); err != nil {
		return err
	}
	return t.Tier.Set(ctx, key, value, ttl)
}

func (t *tier) Delete(ctx context.Context, key string) error {
	if err := t.in.Do(ctx); err != nil {
		return err
	}
	return t.Tier.Delete(ctx, key)
}

// Wait is the wrapped tier's, when it has one.
func (t *tier) Wait() {
	if w, ok := t.Tier.(cache.Waiter); ok {
		w.Wait()
	}
}

// Invalidations are the wrapped tier's, when it has them; else none.
func (t *tier) Invalidations(ctx context.Context, drop func(key string)) error {
	if inv, ok := t.Tier.(cache.Invalidator); ok {
		return inv.Invalidations(ctx, drop)
	}
	return nil
}

// String describes the wrapped tier.
func (t *tier) String() string { return fmt.Sprint(t.Tier) }

// Hook returns a go-redis hook that injects in's faults into each command
// and pipeline of a client, before it is sent. Add it after the client's
// deadline hook (redisconn.New adds one): hooks added later run inside
// earlier ones, so the injected delay is part of the call, bounded by its
// deadline, and what is left of the deadline bounds the real call after
// it, as a slow network's delay would. A call the fault fails carries the
// error in its command(s), where go-redis's callers read it.
func Hook(in *Injector) redis.Hook { return hook{in} }

type hook struct{ in *Injector }

var _ redis.Hook = hook{}

// DialHook leaves dials alone: a dial is one step of a command, which the
// command's fault has delayed already.
func (hook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h hook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if err := h.in.Do(ctx); err != nil {
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

func (h hook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if err := h.in.Do(ctx); err != nil {
			for _, c := range cmds {
				c.SetErr(err)
			}
			return err
		}
		return next(ctx, cmds)
	}
}
