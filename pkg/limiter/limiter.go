// Package limiter decides whether a keyed action may proceed under a named
// policy {rate, burst, period}, with the GCRA semantics of redis_rate/v10.
//
// A Limiter holds a live set of policies that can be added, replaced and
// removed while checks run. Memory is the in-process backend: lock-free per
// key (one compare-and-swap on the key's theoretical arrival time), with no
// global lock, and per-policy statistics kept in striped counters.
package limiter

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Policy is a named limit: Rate actions per Period, with bursts of up to
// Burst actions at once.
type Policy struct {
	Name   string        `json:"name" yaml:"-"`
	Rate   int           `json:"rate" yaml:"rate"`
	Burst  int           `json:"burst" yaml:"burst"`
	Period time.Duration `json:"period_ns" yaml:"period"`
	// OnFailure is what checks get while the backend is unavailable:
	// Fallback (the default when empty), FailOpen or FailClosed. The
	// in-memory backend never is.
	OnFailure string `json:"on_failure,omitempty" yaml:"on_failure"`
}

// Validate reports what is wrong with p. Zero values are refused because
// GCRA divides by the rate and a zero burst admits nothing.
func (p Policy) Validate() error {
	switch {
	case p.Name == "":
		return errors.New("policy: empty name")
	case p.Rate <= 0:
		return fmt.Errorf("policy %q: rate %d: want more than 0", p.Name, p.Rate)
	case p.Burst <= 0:
		return fmt.Errorf("policy %q: burst %d: want more than 0", p.Name, p.Burst)
	case p.Period <= 0:
		return fmt.Errorf("policy %q: period %s: want more than 0", p.Name, p.Period)
	case p.Period/time.Duration(p.Rate) <= 0:
		return fmt.Errorf("policy %q: %d per %s is more than one per nanosecond", p.Name, p.Rate, p.Period)
	case p.OnFailure != "" && p.OnFailure != Fallback && p.OnFailure != FailOpen && p.OnFailure != FailClosed:
		return fmt.Errorf("policy %q: failure mode %q: want fallback, fail-open or fail-closed", p.Name, p.OnFailure)
	case int64(p.Burst) > maxBurstSpan/int64(p.Emission()):
		return fmt.Errorf("policy %q: burst %d at one per %s spans more than %s", p.Name, p.Burst, p.Emission(), time.Duration(maxBurstSpan))
	}
	return nil
}

// maxBurstSpan bounds burst x emission interval, so that the GCRA's
// nanosecond arithmetic (a time plus that span, plus a check's cost) cannot
// overflow: about 73 years.
const maxBurstSpan = math.MaxInt64 / 4

// String writes p as "name: 1000/1s burst 100".
func (p Policy) String() string {
	return fmt.Sprintf("%s: %d/%s burst %d", p.Name, p.Rate, p.Period, p.Burst)
}

// Emission is the time between two admissions at the steady rate.
func (p Policy) Emission() time.Duration { return p.Period / time.Duration(p.Rate) }

// Result is one decision, with the fields and meaning of redis_rate.Result.
type Result struct {
	// Policy is the policy the decision was made under.
	Policy Policy
	// Allowed is the number of actions allowed: n or 0.
	Allowed int
	// Remaining is how many more actions would be allowed right now.
	Remaining int
	// RetryAfter is how long until the denied request would be allowed;
	// -1 when it was allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the key is back to a full burst.
	ResetAfter time.Duration
}

// PolicyStats are one policy's counters. The last three are the Redis
// backend's: decisions made by the failure mode (fallback, fail-open or
// fail-closed) while Redis was unavailable, and Redis's errors, of which
// timeouts.
type PolicyStats struct {
	Allowed     uint64 `json:"allowed"`
	Denied      uint64 `json:"denied"`
	Fallback    uint64 `json:"fallback"`
	RedisErrors uint64 `json:"redis_errors"`
	Timeouts    uint64 `json:"timeouts"`
}

// Limiter is a rate limiter with live policies.
type Limiter interface {
	// AllowN asks for n actions on key under the named policy.
	AllowN(ctx context.Context, policy, key string, n int) (Result, error)
	// SetPolicy adds p, or replaces the policy of that name; keys keep their
	// state across a replacement, as they do in Redis.
	SetPolicy(p Policy) error
	// RemovePolicy removes the named policy and its keys' state; later
	// checks against it fail with ErrUnknownPolicy.
	RemovePolicy(name string) bool
	// Stats returns counters per policy name.
	Stats() map[string]PolicyStats
}

// ErrUnknownPolicy is wrapped by checks that name no current policy.
var ErrUnknownPolicy = errors.New("unknown policy")

// ErrBadCount is wrapped by checks that ask for fewer than one action.
var ErrBadCount = errors.New("count must be at least 1")
