package limiter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"
)

// Failure modes: what a policy's checks get while Redis is unavailable.
const (
	// Fallback answers from the in-memory GCRA, at FallbackShare of the
	// policy. It is the default.
	Fallback = "fallback"
	// FailOpen allows every check.
	FailOpen = "fail-open"
	// FailClosed denies every check.
	FailClosed = "fail-closed"
)

// RedisOptions configure a Redis limiter.
type RedisOptions struct {
	// FallbackShare is the share of each policy the in-memory fallback
	// admits, in (0, 1]: a fleet of N instances sets 1/N so that during an
	// outage the fleet's total stays near the global limit. Default 1.
	FallbackShare float64
	// BreakerFailures is how many failed checks in a row stop sending
	// checks to Redis (default 5); BreakerBackoff how long until one probe
	// goes to Redis again (default 1s).
	BreakerFailures uint32
	BreakerBackoff  time.Duration
	// Clock is the fallback's clock (MonotonicClock when nil).
	Clock Clock
}

// Redis is the distributed backend: redis_rate's GCRA script, run by Redis on
// its own clock, so every instance sharing the Redis shares the limit. When
// Redis errors or does not answer within the client's timeouts, a check is
// answered by the policy's failure mode, and a circuit breaker stops sending
// checks to Redis until a probe after the backoff succeeds. A caller never
// gets an error because Redis is down.
//
// On the switch to memory every key starts from a full burst (the fallback
// does not know Redis's state): during an outage of length D, a fleet of N
// instances may admit up to N x (burst + share x rate x D) per key, where
// share x N is about 1 if FallbackShare is set to 1/N.
type Redis struct {
	rl       *redis_rate.Limiter
	fallback *Memory
	share    float64
	breaker  *gobreaker.CircuitBreaker[*redis_rate.Result]

	policies registry[*redisPolicy]

	switches atomic.Uint64 // breaker transitions to open
	changes  atomic.Uint64 // breaker transitions of any kind

	// openUntil mirrors the open breaker's backoff, as nanoseconds since
	// origin on the monotonic clock: until then a check goes straight to
	// the failure mode without the breaker's lock, so checks stay cheap
	// while Redis is down. After it, checks go through the breaker again,
	// which lets one probe reach Redis.
	origin    time.Time
	openUntil atomic.Int64
}

var _ Limiter = (*Redis)(nil)

type redisPolicy struct {
	Policy
	limit redis_rate.Limit
	stats *redisStats
}

type redisStats struct {
	allowed, denied, fallback, errors, timeouts atomic.Uint64
}

// NewRedis returns a limiter that keeps its state in the Redis behind c.
// c should have short timeouts and no retries (as cache.NewL2's client
// does): they bound what a dead Redis costs a check.
func NewRedis(c redis.UniversalClient, o RedisOptions, policies ...Policy) (*Redis, error) {
	if o.FallbackShare == 0 {
		o.FallbackShare = 1
	}
	if !(o.FallbackShare > 0 && o.FallbackShare <= 1) {
		return nil, fmt.Errorf("fallback share %g: want more than 0, at most 1", o.FallbackShare)
	}
	if o.BreakerFailures == 0 {
		o.BreakerFailures = 5
	}
	if o.BreakerBackoff == 0 {
		o.BreakerBackoff = time.Second
	}
	mem, err := NewMemory(o.Clock)
	if err != nil {
		return nil, err
	}
	r := &Redis{rl: redis_rate.NewLimiter(c), fallback: mem, share: o.FallbackShare, origin: time.Now()}
	r.breaker = gobreaker.NewCircuitBreaker[*redis_rate.Result](gobreaker.Settings{
		Name:        "redis limiter",
		MaxRequests: 1,
		Timeout:     o.BreakerBackoff,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= o.BreakerFailures },
		IsExcluded:  func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(_ string, _, to gobreaker.State) {
			r.changes.Add(1)
			if to == gobreaker.StateOpen {
				r.switches.Add(1)
				r.openUntil.Store(int64(time.Since(r.origin) + o.BreakerBackoff))
			}
		},
	})
	for _, p := range policies {
		if err := r.SetPolicy(p); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// SetPolicy adds or replaces p, and its scaled copy in the fallback.
func (r *Redis) SetPolicy(p Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := r.fallback.SetPolicy(r.scaled(p)); err != nil {
		return fmt.Errorf("policy %q at fallback share %g: %w", p.Name, r.share, err)
	}
	r.policies.put(p.Name, func(prev *redisPolicy, had bool) *redisPolicy {
		rp := &redisPolicy{Policy: p, limit: redis_rate.Limit{Rate: p.Rate, Burst: p.Burst, Period: p.Period}, stats: &redisStats{}}
		if had {
			rp.stats = prev.stats
		}
		return rp
	})
	return nil
}

// scaled is p at the fallback share: the same rate over a period 1/share
// as long, and share of the burst (at least 1).
func (r *Redis) scaled(p Policy) Policy {
	if r.share == 1 {
		return p
	}
	p.Period = time.Duration(float64(p.Period) / r.share)
	p.Burst = max(1, int(float64(p.Burst)*r.share))
	return p
}

// RemovePolicy removes the named policy; its keys' state in Redis expires
// on its own.
func (r *Redis) RemovePolicy(name string) bool {
	r.fallback.RemovePolicy(name)
	return r.policies.remove(name)
}

// Allow is AllowN with n = 1.
func (r *Redis) Allow(ctx context.Context, policy, key string) (Result, error) {
	return r.AllowN(ctx, policy, key, 1)
}

// AllowN decides n actions on key under policy in Redis, or by the policy's
// failure mode when Redis is unavailable. The only errors are the caller's:
// an unknown policy, n < 1, or ctx ended.
func (r *Redis) AllowN(ctx context.Context, policy, key string, n int) (Result, error) {
	rp, err := r.policies.check(policy, key, n)
	if err != nil {
		return Result{}, err
	}
	if int64(time.Since(r.origin)) < r.openUntil.Load() {
		return r.failed(ctx, rp, key, n)
	}
	res, err := r.breaker.Execute(func() (*redis_rate.Result, error) {
		return r.rl.AllowN(ctx, policy+":"+key, rp.limit, n)
	})
	if err == nil {
		out := Result{Policy: rp.Policy, Allowed: res.Allowed, Remaining: res.Remaining, RetryAfter: res.RetryAfter, ResetAfter: res.ResetAfter}
		r.count(rp, out)
		return out, nil
	}
	if ctx.Err() != nil {
		return Result{}, fmt.Errorf("check %q on %q: %w", key, policy, ctx.Err())
	}
	if !errors.Is(err, gobreaker.ErrOpenState) && !errors.Is(err, gobreaker.ErrTooManyRequests) {
		rp.stats.errors.Add(1)
		if isTimeout(err) {
			rp.stats.timeouts.Add(1)
		}
	}
	return r.failed(ctx, rp, key, n)
}

// failed decides a check by the policy's failure mode.
func (r *Redis) failed(ctx context.Context, rp *redisPolicy, key string, n int) (Result, error) {
	rp.stats.fallback.Add(1)
	var out Result
	var err error
	switch rp.OnFailure {
	case FailOpen:
		out = Result{Policy: rp.Policy, Allowed: n, RetryAfter: -1}
	case FailClosed:
		out = Result{Policy: rp.Policy, RetryAfter: rp.Emission()}
	default:
		if out, err = r.fallback.AllowN(ctx, rp.Name, key, n); err != nil {
			return Result{}, err
		}
		out.Policy = rp.Policy
	}
	r.count(rp, out)
	return out, nil
}

func (r *Redis) count(rp *redisPolicy, out Result) {
	if out.Allowed > 0 {
		rp.stats.allowed.Add(1)
	} else {
		rp.stats.denied.Add(1)
	}
}

// isTimeout reports whether err is a network or context timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// Degraded is true while the breaker keeps checks away from Redis.
func (r *Redis) Degraded() bool { return r.breaker.State() != gobreaker.StateClosed }

// Switches counts the times checks moved to the fallback (the breaker
// opened).
func (r *Redis) Switches() uint64 { return r.switches.Load() }

// Transitions counts every change of the breaker's state: to open,
// half-open (a probe) and closed.
func (r *Redis) Transitions() uint64 { return r.changes.Load() }

// Stats returns per policy the decisions made, how many of them the failure
// mode made, and Redis's errors and timeouts.
func (r *Redis) Stats() map[string]PolicyStats {
	out := map[string]PolicyStats{}
	for name := range r.policies.all() {
		out[name], _ = r.PolicyStats(name)
	}
	return out
}

// PolicyStats is Stats' entry for the policy named, made without a map,
// for a reader that polls the counters while checks run; ok is false
// when there is no such policy.
func (r *Redis) PolicyStats(name string) (PolicyStats, bool) {
	rp, ok := r.policies.all()[name]
	if !ok {
		return PolicyStats{}, false
	}
	s := rp.stats
	return PolicyStats{
		Allowed: s.allowed.Load(), Denied: s.denied.Load(),
		Fallback: s.fallback.Load(), RedisErrors: s.errors.Load(), Timeouts: s.timeouts.Load(),
	}, true
}
