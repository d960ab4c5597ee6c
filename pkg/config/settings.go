package config

import (
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"time"

	"github.com/rustci/rustci-perf/pkg/fault"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/workload"
)

// Settings are one scenario's resolved settings: its Params, resolved
// (Concurrency at least 1, ValueSizeMax at least ValueSize), the sections
// that apply to every scenario, and its thresholds.
type Settings struct {
	Params
	// Tick, set by whoever shows progress, is passed to the harness.
	Tick func(harness.Progress)
	// Observe, set by whoever profiles, is passed to the harness.
	Observe func() func()
	// Interval, set by the run engine when the scenario's windowed
	// thresholds need one, is the length of the intervals the harness cuts
	// the measured phase into; zero lets the harness choose.
	Interval time.Duration
	// Trace, when set, is the key sequence reading scenarios replay.
	Trace   *workload.Trace
	Cache   Cache
	Limiter Limiter
	// Inject are the faults to inject into the components, one spec per
	// target (fault.Join), for the measured phase.
	Inject     []fault.Spec
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
		return fmt.Errorf("cache.breaker.backoff %s: want more than 0", c.Breaker.Backoff)
	case c.L2.Timeout <= 0:
		return fmt.Errorf("cache.l2.timeout %s: want more than 0", c.L2.Timeout)
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
		if err := c.L2.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// validate checks the limiter section, which applies to every scenario.
func (l Limiter) validate() error {
	switch {
	case l.Timeout <= 0:
		return fmt.Errorf("limiter.timeout %s: want more than 0", l.Timeout)
	case !(l.FallbackShare > 0 && l.FallbackShare <= 1):
		return fmt.Errorf("limiter.fallback_share %g: want more than 0, at most 1", l.FallbackShare)
	case l.Breaker.Failures < 1:
		return fmt.Errorf("limiter.breaker.failures %d: want at least 1", l.Breaker.Failures)
	case l.Breaker.Backoff <= 0:
		return fmt.Errorf("limiter.breaker.backoff %s: want more than 0", l.Breaker.Backoff)
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

// Settings resolves scenario's settings over the layers, and validates
// them: the first value out of range is an error naming where it came from.
func (c *Config) Settings(scenario string) (Settings, error) {
	var p Params
	from := map[string]string{} // Params key: where its value came from
	var thresholds []string
	var userThresholds bool
	var trace *workload.Trace
	// apply lays the Params values l sets under prefix over p. ops and
	// duration are two ways of sizing the measured phase: a layer that
	// gives one alone overrides whichever of the two the layers under it
	// gave, so "ops: 1000" in a scenario's block beats a duration in the
	// defaults, and --ops beats both.
	apply := func(l *Layer, src *Params, prefix string) {
		for _, key := range paramKeys {
			if origin, ok := l.set[prefix+key]; ok {
				copyPath(&p, src, key)
				from[key] = origin
			}
		}
		_, ops := l.set[prefix+"ops"]
		if _, dur := l.set[prefix+"duration"]; ops && !dur {
			p.Duration = 0
		}
	}
	for _, l := range c.layers {
		if !l.over {
			apply(l, &l.Defaults, "defaults.")
		}
	}
	for _, l := range c.layers {
		if sc := l.Scenarios[scenario]; sc != nil {
			prefix := "scenarios." + scenario + "."
			apply(l, &sc.Params, prefix)
			if _, ok := l.set[prefix+"thresholds"]; ok {
				thresholds, userThresholds = sc.Thresholds, l.user
			}
		}
	}
	for _, l := range c.layers {
		if l.over {
			apply(l, &l.Defaults, "defaults.")
		}
		if l.Trace != nil {
			trace = l.Trace
		}
	}
	s := Settings{
		Params:         p,
		Trace:          trace,
		Cache:          c.Cache,
		Limiter:        c.Limiter,
		Inject:         c.Inject,
		Thresholds:     slices.Clone(thresholds),
		UserThresholds: userThresholds,
	}
	if s.Concurrency == 0 {
		s.Concurrency = runtime.GOMAXPROCS(0)
	}
	if s.ValueSizeMax == 0 {
		s.ValueSizeMax = s.ValueSize
	}
	if s.Distribution.Name == "" {
		s.Distribution = workload.Distribution{Name: "uniform"}
	}
	s.Limiter.Policy.Name = "limiter.policy"
	origin := func(key string) string {
		if o, ok := from[key]; ok {
			return o
		}
		return "defaults." + key
	}
	if len(s.Stages) > 0 && s.Rate > 0 {
		return s, fmt.Errorf("%s and %s: give one", origin("rate"), origin("stages"))
	}
	return s, s.validate(origin)
}

// paramKeys are the YAML keys of Params.
var paramKeys = fieldNames(reflect.TypeFor[Params]())

// validate checks the ranges of s; origin names where a field's value came
// from.
func (s Settings) validate(origin func(field string) string) error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%s "+format, append([]any{origin(field)}, args...)...)
	}
	switch {
	case s.Duration == 0 && s.Ops < 1:
		return bad("ops", "%d: want at least 1", s.Ops)
	case s.Concurrency < 1:
		return bad("concurrency", "%d: want at least 1", s.Concurrency)
	case s.Concurrency > 10000:
		return bad("concurrency", "%d: want at most 10000", s.Concurrency)
	case s.Count < 1 || s.Count > MaxCount:
		return bad("count", "%d: want 1 to %d", s.Count, MaxCount)
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
	return s.Limiter.Policy.Validate()
}
