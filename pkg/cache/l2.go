package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rustci/rustci-perf/pkg/redisconn"
)

// L2Config configures the shared Redis tier: how to reach Redis, and the
// prefix of its keys.
type L2Config struct {
	redisconn.Config `yaml:",inline"`
	// Prefix is put before every key, so that several users can share one
	// Redis; it also names the invalidation channel.
	Prefix string `yaml:"prefix"`
}

// DefaultL2Timeout is the per-call timeout when L2Config.Timeout is 0.
const DefaultL2Timeout = redisconn.DefaultTimeout

// DefaultL2Prefix is the key prefix when L2Config.Prefix is empty.
const DefaultL2Prefix = "rustci-perf:"

// L2 is the shared tier on Redis, through go-redis's UniversalClient: one
// node, or a Cluster. Values are stored as Redis strings with SET ... PX;
// a Get reads the value and its remaining TTL (PTTL) in one round trip, so
// promotion keeps the item's lifetime. Every write and delete also publishes
// the key on an invalidation channel, so other processes' L1s can drop it
// (see Manager).
type L2 struct {
	c       redis.UniversalClient
	prefix  string
	channel string
	// id tags this instance's invalidations, so it can ignore its own.
	id string
	// desc is the URL with its credentials masked, for reports and errors.
	desc string

	mu  sync.Mutex
	sub *redis.PubSub
}

var (
	_ Tier        = (*L2)(nil)
	_ Invalidator = (*L2)(nil)
	_ ValueGetter = (*L2)(nil)
)

// NewL2 connects to Redis as cfg says. It does not wait for Redis: a server
// that is down makes calls fail (fast) until it is back.
func NewL2(cfg L2Config) (*L2, error) {
	c, desc, err := redisconn.New(cfg.Config)
	if err != nil {
		return nil, err
	}
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = DefaultL2Prefix
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	return &L2{
		c:       c,
		prefix:  prefix,
		channel: prefix + "invalidate",
		id:      hex.EncodeToString(id),
		desc:    desc,
	}, nil
}

// Validate reports what is wrong with cfg, without connecting.
func (cfg L2Config) Validate() error {
	_, _, err := redisconn.Options(cfg.Config)
	return err
}

// Name is "l2".
func (*L2) Name() string { return "l2" }

// String describes the tier without credentials.
func (l *L2) String() string { return "l2 redis " + l.desc }

// Client is the underlying go-redis client, for callers that share it.
func (l *L2) Client() redis.UniversalClient { return l.c }

// Get reads key and its remaining time to live in one round trip.
func (l *L2) Get(ctx context.Context, key string) (Item, bool, error) {
	k := l.prefix + key
	var get *redis.StringCmd
	var ttl *redis.DurationCmd
	_, err := l.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, k)
		ttl = p.PTTL(ctx, k)
		return nil
	})
	if errors.Is(err, redis.Nil) {
		return Item{}, false, nil
	}
	if err != nil {
		return Item{}, false, err
	}
	v, err := get.Bytes()
	if err != nil {
		return Item{}, false, err
	}
	d := ttl.Val()
	if d < 0 { // -1: no expiry; -2: gone between the two commands
		d = 0
	}
	return Item{Value: v, TTL: d}, true, nil
}

// GetValue reads key alone, with one GET.
func (l *L2) GetValue(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := l.c.Get(ctx, l.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// Set writes value with SET ... PX and publishes the key, in one round trip.
func (l *L2) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl < 0 {
		return errNegativeTTL
	}
	_, err := l.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, l.prefix+key, value, ttl)
		p.Publish(ctx, l.channel, l.id+" "+key)
		return nil
	})
	return err
}

// Delete removes key and publishes it, in one round trip.
func (l *L2) Delete(ctx context.Context, key string) error {
	_, err := l.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, l.prefix+key)
		p.Publish(ctx, l.channel, l.id+" "+key)
		return nil
	})
	return err
}

// Invalidations calls drop with every key that another L2 instance on the
// same Redis and prefix wrote or deleted, until Close. It returns once the
// subscription is confirmed, so writes after it are seen; if Redis cannot
// confirm it within ctx, it returns the error but keeps the subscription,
// which go-redis re-establishes once Redis answers.
func (l *L2) Invalidations(ctx context.Context, drop func(key string)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sub != nil {
		return errors.New("l2: already subscribed")
	}
	sub := l.c.Subscribe(ctx, l.channel)
	_, err := sub.Receive(ctx)
	l.sub = sub
	ch := sub.Channel()
	go func() {
		for m := range ch {
			id, key, ok := strings.Cut(m.Payload, " ")
			if ok && id != l.id {
				drop(key)
			}
		}
	}()
	if err != nil {
		return fmt.Errorf("l2 subscribe %s (retrying): %w", l.channel, err)
	}
	return nil
}

// Stats is empty: the Manager counts L2's hits, misses and errors.
func (l *L2) Stats() TierStats { return TierStats{Name: "l2"} }

// Close ends the subscription and the client.
func (l *L2) Close() error {
	l.mu.Lock()
	sub := l.sub
	l.sub = nil
	l.mu.Unlock()
	var errs []error
	if sub != nil {
		errs = append(errs, sub.Close())
	}
	errs = append(errs, l.c.Close())
	return errors.Join(errs...)
}
