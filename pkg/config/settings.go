package config

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/rustci/rustci-perf/pkg/cache"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/limiter"
	"github.com/rustci/rustci-perf/pkg/workload"
)

// Settings are one scenario's resolved settings.
type Settings struct {
	Ops         int
	Concurrency int
	// Duration, when not zero, bounds the run by time instead of Ops.
	Duration time.Duration
	Warmup   Warmup
	Seed     int64
	// ValueSize is the size of values in bytes, or with ValueSizeMax above
	// it the smallest of sizes drawn uniformly up to ValueSizeMax.
	ValueSize    int
	ValueSizeMax int
	// Keys is the key space (0: the scenario's own choice) and
	// Distribution how operations pick keys from it.
	Keys         int
	Distribution workload.Distribution
	// Rate is the open-loop target in operations per second; 0 for the
	// closed loop.
	Rate float64
	// ReadRatio is the share of reads in a mixed workload, in [0, 1].
	ReadRatio float64
	// Stages, when set, ramp the open-loop rate instead of Rate.
	Stages harness.Stages
	// Tick, set by whoever shows progress, is passed to the harness.
	Tick func(harness.Progress)
	// Observe, set by whoever profiles, is passed to the harness.
	Observe func() func()
	// Count is how many times the scenario runs (1 or more); Judge is
	// median, worst or each.
	Count int
	Judge string
	// Trace, when set, is the key sequence reading scenarios replay.
	Trace      *workload.Trace
	Cache      Cache
	Limiter    Limiter
	Thresholds []string
	// UserThresholds says a user's file wrote the scenario's thresholds;
	// otherwise they are the embedded defaults, which a run does not judge
	// where they cannot apply.
	UserThresholds bool
}

// validate checks the cache section, which applies to every scenario: its
// errors name the key, not a scenario.
func (c Cache) validate() error {
	switch {
	case c.L1.MaxCostBytes < 1:
		return fmt.Errorf("cache.l1.max_cost_bytes %d: want at least 1", c.L1.MaxCostBytes)
	case c.L1.NumCounters < 1:
		return fmt.Errorf("cache.l1.num_counters %d: want at least 1", c.L1.NumCounters)
	case c.Breaker.Failures < 1:
		return fmt.Errorf("cache.breaker.failures %d: want at least 1", c.Breaker.Failures)
	case c.Breaker.Backoff <= 0:
		return fmt.Errorf("cache.breaker.backoff %s: want more than 0", time.Duration(c.Breaker.Backoff))
	case c.L2.Timeout <= 0:
		return fmt.Errorf("cache.l2.timeout %s: want more than 0", time.Duration(c.L2.Timeout))
	case c.L2.PoolSize < 0:
		return fmt.Errorf("cache.l2.pool_size %d: want 0 (default) or more", c.L2.PoolSize)
	}
	seen := map[string]bool{}
	for _, t := range c.Tiers {
		if t != "l1" && t != "l2" && t != "l3" {
			return fmt.Errorf("tiers: unknown tier %q (tiers: l1, l2, l3)", t)
		}
		if seen[t] {
			return fmt.Errorf("tiers: %s named twice", t)
		}
		seen[t] = true
	}
	if seen["l2"] && c.L2.URL == "" {
		return fmt.Errorf("tiers: l2 needs a Redis URL (--redis-url, RUSTCI_PERF_REDIS_URL or cache.l2.url)")
	}
	if c.L2.URL != "" {
		if err := (cache.L2Config{URL: c.L2.URL, Cluster: c.L2.Cluster, SentinelMaster: c.L2.SentinelMaster, Timeout: time.Duration(c.L2.Timeout), CAFile: c.L2.TLSCAFile}).Validate(); err != nil {
			return err
		}
	}
	return nil
}

// validate checks the limiter section, which applies to every scenario.
func (l Limiter) validate() error {
	switch {
	case l.Timeout <= 0:
		return fmt.Errorf("limiter.timeout %s: want more than 0", time.Duration(l.Timeout))
	case !(l.FallbackShare > 0 && l.FallbackShare <= 1):
		return fmt.Errorf("limiter.fallback_share %g: want more than 0, at most 1", l.FallbackShare)
	case l.Breaker.Failures < 1:
		return fmt.Errorf("limiter.breaker.failures %d: want at least 1", l.Breaker.Failures)
	case l.Breaker.Backoff <= 0:
		return fmt.Errorf("limiter.breaker.backoff %s: want more than 0", time.Duration(l.Breaker.Backoff))
	case l.Unreachable != "refused" && l.Unreachable != "silent":
		return fmt.Errorf("limiter.unreachable %q: want refused or silent", l.Unreachable)
	}
	return nil
}

// MaxCount bounds how many times a scenario may run.
const MaxCount = 1000

// MaxKeys bounds the key space: scenarios make every key before running.
const MaxKeys = 1 << 22

// MaxValueSize bounds value_size: larger values are a different benchmark.
const MaxValueSize = 16 << 20

// Settings resolves scenario's settings: c's defaults, then the scenario's
// block, then flags. It reports the first value out of range, naming it.
func (c *Config) Settings(scenario string, flags Params) (Settings, error) {
	p := c.Defaults
	var thresholds []string
	var userThresholds bool
	if s, ok := c.Scenarios[scenario]; ok {
		p.overlay(s.Params)
		thresholds = s.Thresholds
		userThresholds = s.UserThresholds
	}
	p.overlay(flags)
	s := Settings{
		Ops:            deref(p.Ops),
		Concurrency:    deref(p.Concurrency),
		Duration:       time.Duration(deref(p.Duration)),
		Warmup:         deref(p.Warmup),
		Seed:           deref(p.Seed),
		ValueSize:      deref(p.ValueSize),
		ValueSizeMax:   deref(p.ValueSizeMax),
		Keys:           deref(p.Keys),
		Rate:           deref(p.Rate),
		ReadRatio:      deref(p.ReadRatio),
		Trace:          p.Trace,
		Count:          1,
		Judge:          deref(p.Judge),
		Cache:          c.Cache,
		Limiter:        c.Limiter,
		Thresholds:     append([]string(nil), thresholds...),
		UserThresholds: userThresholds,
	}
	if p.Count != nil {
		s.Count = *p.Count
	}
	if p.Concurrency != nil && *p.Concurrency == 0 {
		s.Concurrency = runtime.GOMAXPROCS(0)
	}
	if s.ValueSizeMax == 0 {
		s.ValueSizeMax = s.ValueSize
	}
	dist := deref(p.Distribution)
	if dist == "" {
		dist = "uniform"
	}
	origin := func(field string) string { return c.origin(scenario, field, flags) }
	d, err := workload.ParseDistribution(dist)
	if err != nil {
		return s, fmt.Errorf("%s: %w", origin("distribution"), err)
	}
	s.Distribution = d
	if st := deref(p.Stages); st != "" {
		if s.Stages, err = harness.ParseStages(st); err != nil {
			return s, fmt.Errorf("%s: %w", origin("stages"), err)
		}
		if s.Rate > 0 {
			return s, fmt.Errorf("%s and %s: give one", origin("rate"), origin("stages"))
		}
	}
	return s, s.validate(origin)
}

// origin names where the value of the Params field with YAML name field
// came from, for an error about it: the flag (--value-size), the
// scenario's block (scenarios.memory.concurrency), or the defaults
// (defaults.ops: the user's file or the built-in ones). Settings are
// resolved for every scenario, so an error must not name whichever
// scenario happened to be resolved first.
func (c *Config) origin(scenario, field string, flags Params) string {
	if flags.isSet(field) {
		return "--" + strings.ReplaceAll(field, "_", "-")
	}
	if s, ok := c.Scenarios[scenario]; ok && s.Params.isSet(field) {
		return "scenarios." + scenario + "." + field
	}
	return "defaults." + field
}

// isSet reports whether p sets the field whose YAML name is field.
func (p Params) isSet(field string) bool {
	v := reflect.ValueOf(p)
	for i := range v.NumField() {
		if name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ","); name == field {
			return !v.Field(i).IsNil()
		}
	}
	return false
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// validate checks the ranges of s; origin names where a field's value came
// from.
func (s Settings) validate(origin func(field string) string) error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%s "+format, append([]any{origin(field)}, args...)...)
	}
	pol := s.Limiter.Policy
	policy := limiter.Policy{Name: "limiter.policy", Rate: pol.Rate, Burst: pol.Burst, Period: time.Duration(pol.Period), OnFailure: pol.OnFailure}
	switch {
	case s.Duration == 0 && s.Ops < 1:
		return bad("ops", "%d: want at least 1", s.Ops)
	case s.Concurrency < 1:
		return bad("concurrency", "%d: want at least 1", s.Concurrency)
	case s.Concurrency > 10000:
		return bad("concurrency", "%d: want at most 10000", s.Concurrency)
	case s.Count < 1 || s.Count > MaxCount:
		return bad("count", "%d: want 1 to %d", s.Count, MaxCount)
	case s.Judge != "" && s.Judge != "median" && s.Judge != "worst" && s.Judge != "each":
		return bad("judge", "%q: want median, worst or each", s.Judge)
	case !(s.ReadRatio >= 0 && s.ReadRatio <= 1):
		return bad("read_ratio", "%g: want 0 to 1", s.ReadRatio)
	case !(s.Rate >= 0 && s.Rate <= 1e9):
		return bad("rate", "%g: want 0 (closed loop) to 1e9 operations per second", s.Rate)
	case s.Keys < 0 || s.Keys > MaxKeys:
		return bad("keys", "%d: want 0 (the scenario's choice) to %d", s.Keys, MaxKeys)
	case s.ValueSize < 1 || s.ValueSize > MaxValueSize:
		return bad("value_size", "%d: want 1 to %d bytes", s.ValueSize, MaxValueSize)
	case s.ValueSizeMax < s.ValueSize || s.ValueSizeMax > MaxValueSize:
		return bad("value_size_max", "%d: want value_size (%d) to %d bytes", s.ValueSizeMax, s.ValueSize, MaxValueSize)
	}
	if err := s.Cache.validate(); err != nil {
		return err
	}
	if err := s.Limiter.validate(); err != nil {
		return err
	}
	return policy.Validate()
}
