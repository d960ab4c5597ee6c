package config

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/pkg/fault"
	"github.com/rustci/rustci-perf/pkg/provenance"
)

var known = []string{"cache-write", "cache-read", "cache-l2", "cache-l3", "limiter", "limiter-fallback", "concurrent", "memory", "latency"}

func TestDefaultsResolve(t *testing.T) {
	c, err := Load(nil, "", known)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range known {
		s, err := c.Settings(name)
		if err != nil {
			t.Errorf("Settings(%s): %v", name, err)
		}
		if len(s.Thresholds) == 0 {
			t.Errorf("%s has no default thresholds", name)
		}
	}
	s, _ := c.Settings("concurrent")
	if s.Concurrency != 10 || s.Duration != time.Second {
		t.Errorf("concurrent = %d workers for %s; want 10 for 1s", s.Concurrency, s.Duration)
	}
	// Every measured phase lasts a second by default, but memory's, which
	// stores a count of items.
	for _, name := range known {
		s, _ := c.Settings(name)
		if want := time.Second; name != "memory" && s.Duration != want {
			t.Errorf("%s runs for %s by default; want %s", name, s.Duration, want)
		}
		if name == "memory" && (s.Duration != 0 || s.Ops != 1000) {
			t.Errorf("memory runs %d ops for %s by default; want 1000 ops", s.Ops, s.Duration)
		}
	}
}

func TestLayers(t *testing.T) {
	user := `
defaults:
  ops: 500
cache:
  l1:
    num_counters: 5000
limiter:
  policy:
    burst: 7
scenarios:
  cache-read:
    concurrency: 3
    thresholds: ["p99<2ms"]
  memory:
    warmup: 2s
`
	layer, err := Parse([]byte(user), "ci.yaml", known)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		scenario string
		flags    *Layer
		check    func(Settings) bool
		what     string
	}{
		{"cache-read", nil, func(s Settings) bool { return s.Ops == 500 && s.Concurrency == 3 }, "user defaults and scenario block apply"},
		{"cache-read", nil, func(s Settings) bool { return strings.Join(s.Thresholds, ",") == "p99<2ms" }, "a user's thresholds replace the scenario's"},
		{"cache-write", nil, func(s Settings) bool { return strings.Join(s.Thresholds, ",") == "throughput>1000" }, "other scenarios keep theirs"},
		{"cache-write", nil, func(s Settings) bool {
			return s.Cache.L1.NumCounters == 5000 && s.Cache.L1.MaxCostBytes == 64<<20
		}, "a section is overridden key by key"},
		{"limiter", nil, func(s Settings) bool {
			return s.Limiter.Policy.Burst == 7 && s.Limiter.Policy.Rate == 100000 && time.Duration(s.Limiter.Policy.Period) == time.Second
		}, "policy keys override one by one"},
		{"memory", nil, func(s Settings) bool { return s.Ops == 1000 }, "the embedded scenario block beats the user's defaults block"},
		{"cache-read", nil, func(s Settings) bool { return s.Duration == 0 }, "ops in a layer overrides the duration of the layers below"},
		{"cache-read", flags(func(l *Layer) { l.Defaults.Duration = time.Second; l.Set("defaults.duration", "--duration") }), func(s Settings) bool { return s.Duration == time.Second }, "a duration flag beats ops in a file"},
		{"memory", nil, func(s Settings) bool { return s.Warmup.Duration == 2*time.Second && s.Concurrency == 1 }, "warmup as a duration; embedded scenario keys kept"},
		{"memory", flags(func(l *Layer) { l.Defaults.Ops = 9; l.Set("defaults.ops", "--ops") }), func(s Settings) bool { return s.Ops == 9 }, "flags win"},
	}
	for _, tt := range tests {
		layers := []*Layer{layer}
		if tt.flags != nil {
			layers = append(layers, tt.flags)
		}
		c, err := New(known, layers...)
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.Settings(tt.scenario)
		if err != nil {
			t.Errorf("%s: %v", tt.what, err)
			continue
		}
		if !tt.check(s) {
			t.Errorf("%s: %s settings %+v", tt.what, tt.scenario, s)
		}
	}
}

// TestParseOnce: each source is a layer; a command-line value beats every
// file's, the cache stack it resolves to picks the embedded L2 defaults,
// merge keys read as YAML says, and an error names where its value came
// from.
func TestParseOnce(t *testing.T) {
	user, err := Parse([]byte(`
defaults: &common
  ops: 7
  warmup: 50
limiter:
  policy:
    burst: 9
scenarios:
  memory:
    <<: *common
    concurrency: 2
`), "ci.yaml", known)
	if err != nil {
		t.Fatal(err)
	}
	cl := CommandLine()
	cl.Cache.L2.URL = "redis://127.0.0.1:1"
	cl.Set("cache.l2.url", "--redis-url")
	c, err := New(known, user, cl)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Settings("memory")
	if err != nil {
		t.Fatal(err)
	}
	if s.Ops != 7 || s.Concurrency != 2 || s.Warmup.Ops != 50 {
		t.Errorf("memory: ops %d, concurrency %d, warmup %v; want 7, 2, 50 (merged from the defaults' anchor)", s.Ops, s.Concurrency, s.Warmup)
	}
	// The L2 stack's policy (rate 10000, burst 500) is under the user's
	// burst.
	if p := c.Limiter.Policy; p.Rate != 10000 || p.Burst != 9 || c.Cache.L2.URL != "redis://127.0.0.1:1" {
		t.Errorf("with a Redis URL from the command line: policy %+v, URL %q; want the L2 stack's rate under the user's burst", p, c.Cache.L2.URL)
	}
	if s, _ := c.Settings("limiter"); !strings.Contains(strings.Join(s.Thresholds, ","), "redis_errors==0") {
		t.Errorf("limiter thresholds %v; want the L2 stack's", s.Thresholds)
	}
	// A flag's value is named as the flag; a file's as its key.
	cl.Defaults.ReadRatio = 2
	cl.Set("defaults.read_ratio", "--read-ratio")
	if _, err := c.Settings("latency"); err == nil || !strings.HasPrefix(err.Error(), "--read-ratio 2:") {
		t.Errorf("read ratio 2 from a flag: error %v; want it named --read-ratio", err)
	}
}

// mergeBomb is a small document whose merge keys expand exponentially:
// each scenario block merges the one before it forty times.
func mergeBomb() string {
	var b strings.Builder
	b.WriteString("defaults: &s0 {ops: 1, seed: 2}\nscenarios:\n")
	for i, name := range known[:4] {
		fmt.Fprintf(&b, "  %s: &s%d\n    <<: [%s]\n", name, i+1, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*s%d, ", i), 40), ", "))
	}
	return b.String()
}

// TestMergePrecedence: in a list of merged mappings the earlier one's
// keys win, and the mapping's own keys beat both (YAML's merge key).
func TestMergePrecedence(t *testing.T) {
	c, err := Load([]byte("defaults: &a {ops: 1100, seed: 5}\nscenarios:\n  memory: &b {ops: 1200, concurrency: 3}\n  cache-write: {<<: [*a, *b], seed: 9}\n"), "f.yaml", known)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Settings("cache-write")
	if err != nil {
		t.Fatal(err)
	}
	if s.Ops != 1100 || s.Concurrency != 3 || s.Seed != 9 {
		t.Errorf("cache-write: ops %d, concurrency %d, seed %d; want 1100 (the first mapping's), 3 (the second's), 9 (its own)", s.Ops, s.Concurrency, s.Seed)
	}
}

// TestInject: faults from a file and from the command line add up, one
// spec per target; a latency given twice for one target, from any two
// layers, is an error.
func TestInject(t *testing.T) {
	user, err := Parse([]byte(`
inject:
  - l2:latency=2ms
  - "l3:stall=1s@2s"
  - &e limiter:error=0.5
`), "ci.yaml", known)
	if err != nil {
		t.Fatal(err)
	}
	cl := CommandLine()
	cl.Inject = []fault.Spec{mustSpec(t, "l2:error=0.01"), mustSpec(t, "l1:latency=p=0.1:1ms")}
	cl.Set("inject", "--inject")
	c, err := New(known, user, cl)
	if err != nil {
		t.Fatal(err)
	}
	want := "l1:latency=p=0.1:1ms l2:latency=2ms,error=0.01 l3:stall=1s@2s limiter:error=0.5"
	if got := strings.Join(fault.Strings(c.Inject), " "); got != want {
		t.Errorf("Inject = %s; want %s", got, want)
	}
	s, err := c.Settings("cache-read")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(fault.Strings(s.Inject), " "); got != want {
		t.Errorf("cache-read's Inject = %s; want %s", got, want)
	}
	if c, _ := New(known); len(c.Inject) != 0 {
		t.Errorf("defaults inject %v; want nothing", c.Inject)
	}
	cl.Inject = []fault.Spec{mustSpec(t, "l2:latency=3ms")}
	if _, err := New(known, user, cl); err == nil || err.Error() != "inject: l2: latency given twice (latency=2ms and latency=3ms)" {
		t.Errorf("l2's latency in the file and on the command line: %v; want it refused", err)
	}
}

func TestMeta(t *testing.T) {
	user, err := Parse([]byte("meta:\n  team: cache\n  runner: &r big\n  commit: abc\n  env: *r\n"), "ci.yaml", known)
	if err != nil {
		t.Fatal(err)
	}
	cl := CommandLine()
	cl.Meta = provenance.Labels{"runner": "small"}
	cl.Set("meta", "--meta")
	c, err := New(known, user, cl)
	if err != nil {
		t.Fatal(err)
	}
	// The command line's runner beats the file's, key by key.
	want := provenance.Labels{"team": "cache", "runner": "small", "commit": "abc", "env": "big"}
	if !maps.Equal(c.Meta, want) {
		t.Errorf("Meta = %v; want %v", c.Meta, want)
	}
	if c, _ := New(known); c.Meta != nil {
		t.Errorf("defaults meta %v; want none", c.Meta)
	}
}

func mustSpec(t *testing.T, s string) fault.Spec {
	t.Helper()
	sp, err := fault.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func TestLoadErrors(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"cache:\n  l1:\n    num_counter: 5\n", "line 3: field num_counter not found"},
		{"scenarios:\n  cache-raed: {}\n", `unknown scenario "cache-raed"`},
		{"defaults:\n  warmup: 2x\n", `warmup "2x"`},
		{"defaults:\n  duration: -1s\n", `duration "-1s": want 0 or more`},
		{"defaults:\n  ops: many\n", "line 2"},
		{"limiter:\n  policy:\n    period: 10\n", `duration "10"`},
		{"defaults: [1, 2]\n", "line 1"},
		{"\tbad", "found character that cannot start"},
		{"scenarios:\n  memory:\n    thresholds: p99<1ms\n", "line 3"},
		{"defaults:\n  ops: 1\n  ops: 2\n", `line 3: key "ops" given twice`},
		{"scenarios:\n  memory: {}\n  memory: {}\n", `line 3: scenario "memory" given twice`},
		{"defaults:\n  distribution: zipf\n", `line 2: distribution "zipf": want uniform`},
		{"defaults:\n  stages: 10s\n", `line 2: stage "10s": want DURATION:RATE`},
		{"cache:\n  l2:\n    timeout: soon\n", `line 3: duration "soon"`},
		{"cache:\n  l2:\n    nope: 1\n", "line 3: field nope not found (known: cluster, pool_size, prefix, sentinel_master, timeout, tls_ca_file, url)"},
		{"limiter:\n  policy:\n    name: x\n", "line 3: field name not found"},
		{"cache: 5\n", "line 1: cache: want a mapping"},
		{"defaults: &d\n  <<: *d\n", "line"},
		{"defaults: &a {ops: 1}\nscenarios:\n  memory: {<<: *a, <<: *a}\n", `line 3: key "<<" given twice`},
		{"- 1\n", "line 1: the document: want a mapping"},
		{mergeBomb(), "more than 10000 keys once aliases and merge keys (<<) are expanded"},
		{"inject: l2:latency=2ms\n", "line 1: inject: want a list"},
		{"inject:\n  - l2: latency=2ms\n", `line 2: inject: want each item a single value; quote it if it has ": " in it`},
		{"inject: [\"l9:latency=2ms\"]\n", `line 1: inject "l9:latency=2ms": unknown target "l9"`},
		{"inject:\n  - l2:latency=2ms\n  - l2:latency=2\n", `line 3: inject "l2:latency=2": latency "2": want a delay`},
		{"meta: team=cache\n", "line 1: meta: want a mapping of label names to values"},
		{"meta:\n  team: [a, b]\n", "line 2: meta: want each label a single value"},
		{"meta:\n  bad key: x\n", `line 2: meta: label "bad key": want a name`},
		{"meta:\n  team: a\n  team: b\n", "line 3: meta: label team given twice"},
	}
	for _, tt := range tests {
		_, err := Load([]byte(tt.yaml), "f.yaml", known)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "f.yaml") {
			t.Errorf("Load(%q) error = %v; want one naming f.yaml and containing %q", tt.yaml, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("Load(%q) error spans lines: %q", tt.yaml, err)
		}
	}
}

func TestSettingsErrors(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"defaults:\n  ops: 0\n", "defaults.ops 0: want at least 1"},
		{"defaults:\n  concurrency: -1\n", "defaults.concurrency -1"},
		{"scenarios:\n  cache-write:\n    concurrency: 20000\n", "scenarios.cache-write.concurrency 20000: want at most 10000"},
		{"defaults:\n  stages: 1s:10\n  rate: 5\n", "defaults.rate and defaults.stages: give one"},
		{"defaults:\n  value_size: 0\n", "value_size 0"},
		{"cache:\n  l1:\n    max_cost_bytes: 0\n", "max_cost_bytes 0"},
		{"limiter:\n  policy:\n    rate: 0\n", "rate 0"},
	}
	for _, tt := range tests {
		c, err := Load([]byte(tt.yaml), "f.yaml", known)
		if err != nil {
			t.Fatalf("Load(%q): %v", tt.yaml, err)
		}
		_, err = c.Settings("cache-write")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Settings with %q: error %v; want %q", tt.yaml, err, tt.want)
		}
	}
	// A flag's value is named as the flag, whichever scenario is resolved.
	user, _ := Parse([]byte("scenarios:\n  memory:\n    concurrency: 1\n"), "f.yaml", known)
	c, _ := New(known, user, flags(func(l *Layer) { l.Defaults.Concurrency = 100000; l.Set("defaults.concurrency", "--concurrency") }))
	for _, sc := range []string{"cache-write", "memory"} {
		_, err := c.Settings(sc)
		if want := "--concurrency 100000: want at most 10000"; err == nil || err.Error() != want {
			t.Errorf("Settings(%s) with --concurrency 100000: error %v; want %q", sc, err, want)
		}
	}
	// ops 0 is fine when a duration bounds the run.
	c, _ = Load([]byte("defaults:\n  ops: 0\n  duration: 1s\n"), "f.yaml", known)
	if _, err := c.Settings("cache-write"); err != nil {
		t.Errorf("ops 0 with a duration: %v", err)
	}
}

// flags returns a command-line layer that set sets.
func flags(set func(*Layer)) *Layer {
	l := CommandLine()
	set(l)
	return l
}

func TestParseWarmup(t *testing.T) {
	tests := []struct {
		in   string
		want Warmup
		ok   bool
	}{
		{"500", Warmup{Ops: 500}, true},
		{"0", Warmup{}, true},
		{"2s", Warmup{Duration: 2 * time.Second}, true},
		{"-1", Warmup{}, false},
		{"-1s", Warmup{}, false},
		{"lots", Warmup{}, false},
	}
	for _, tt := range tests {
		got, err := ParseWarmup(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseWarmup(%q) = %+v, %v; want %+v, ok %t", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// FuzzLoad: no input makes Load panic or return a multi-line error, and a
// loaded config always resolves or fails with an error.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("defaults:\n  ops: 5\n"))
	f.Add([]byte("scenarios:\n  memory:\n    thresholds: [\"p99<1ms\"]\n"))
	f.Add([]byte("cache:\n  l1: {max_cost_bytes: 1, num_counters: 1}\n  ttl: 1s\n"))
	f.Add([]byte("limiter: {policy: {rate: 1, burst: 1, period: 1ms}}\n"))
	f.Add([]byte("&a [*a]"))
	f.Add([]byte("inject: [\"l2:latency=uniform:1ms-2ms,stall=1s@0s\", \"limiter:error=0.1\"]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Load(data, "fuzz.yaml", known)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		for _, n := range known {
			_, _ = c.Settings(n)
		}
	})
}

// TestHistory: the history store comes from the topmost layer that sets
// it, named for errors by where it was set.
func TestHistory(t *testing.T) {
	user, err := Parse([]byte("history: perf.db\n"), "ci.yaml", known)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		layers     []*Layer
		want, from string
	}{
		// none set: no history
		{"none", nil, "", ""},
		// the file's
		{"file", []*Layer{user}, "perf.db", "history (ci.yaml)"},
		// the command line beats the file
		{"flag", []*Layer{user, func() *Layer {
			cl := CommandLine()
			cl.History = "postgres://h/db"
			cl.Set("history", "--history")
			return cl
		}()}, "postgres://h/db", "--history"},
		// a command line that does not set it leaves the file's
		{"flag unset", []*Layer{user, CommandLine()}, "perf.db", "history (ci.yaml)"},
	} {
		c, err := New(known, tt.layers...)
		if err != nil {
			t.Fatal(err)
		}
		if c.History != tt.want || c.HistoryFrom != tt.from {
			t.Errorf("%s: History, HistoryFrom = %q, %q; want %q, %q", tt.name, c.History, c.HistoryFrom, tt.want, tt.from)
		}
	}
}
