// Package config reads rustci-perf's YAML configuration strictly (an unknown
// key is an error) and resolves each scenario's settings from layers: the
// embedded defaults, the embedded L2 stack's when the cache stack has L2, a
// user's file, then the command line.
//
// Each value is parsed once, where it is read: a YAML value by Parse, a
// flag's by its flag (the types parse themselves: encoding.TextUnmarshaler).
// A Layer holds the values it sets and which they are; resolving copies the
// set ones over the layers below, and the resolved settings are validated
// once (Config.Settings), each error naming where its value came from.
//
// Within a file, a scenario's own block overrides its "defaults" block; a
// scenario's block in any file overrides every file's defaults block; the
// command line overrides both. A scenario's thresholds given in a user's
// file replace the embedded ones for that scenario; thresholds from flags
// are added by the caller.
package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rustci/rustci-perf/configs"
	"github.com/rustci/rustci-perf/pkg/cache"
	"github.com/rustci/rustci-perf/pkg/fault"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/limiter"
	"github.com/rustci/rustci-perf/pkg/provenance"
	"github.com/rustci/rustci-perf/pkg/workload"
)

// Doc is a configuration file's shape.
type Doc struct {
	Defaults  Params               `yaml:"defaults"`
	Cache     Cache                `yaml:"cache"`
	Limiter   Limiter              `yaml:"limiter"`
	Scenarios map[string]*Scenario `yaml:"scenarios"`
	// Inject lists faults to inject into the components (package fault):
	// every layer's add up, as --inject's do.
	Inject []fault.Spec `yaml:"inject"`
	// Meta are labels for the report's provenance (package provenance):
	// commit and branch set those fields, other keys are labels. Layers
	// add up key by key, a later layer's value winning.
	Meta provenance.Labels `yaml:"meta"`
	// History is the store every run is appended to (package history):
	// a SQLite file's path, or a postgres:// URL.
	History string `yaml:"history"`
}

// Params are the settings that apply to any scenario.
type Params struct {
	Ops         int           `yaml:"ops"`
	Concurrency int           `yaml:"concurrency"`
	Duration    time.Duration `yaml:"duration"`
	Warmup      Warmup        `yaml:"warmup"`
	Seed        int64         `yaml:"seed"`
	ValueSize   int           `yaml:"value_size"`
	// ValueSizeMax, when above ValueSize, makes value sizes vary uniformly
	// between the two.
	ValueSizeMax int `yaml:"value_size_max"`
	// Keys is the key space of scenarios that read keys written before
	// (0: one key per operation); Distribution how reads pick among them.
	Keys         int                   `yaml:"keys"`
	Distribution workload.Distribution `yaml:"distribution"`
	// Rate, when set, makes the measured phase open-loop at that many
	// operations per second in all.
	Rate float64 `yaml:"rate"`
	// ReadRatio is the share of reads in the mixed scenarios (concurrent,
	// latency).
	ReadRatio float64 `yaml:"read_ratio"`
	// Stages ramp an open-loop rate: "10s:1000,30s:5000,10s:0".
	Stages harness.Stages `yaml:"stages"`
	// Count runs each scenario that many times; Judge says whether
	// thresholds hold on the runs' median, worst, or each.
	Count int   `yaml:"count"`
	Judge Judge `yaml:"judge"`
}

// Judge says how thresholds hold over repeated runs: on the runs'
// median, the worst of them, or each run ("" is median).
type Judge string

// UnmarshalText reads median, worst or each (empty: median), for YAML
// and flags.
func (j *Judge) UnmarshalText(b []byte) error {
	switch v := Judge(strings.TrimSpace(string(b))); v {
	case "median", "worst", "each":
		*j = v
		return nil
	case "":
		*j = "median"
		return nil
	}
	return fmt.Errorf("judge %q: want median, worst or each", b)
}

// MarshalText writes j as UnmarshalText reads it.
func (j Judge) MarshalText() ([]byte, error) { return []byte(j), nil }

// Scenario is one scenario's block.
type Scenario struct {
	Params     `yaml:",inline"`
	Thresholds []string `yaml:"thresholds"`
}

// Cache configures the cache under test.
type Cache struct {
	// Tiers lists the tiers to stack, from l1, l2 and l3, always in that
	// order. Empty: l1 and l3, with l2 between them when L2.URL is set.
	Tiers []string       `yaml:"tiers"`
	L1    cache.L1Config `yaml:"l1"`
	// L2's URL is also set by $RUSTCI_PERF_REDIS_URL and --redis-url;
	// PoolSize 0 is one connection per worker, at least 10 per CPU.
	L2 cache.L2Config `yaml:"l2"`
	L3 cache.L3Config `yaml:"l3"`
	// Breaker tunes the circuit breaker in front of l2 and l3.
	Breaker Breaker `yaml:"breaker"`
	// TTL is the time to live of written items; 0 for none.
	TTL time.Duration `yaml:"ttl"`
}

// Breaker configures a circuit breaker.
type Breaker struct {
	// Failures in a row that open the breaker.
	Failures int `yaml:"failures"`
	// Backoff is how long an open breaker skips its tier before probing.
	Backoff time.Duration `yaml:"backoff"`
}

// StackTiers returns the tiers to stack: Tiers when set, else l1 and l3,
// with l2 between them when a Redis URL is set.
func (c Cache) StackTiers() []string {
	if len(c.Tiers) > 0 {
		return c.Tiers
	}
	if c.L2.URL != "" {
		return []string{"l1", "l2", "l3"}
	}
	return []string{"l1", "l3"}
}

// Limiter configures the limiter under test. Its backend is Redis when a
// Redis URL is set (the cache's cache.l2 connection, with the limiter's
// own timeout), else memory.
type Limiter struct {
	// Policy is the scenarios' policy; its name is theirs.
	Policy limiter.Policy `yaml:"policy"`
	// Timeout bounds each Redis call of a check.
	Timeout time.Duration `yaml:"timeout"`
	// FallbackShare is the share of the policy the in-memory fallback
	// admits while Redis is down: 1/N for a fleet of N instances.
	FallbackShare float64 `yaml:"fallback_share"`
	// Breaker stops sending checks to a failing Redis.
	Breaker Breaker `yaml:"breaker"`
	// Unreachable is what limiter-fallback points the limiter at: a port
	// that refuses connections ("refused") or a listener that never
	// answers ("silent").
	Unreachable string `yaml:"unreachable"`
}

// Warmup is an unrecorded phase bounded by operations or by time.
type Warmup struct {
	Ops      int
	Duration time.Duration
}

// String writes w as it is read.
func (w Warmup) String() string {
	if w.Duration > 0 {
		return w.Duration.String()
	}
	return strconv.Itoa(w.Ops)
}

// ParseWarmup reads "500" (operations) or "2s" (a duration).
func ParseWarmup(s string) (Warmup, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 {
			return Warmup{}, fmt.Errorf("warmup %q: want 0 or more operations, or a duration", s)
		}
		return Warmup{Ops: n}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return Warmup{}, fmt.Errorf("warmup %q: want a count of operations (500) or a duration (2s)", s)
	}
	return Warmup{Duration: d}, nil
}

// UnmarshalText reads a count or a duration, for YAML and flags.
func (w *Warmup) UnmarshalText(b []byte) error {
	v, err := ParseWarmup(string(b))
	if err != nil {
		return err
	}
	*w = v
	return nil
}

// MarshalText writes w as UnmarshalText reads it.
func (w Warmup) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// ParseDuration reads a non-negative Go duration; "0" is allowed.
func ParseDuration(s string) (time.Duration, error) {
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want a number with a unit, as in 500ms or 2s", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("duration %q: want 0 or more", s)
	}
	return v, nil
}

// A Layer is one source of settings: a file (Parse), or the command line
// (CommandLine). It holds the values it sets, parsed, and which they are,
// by their YAML path ("defaults.ops", "cache.l2.url",
// "scenarios.memory.ops").
type Layer struct {
	// Name says where the layer comes from ("configs/ci.yaml").
	Name string
	Doc
	// Trace, set from --trace, replaces the key space and distribution of
	// the reading scenarios with a recorded sequence of keys.
	Trace *workload.Trace
	// set maps the path of each value the layer sets to the name an error
	// about it gives: the path in a file, the flag on the command line.
	set map[string]string
	// user says the layer is a user's file: its thresholds are the user's.
	user bool
	// over says the layer's defaults beat every file's scenario blocks.
	over bool
}

// CommandLine returns an empty command-line layer: its values beat every
// file's. The caller sets its values, and Set each.
func CommandLine() *Layer {
	return &Layer{Name: "command line", set: map[string]string{}, over: true}
}

// Set records that l sets the value at path, and that an error about it
// names it origin ("--ops", "$RUSTCI_PERF_REDIS_URL").
func (l *Layer) Set(path, origin string) {
	if l.set == nil {
		l.set = map[string]string{}
	}
	l.set[path] = origin
}

// Config is the layers in force, with the sections that apply to every
// scenario resolved.
type Config struct {
	// Cache and Limiter are resolved over every layer.
	Cache   Cache
	Limiter Limiter
	// Inject is every layer's faults, joined one per target (fault.Join).
	Inject []fault.Spec
	// Meta is every layer's labels, a later layer's winning key by key.
	Meta provenance.Labels
	// History is the store to append runs to, from the topmost layer
	// that sets it ("" for none); HistoryFrom names where it was set
	// ("--history", "$RUSTCI_PERF_HISTORY", "history (ci.yaml)"), for
	// errors.
	History, HistoryFrom string
	known                []string
	layers               []*Layer
}

// Parse reads a user's file, data read from name; known lists the scenario
// names it may use. Nothing is validated but the keys and the values'
// syntax: ranges are checked on the resolved settings.
func Parse(data []byte, name string, known []string) (*Layer, error) {
	l, err := parse(data, name, known)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	l.user = true
	return l, nil
}

// embedded parses one of the embedded files; its errors are build defects
// (the files are tested).
func embedded(data []byte, name string, known []string) (*Layer, error) {
	l, err := parse(data, name, known)
	if err != nil {
		return nil, fmt.Errorf("embedded configuration %s: %w", name, err)
	}
	return l, nil
}

// New resolves layers, in order, over the embedded defaults. When the
// resolved cache stack has L2 (a Redis URL is set and tiers do not leave it
// out), the embedded L2 stack's defaults (configs/stack-l2.yaml) go between
// the embedded ones and layers, so that thresholds and the limiter's policy
// fit a stack with a network round trip, unless a user's file sets its own.
func New(known []string, layers ...*Layer) (*Config, error) {
	base, err := embedded(configs.Default, "default.yaml", known)
	if err != nil {
		return nil, err
	}
	c := &Config{known: known, layers: append([]*Layer{base}, layers...)}
	c.resolve()
	var inject []fault.Spec
	for _, l := range c.layers {
		if _, ok := l.set["inject"]; ok {
			inject = append(inject, l.Inject...)
		}
	}
	for _, l := range c.layers {
		c.Meta = c.Meta.Over(l.Meta)
		if origin, ok := l.set["history"]; ok {
			c.History, c.HistoryFrom = l.History, origin
			if origin == "history" {
				c.HistoryFrom = fmt.Sprintf("history (%s)", l.Name)
			}
		}
	}
	if c.Inject, err = fault.Join(inject); err != nil {
		return nil, err
	}
	if slices.Contains(c.Cache.StackTiers(), "l2") {
		stack, err := embedded(configs.StackL2, "stack-l2.yaml", known)
		if err != nil {
			return nil, err
		}
		c.layers = slices.Insert(c.layers, 1, stack)
		c.resolve()
	}
	return c, nil
}

// Load is New over the user's file data (none when nil), read from name.
func Load(data []byte, name string, known []string) (*Config, error) {
	if data == nil {
		return New(known)
	}
	user, err := Parse(data, name, known)
	if err != nil {
		return nil, err
	}
	return New(known, user)
}

// resolve lays every layer's cache and limiter values over the ones below.
func (c *Config) resolve() {
	var doc Doc
	for _, l := range c.layers {
		for path := range l.set {
			if strings.HasPrefix(path, "cache.") || strings.HasPrefix(path, "limiter.") {
				copyPath(&doc, &l.Doc, path)
			}
		}
	}
	c.Cache, c.Limiter = doc.Cache, doc.Limiter
}
