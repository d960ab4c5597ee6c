// Package scenarios defines the named workloads rustci-perf runs against its
// built-in components, and the groups that select several at once.
//
// A Scenario sets its component up, hands the harness one Op per worker, and
// returns an Outcome: the harness Result plus the counters and derived
// metrics only it can know (hit rate, integrity violations, admission error).
// Counters are kept per worker and summed after the run, so the hot path
// shares nothing; figures from a scenario's setup and warmup are excluded.
package scenarios

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rustci/rustci-perf/pkg/cache"
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/metric"
)

// Scenario is one named workload.
type Scenario struct {
	Name  string
	Group string
	// Summary says in one line what it measures.
	Summary string
	// Metrics names the figures it reports beyond the Common ones, each
	// defined in the metric catalogue (metric.Lookup); a threshold may
	// name any of both.
	Metrics []string
	// Kinds names the kinds of operation it mixes (read, write), each
	// reported apart as well as together; nil for one kind.
	Kinds []string
	// Unmet, when set, says why the scenario cannot run with some settings
	// ("" when it can): it is then skipped, never passed.
	Unmet func(config.Settings) string
	run   RunFunc
}

// RunFunc runs a scenario with resolved settings.
type RunFunc func(ctx context.Context, s config.Settings) (*Outcome, error)

// New returns a scenario that is not in the registry: for tests of what runs
// scenarios, and for programs that embed rustci-perf with their own.
func New(name, group, summary string, metrics []string, run RunFunc) *Scenario {
	return &Scenario{Name: name, Group: group, Summary: summary, Metrics: metrics, run: run}
}

// Common are the metrics every scenario has, as the catalogue defines them
// (metric.Def.Every): the harness's figures and the latency distribution
// (whose percentiles, p50 or p(99.9), are implied), achieved_rate_ratio
// (achieved over target rate), in open loop only, and what the measured
// phase cost the process (cpu_per_op, alloc_bytes_per_op, ...: Run adds
// them).
var Common = metric.Names(func(d metric.Def) bool { return d.Every })

// HasMetric reports whether sc reports the metric named (percentiles, named
// by the threshold language as "p…", always exist).
func (sc *Scenario) HasMetric(name string) bool {
	return slices.Contains(Common, name) || slices.Contains(sc.Metrics, name)
}

// HasKind reports whether sc mixes the kind of operation named.
func (sc *Scenario) HasKind(kind string) bool { return slices.Contains(sc.Kinds, kind) }

// Outcome is what one run of a scenario measured.
type Outcome struct {
	*harness.Result
	// Component describes what was measured, as "cache: l1 ristretto 64MiB".
	Component string
	// Counters are counts over the measured phase (hits, misses, ...).
	Counters map[string]int64
	// Metrics are figures derived from counts (hit_rate, ...); one that
	// cannot be computed is n/a (NaN, see package metric), with a note.
	Metrics map[string]float64
	// Notes say what a reader needs to trust the figures.
	Notes []string
	// Tiers are the cache tiers' counters over the measured phase, top
	// first, for scenarios that measure the cache.
	Tiers []cache.TierStats
	// TierLatency is the latency of the calls to each tier that is not in
	// process, by name, over the measured phase.
	TierLatency map[string]*latency.Summary
}

// Run runs sc with settings s, and adds to its figures what its measured
// phase cost the process (cpu_per_op, alloc_bytes_per_op, ...: the
// harness measures it for every scenario). A panic in it (its component's setup or
// teardown; the harness recovers those of operations) is its error, a
// *harness.PanicError, after its deferred cleanups ran.
func (sc *Scenario) Run(ctx context.Context, s config.Settings) (out *Outcome, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("scenario %s: %w", sc.Name, harness.Recovered(r))
		}
	}()
	out, err = sc.run(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	addCost(out)
	return out, nil
}

// registry holds every scenario in the order "all" runs them.
var registry = []*Scenario{cacheWrite, cacheRead, cacheL2, cacheL3, limiterScenario, limiterFallback, concurrent, memory, latencyScenario}

// All returns every built-in scenario, in run order.
func All() Catalog { return append(Catalog(nil), registry...) }

// Names returns every built-in scenario's name, in run order.
func Names() []string { return Catalog(registry).Names() }

// Lookup returns the built-in scenario named.
func Lookup(name string) (*Scenario, bool) { return Catalog(registry).Lookup(name) }

// Groups maps each built-in group name, "all" included, to its scenarios.
func Groups() map[string][]*Scenario { return Catalog(registry).Groups() }

// Select resolves names among the built-in scenarios (Catalog.Select).
func Select(names []string) ([]*Scenario, error) { return Catalog(registry).Select(names) }

// GroupNames returns the built-in group names, sorted.
func GroupNames() []string { return Catalog(registry).GroupNames() }

// Catalog is a set of scenarios in the order "all" runs them: the
// built-in ones (All), or a program's own (New), which the run engine
// runs in their place (engine.Options.Scenarios).
type Catalog []*Scenario

// Names returns every scenario's name, in run order.
func (c Catalog) Names() []string {
	out := make([]string, len(c))
	for i, sc := range c {
		out[i] = sc.Name
	}
	return out
}

// Lookup returns the scenario named.
func (c Catalog) Lookup(name string) (*Scenario, bool) {
	for _, sc := range c {
		if sc.Name == name {
			return sc, true
		}
	}
	return nil, false
}

// Groups maps each group name, "all" included, to its scenarios in run order.
func (c Catalog) Groups() map[string][]*Scenario {
	g := map[string][]*Scenario{"all": append([]*Scenario(nil), c...)}
	for _, sc := range c {
		g[sc.Group] = append(g[sc.Group], sc)
	}
	return g
}

// Select resolves scenario and group names to scenarios, each once, in run
// order. A name that is both a group and a scenario (limiter) selects the
// group, which holds the scenario. An unknown name is an error that lists
// the known ones.
func (c Catalog) Select(names []string) ([]*Scenario, error) {
	groups := c.Groups()
	want := map[*Scenario]bool{}
	for _, n := range names {
		g, ok := groups[n]
		if !ok {
			if sc, isScenario := c.Lookup(n); isScenario {
				want[sc] = true
				continue
			}
			return nil, fmt.Errorf("unknown scenario or group %q (scenarios: %s; groups: %s)",
				n, strings.Join(c.Names(), ", "), strings.Join(c.GroupNames(), ", "))
		}
		for _, sc := range g {
			want[sc] = true
		}
	}
	var out []*Scenario
	for _, sc := range c {
		if want[sc] {
			out = append(out, sc)
		}
	}
	return out, nil
}

// GroupNames returns the group names, sorted.
func (c Catalog) GroupNames() []string {
	var out []string
	for g := range c.Groups() {
		out = append(out, g)
	}
	sort.Strings(out)
	return out
}

// plan turns settings into a harness configuration.
func plan(s config.Settings) harness.Config {
	return harness.Config{
		Workers:        s.Concurrency,
		Ops:            s.Ops,
		Duration:       s.Duration,
		WarmupOps:      s.Warmup.Ops,
		WarmupDuration: s.Warmup.Duration,
		Rate:           s.Rate,
		Stages:         s.Stages,
		Tick:           s.Tick,
		Observe:        s.Observe,
		Interval:       s.Interval,
	}
}

// poolSize is the Redis connection pool of a scenario: cache.l2.pool_size,
// or when that is 0, one connection per worker, and at least go-redis's
// default (10 per CPU). Concurrency N then means N calls in flight, as
// redis-benchmark -c and memtier_benchmark mean it: with fewer connections
// than workers the rest queue in go-redis's pool, and the run measures
// that queue (cache-l2 at 50 workers on 20 connections: 0.88x of
// redis-benchmark -c 50, against 0.96x on 50).
func poolSize(s config.Settings) int {
	if s.Cache.L2.PoolSize > 0 {
		return s.Cache.L2.PoolSize
	}
	return max(s.Concurrency, 10*runtime.GOMAXPROCS(0))
}

// The kinds of operation the mixed scenarios (concurrent, latency) tell
// apart; their latencies are reported per kind as well as together.
const (
	kindRead harness.Kind = iota
	kindWrite
)

// mixedKinds names kindRead and kindWrite.
var mixedKinds = []string{"read", "write"}

// keySpaceTimed is the number of distinct keys a time-bound run cycles
// through, since its operation count is not known in advance: enough that
// reads spread over memory (and, for a read served by L1, over several
// hundred kilobytes), few enough that writing them all first through
// Redis takes a fraction of a second.
const keySpaceTimed = 1 << 14

// maxKeys bounds the distinct keys a scenario makes before it runs (about
// 40 MiB of key strings): past it, operations cycle over the keys again.
const maxKeys = 1 << 20

// keySpace is how many distinct keys a scenario uses in all: one per
// operation, warmup included, when the count is known, else keySpaceTimed;
// at most maxKeys.
func keySpace(s config.Settings) int {
	if s.Duration > 0 || s.Warmup.Duration > 0 || len(s.Stages) > 0 {
		return keySpaceTimed
	}
	return min(s.Warmup.Ops+s.Ops, maxKeys)
}

// calls returns how many distinct keys worker w of a run gets: its share of
// keySpace, at least 1. Its Op cycles over them when it runs longer.
func calls(s config.Settings, w int) int {
	return max(harness.Share(keySpace(s), s.Concurrency, w), 1)
}

// cycleNote says when a run's operations outnumber its distinct keys, so
// that writes overwrite keys written earlier in the run.
func cycleNote(out *Outcome, s config.Settings, what string) {
	if total := int64(keySpace(s)); out.Ops+out.Errors+out.WarmupOps > total {
		out.Notes = append(out.Notes, fmt.Sprintf("%s cycle over %d distinct keys, fewer than the operations run", what, total))
	}
}

// valuePool is how many distinct values a scenario makes: 256, or fewer
// when they are large, so that they hold at most about 64 MiB.
func valuePool(s config.Settings) int {
	return max(1, min(256, (64<<20)/s.ValueSizeMax))
}

// keys returns n keys "prefix:0" ... so a run can use them without
// formatting on the hot path.
func keys(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + ":" + strconv.Itoa(i)
	}
	return out
}

// workerKeys returns each worker's own keys, "prefix<w>:0" ..., one for each
// call it will make (see calls).
func workerKeys(s config.Settings, prefix string) [][]string {
	out := make([][]string, s.Concurrency)
	for w := range out {
		out[w] = keys(prefix+strconv.Itoa(w), calls(s, w))
	}
	return out
}

// values returns n pseudo-random values, of s.ValueSize bytes or, with
// ValueSizeMax above it, of sizes drawn uniformly between the two;
// reproducible from seed.
func values(s config.Settings, seed int64, n int) [][]byte {
	r := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	out := make([][]byte, n)
	for i := range out {
		size := s.ValueSize
		if s.ValueSizeMax > size {
			size += r.IntN(s.ValueSizeMax - size + 1)
		}
		v := make([]byte, size)
		for j := range v {
			v[j] = byte(r.Uint32())
		}
		out[i] = v
	}
	return out
}

// tally is one worker's counters. The padding keeps two workers' tallies,
// which sit next to each other in a slice, off one cache line.
type tally struct {
	hits, misses, reads, writes, violations, allowed, denied int64
	_                                                        [8]byte
}

// sum adds up every worker's tallies.
func sum(ts []tally) tally {
	var t tally
	for _, x := range ts {
		t.hits += x.hits
		t.misses += x.misses
		t.reads += x.reads
		t.writes += x.writes
		t.allowed += x.allowed
		t.denied += x.denied
		t.violations += x.violations
	}
	return t
}

// derive sets out's figure d from out's counters (metric.Def.Derive) and,
// when it cannot be computed, notes why.
func derive(out *Outcome, d metric.Def) {
	v, why := d.Derive(metric.Counts(out.Counters, out.Ops, out.Errors))
	out.Metrics[d.Name] = v
	if why != "" {
		out.Notes = append(out.Notes, why)
	}
}
