package redisconn_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rustci/rustci-perf/internal/redistest"
	"github.com/rustci/rustci-perf/internal/slowproxy"
	"github.com/rustci/rustci-perf/pkg/redisconn"
)

// call is one kind of Redis call the cache's L2 or the limiter makes.
type call struct {
	name string
	do   func(context.Context, redis.UniversalClient) error
}

var calls = []call{
	// an L2 Get when L2 is the top tier
	{"GET", func(ctx context.Context, c redis.UniversalClient) error { return c.Get(ctx, "k").Err() }},
	// an L2 Get below another tier: value and TTL in one pipeline
	{"pipeline GET PTTL", func(ctx context.Context, c redis.UniversalClient) error {
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Get(ctx, "k")
			p.PTTL(ctx, "k")
			return nil
		})
		return err
	}},
	// an L2 Set: the write and its invalidation in one pipeline
	{"pipeline SET PUBLISH", func(ctx context.Context, c redis.UniversalClient) error {
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "k", "v", time.Minute)
			p.Publish(ctx, "ch", "k")
			return nil
		})
		return err
	}},
	// a limiter check: redis_rate's script
	{"EVALSHA", func(ctx context.Context, c redis.UniversalClient) error {
		return c.EvalSha(ctx, "0123456789012345678901234567890123456789", []string{"k"}, 1).Err()
	}},
	{"MULTI EXEC", func(ctx context.Context, c redis.UniversalClient) error {
		_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Incr(ctx, "k")
			return nil
		})
		return err
	}},
	// what the limiter scenario asks before measuring
	{"PING", func(ctx context.Context, c redis.UniversalClient) error { return c.Ping(ctx).Err() }},
}

// TestCallBound: against a Redis that accepts connections and never
// answers, or one that refuses them, every kind of call fails within the
// timeout (and a margin for a loaded machine), in every connection mode.
// Before the bound applied to the call as a whole, a pipeline took twice
// the timeout: its connection's handshake timed out, and go-redis started
// another connection, whose handshake timed out too.
func TestCallBound(t *testing.T) {
	const timeout = redistest.DeadTimeout
	silent := redistest.Silent(t)
	for _, tt := range []struct {
		name string
		cfg  redisconn.Config
	}{
		// one node that never answers
		{"silent", redisconn.Config{URL: "redis://" + silent}},
		// its Cluster seed never answers: no slot map
		{"silent cluster", redisconn.Config{URL: "redis://" + silent, Cluster: true}},
		// its Sentinel never answers: no master address
		{"silent sentinel", redisconn.Config{URL: "redis://" + silent, SentinelMaster: "m"}},
		// a port where nothing listens
		{"refused", redisconn.Config{URL: "redis://" + redistest.Refused(t)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			cfg.Timeout = timeout
			c, _, err := redisconn.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for _, k := range calls {
				start := time.Now()
				err := k.do(context.Background(), c)
				d := time.Since(start)
				if err == nil {
					t.Errorf("%s: no error from a Redis that cannot answer", k.name)
				}
				if d > redistest.CallBound(timeout) {
					t.Errorf("%s took %s (%v); want the %s timeout at most (bound %s)", k.name, d, err, timeout, redistest.CallBound(timeout))
				}
			}
		})
	}
}

// TestCallBoundSlowRedis: a Redis that answers each reply 0.9 timeouts
// late answers every single step in time (the handshake, then the
// command) but not the call as a whole: the call fails at the timeout
// instead of succeeding after almost two.
func TestCallBoundSlowRedis(t *testing.T) {
	const timeout = redistest.DeadTimeout
	p := slowproxy.Start(t, redistest.Start(t).Addr)
	p.Delay(timeout*9/10, 1)
	for _, k := range calls {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			// A client each: every call starts a connection, handshake
			// included.
			c, _, err := redisconn.New(redisconn.Config{URL: p.URL(), Timeout: timeout})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			err = k.do(context.Background(), c)
			if d := time.Since(start); err == nil || d > redistest.CallBound(timeout) {
				t.Errorf("%s took %s, error %v; want a timeout error within %s", k.name, d, err, redistest.CallBound(timeout))
			}
		})
	}
}

// TestCallBoundKeepsSoonerDeadline: a caller's deadline sooner than the
// timeout is the one that holds.
func TestCallBoundKeepsSoonerDeadline(t *testing.T) {
	c, _, err := redisconn.New(redisconn.Config{URL: "redis://" + redistest.Silent(t), Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), redistest.DeadTimeout)
	defer cancel()
	start := time.Now()
	if err := c.Get(ctx, "k").Err(); err == nil || time.Since(start) > redistest.CallBound(redistest.DeadTimeout) {
		t.Errorf("GET with a %s deadline, timeout 1h: %v after %s", redistest.DeadTimeout, err, time.Since(start))
	}
}
