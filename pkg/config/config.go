// Package config reads rustci-perf's YAML configuration strictly (an unknown
// key is an error) and resolves each scenario's settings in layers: the
// embedded defaults, then a user's file, then command-line flags.
//
// Within a layer, a scenario's own block overrides the "defaults" block. A
// scenario's thresholds given in a user's file replace the embedded ones for
// that scenario; thresholds from flags are added by the caller.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rustci/rustci-perf/configs"
	"github.com/rustci/rustci-perf/pkg/workload"
	"go.yaml.in/yaml/v3"
)

// Config is the whole file.
type Config struct {
	Defaults  Params               `yaml:"defaults"`
	Cache     Cache                `yaml:"cache"`
	Limiter   Limiter              `yaml:"limiter"`
	Scenarios map[string]*Scenario `yaml:"scenarios"`
}

// Params are the settings that apply to any scenario. A nil field is unset
// in its layer.
type Params struct {
	Ops         *int      `yaml:"ops"`
	Concurrency *int      `yaml:"concurrency"`
	Duration    *Duration `yaml:"duration"`
	Warmup      *Warmup   `yaml:"warmup"`
	Seed        *int64    `yaml:"seed"`
	ValueSize   *int      `yaml:"value_size"`
	// ValueSizeMax, when above ValueSize, makes value sizes vary uniformly
	// between the two.
	ValueSizeMax *int `yaml:"value_size_max"`
	// Keys is the key space of scenarios that read keys written before
	// (0: one key per operation); Distribution how reads pick among them.
	Keys         *int    `yaml:"keys"`
	Distribution *string `yaml:"distribution"`
	// Rate, when set, makes the measured phase open-loop at that many
	// operations per second in all.
	Rate *float64 `yaml:"rate"`
	// ReadRatio is the share of reads in the mixed scenarios (concurrent,
	// latency).
	ReadRatio *float64 `yaml:"read_ratio"`
	// Stages ramp an open-loop rate: "10s:1000,30s:5000,10s:0".
	Stages *string `yaml:"stages"`
	// Count runs each scenario that many times; Judge says whether
	// thresholds hold on the runs' median, worst, or each.
	Count *int    `yaml:"count"`
	Judge *string `yaml:"judge"`
	// Trace, set from --trace, replaces the key space and distribution of
	// the reading scenarios with a recorded sequence of keys.
	Trace *workload.Trace `yaml:"-"`
}

// overlay sets in p every field that o sets. ops and duration are two ways
// of sizing the measured phase: a layer that gives one alone overrides
// whichever of the two the layers under it gave, so "ops: 1000" in a
// scenario's block beats a duration in the defaults, and --ops beats both.
func (p *Params) overlay(o Params) {
	if o.Ops != nil {
		p.Ops = o.Ops
		if o.Duration == nil {
			p.Duration = nil
		}
	}
	if o.Concurrency != nil {
		p.Concurrency = o.Concurrency
	}
	if o.Duration != nil {
		p.Duration = o.Duration
	}
	if o.Warmup != nil {
		p.Warmup = o.Warmup
	}
	if o.Seed != nil {
		p.Seed = o.Seed
	}
	if o.ValueSize != nil {
		p.ValueSize = o.ValueSize
	}
	if o.ValueSizeMax != nil {
		p.ValueSizeMax = o.ValueSizeMax
	}
	if o.Keys != nil {
		p.Keys = o.Keys
	}
	if o.Distribution != nil {
		p.Distribution = o.Distribution
	}
	if o.Rate != nil {
		p.Rate = o.Rate
	}
	if o.ReadRatio != nil {
		p.ReadRatio = o.ReadRatio
	}
	if o.Trace != nil {
		p.Trace = o.Trace
	}
	if o.Stages != nil {
		p.Stages = o.Stages
	}
	if o.Count != nil {
		p.Count = o.Count
	}
	if o.Judge != nil {
		p.Judge = o.Judge
	}
}

// Scenario is one scenario's block.
type Scenario struct {
	Params     `yaml:",inline"`
	Thresholds []string `yaml:"thresholds"`
	// UserThresholds says Thresholds come from a user's file.
	UserThresholds bool `yaml:"-"`
}

// Cache configures the cache under test.
type Cache struct {
	// Tiers lists the tiers to stack, from l1, l2 and l3, always in that
	// order. Empty: l1 and l3, with l2 between them when L2.URL is set.
	Tiers []string `yaml:"tiers"`
	L1    L1       `yaml:"l1"`
	L2    L2       `yaml:"l2"`
	L3    L3       `yaml:"l3"`
	// Breaker tunes the circuit breaker in front of l2 and l3.
	Breaker Breaker `yaml:"breaker"`
	// TTL is the time to live of written items; 0 for none.
	TTL Duration `yaml:"ttl"`
}

// L2 configures the shared Redis tier.
type L2 struct {
	// URL is redis://[user:password@]host:port[/db] or rediss:// (TLS);
	// more Cluster nodes as ?addr=host:port. RUSTCI_PERF_REDIS_URL and
	// --redis-url set it too.
	URL string `yaml:"url"`
	// Cluster forces Redis Cluster mode with a single seed address.
	Cluster bool `yaml:"cluster"`
	// SentinelMaster names the master watched by the Redis Sentinels at
	// the URL's address(es) (more as ?addr=host:port).
	SentinelMaster string `yaml:"sentinel_master"`
	// Prefix starts every key (and the invalidation channel); each run
	// adds its own random part after it, so runs sharing a Redis never
	// read each other's keys.
	Prefix string `yaml:"prefix"`
	// Timeout bounds each dial, read and write.
	Timeout Duration `yaml:"timeout"`
	// PoolSize is the connection pool size; 0 for go-redis's default.
	PoolSize int `yaml:"pool_size"`
	// TLSCAFile is a PEM file of the certificate authorities to trust for
	// rediss:// instead of the system's.
	TLSCAFile string `yaml:"tls_ca_file"`
}

// L3 configures the on-disk tier.
type L3 struct {
	// Dir keeps the store across runs; empty for a temporary directory
	// per scenario, removed after it.
	Dir string `yaml:"dir"`
}

// Breaker configures the circuit breakers of the tiers below L1.
type Breaker struct {
	// Failures in a row that open the breaker.
	Failures int `yaml:"failures"`
	// Backoff is how long an open breaker skips its tier before probing.
	Backoff Duration `yaml:"backoff"`
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

// L1 configures the in-process tier.
type L1 struct {
	MaxCostBytes int64 `yaml:"max_cost_bytes"`
	NumCounters  int64 `yaml:"num_counters"`
}

// Limiter configures the limiter under test. Its backend is Redis when a
// Redis URL is set (the cache's cache.l2 connection settings), else memory.
type Limiter struct {
	Policy Policy `yaml:"policy"`
	// Timeout bounds each Redis call of a check.
	Timeout Duration `yaml:"timeout"`
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

// Policy is the limiter scenario's policy.
type Policy struct {
	Rate   int      `yaml:"rate"`
	Burst  int      `yaml:"burst"`
	Period Duration `yaml:"period"`
	// OnFailure is fallback, fail-open or fail-closed.
	OnFailure string `yaml:"on_failure"`
}

// Duration is a time.Duration written as in Go ("1s", "250ms").
type Duration time.Duration

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

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

// UnmarshalYAML reads a count or a duration.
func (w *Warmup) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseWarmup(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*w = v
	return nil
}

// Default returns the embedded configuration.
func Default(known []string) (*Config, error) {
	c, err := decode(configs.Default, "embedded defaults", known)
	if err != nil {
		// The embedded file is tested; this is a build defect.
		return nil, fmt.Errorf("embedded configuration: %w", err)
	}
	return c, nil
}

// Load returns the embedded defaults with the user's file data, read from
// name, laid over them. known lists the scenario names a file may use.
func Load(data []byte, name string, known []string) (*Config, error) {
	return LoadStack(data, name, known, false)
}

// LoadStack is Load for a cache stack that has L2 (Redis) when l2 is true:
// the embedded configs/stack-l2.yaml is then laid over the defaults, under
// the user's file, so that thresholds fit a stack with a network round trip
// in its write path unless the user wrote their own.
func LoadStack(data []byte, name string, known []string, l2 bool) (*Config, error) {
	base, err := Default(known)
	if err != nil {
		return nil, err
	}
	if l2 {
		stack, err := decode(configs.StackL2, "embedded stack-l2", known)
		if err != nil {
			return nil, fmt.Errorf("embedded configuration: %w", err)
		}
		base.overlay(stack, configs.StackL2)
	}
	if data == nil {
		return base, nil
	}
	user, err := decode(data, name, known)
	if err != nil {
		return nil, err
	}
	base.overlay(user, data)
	for n, sc := range user.Scenarios {
		if sc.Thresholds != nil {
			base.Scenarios[n].UserThresholds = true
		}
	}
	return base, nil
}

// decode reads one YAML document strictly into a fresh Config.
func decode(data []byte, name string, known []string) (*Config, error) {
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config %s: %s", name, oneLine(err))
	}
	names := make([]string, 0, len(c.Scenarios))
	for n := range c.Scenarios {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !contains(known, n) {
			return nil, fmt.Errorf("config %s: scenarios: unknown scenario %q (known: %s)", name, n, strings.Join(known, ", "))
		}
		if c.Scenarios[n] == nil {
			c.Scenarios[n] = &Scenario{}
		}
	}
	return c, nil
}

// overlay lays user over c. Sections are replaced key by key: a user's
// cache.l1.max_cost_bytes alone leaves num_counters as it was. To know which
// keys the user set in the plain-valued sections, the user's document is
// decoded a second time onto c's values.
func (c *Config) overlay(user *Config, data []byte) {
	c.Defaults.overlay(user.Defaults)
	sections := struct {
		Cache   *Cache   `yaml:"cache"`
		Limiter *Limiter `yaml:"limiter"`
	}{&c.Cache, &c.Limiter}
	// Already decoded strictly once; this pass cannot fail on keys, and
	// yaml.v3 decodes a mapping onto an existing struct field by field.
	_ = yaml.Unmarshal(data, &sections)
	if c.Scenarios == nil {
		c.Scenarios = map[string]*Scenario{}
	}
	for n, s := range user.Scenarios {
		cur, ok := c.Scenarios[n]
		if !ok {
			cur = &Scenario{}
			c.Scenarios[n] = cur
		}
		cur.Params.overlay(s.Params)
		if s.Thresholds != nil {
			cur.Thresholds = s.Thresholds
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// oneLine folds yaml.v3's multi-line errors ("yaml: unmarshal errors:\n
// line 3: ...") into one line.
func oneLine(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = strings.TrimPrefix(s, "unmarshal errors:\n")
	fields := strings.Split(s, "\n")
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	return strings.Join(fields, "; ")
}
