// The cache under test: its stack of tiers, its setup, and what a
// scenario reports of it.

package scenarios

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rustci/rustci-perf/pkg/cache"
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/fault"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/metric"
)

// cacheMetrics returns the metric names of a cache scenario: its own, then
// the counters (metric.TierCounters) of every tier it may run on, each as
// "<tier>_<name>" (l1_hits, l2_errors, ...), measured phase only. Only the
// tiers in the stack are reported; a threshold on another fails as n/a.
func cacheMetrics(own ...string) []string {
	return append(slices.Clone(own), metric.Names(func(d metric.Def) bool { return d.Tier != "" })...)
}

// rig is a cache under test, with its tiers' counters at the start of the
// measured phase so that setup and warmup can be subtracted.
type rig struct {
	m      *cache.Manager
	timing *tierTiming
	ttl    time.Duration
	desc   string
	base   []cache.TierStats
	// liveBase is base again, for liveTick on the collector's goroutine,
	// which starts before mark runs.
	liveBase atomic.Pointer[[]cache.TierStats]
	closed   bool
	// faults are the injectors of the tiers with faults injected
	// (settings' Inject), armed when measuring starts; seed seeds each
	// worker's stream of draws; injected notes what went where.
	faults   []*fault.Injector
	seed     uint64
	injected []string
}

// close closes the cache once; scenarios defer it so that no error path
// leaves a connection or a temporary directory behind.
func (r *rig) close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	return r.m.Close()
}

// newRig builds the cache stack s configures, or the given tiers instead.
func newRig(s config.Settings, tiers ...string) (*rig, error) {
	c := s.Cache
	if len(tiers) == 0 {
		tiers = c.StackTiers()
	}
	var built []cache.Tier
	var descs []string
	var faults []*fault.Injector
	var injected []string
	fail := func(err error) (*rig, error) {
		for _, t := range built {
			t.Close()
		}
		return nil, err
	}
	for _, name := range tiers {
		switch name {
		case "l1":
			l1, err := cache.NewL1(c.L1)
			if err != nil {
				return fail(err)
			}
			built = append(built, l1)
			descs = append(descs, fmt.Sprintf("l1 ristretto (max cost %d bytes, %d counters)", c.L1.MaxCostBytes, c.L1.NumCounters))
		case "l2":
			cfg := c.L2
			cfg.PoolSize = poolSize(s)
			// A run of its own under the configured prefix: runs sharing
			// a Redis never read each other's keys.
			cfg.Prefix += runID() + ":"
			l2, err := cache.NewL2(cfg)
			if err != nil {
				return fail(err)
			}
			built = append(built, l2)
			descs = append(descs, l2.String())
		case "l3":
			l3, err := cache.NewL3(c.L3)
			if err != nil {
				return fail(err)
			}
			built = append(built, l3)
			descs = append(descs, l3.String())
		default:
			return fail(fmt.Errorf("unknown tier %q", name))
		}
		if sp := fault.For(s.Inject, name); sp != nil {
			in := fault.New(*sp, uint64(s.Seed))
			t := built[len(built)-1]
			if l2, ok := t.(*cache.L2); ok {
				// Inside the client's deadline hook: the delay is part
				// of the Redis call, bounded by its timeout.
				l2.Client().AddHook(fault.Hook(in))
			} else {
				built[len(built)-1] = fault.Tier(t, in)
			}
			faults = append(faults, in)
			injected = append(injected, injectedNote(*sp, s))
		}
	}
	shared := slices.Contains(tiers, "l2")
	timing := newTierTiming(tiers)
	m, err := cache.New(cache.Options{
		BreakerFailures: uint32(c.Breaker.Failures),
		BreakerBackoff:  c.Breaker.Backoff,
		Invalidate:      shared,
		Observe:         timing.observe,
	}, built...)
	if err != nil {
		return fail(err)
	}
	return &rig{
		m:        m,
		timing:   timing,
		ttl:      c.TTL,
		desc:     "cache: " + strings.Join(descs, ", ") + ", ttl " + c.TTL.String(),
		faults:   faults,
		seed:     uint64(s.Seed),
		injected: injected,
	}, nil
}

// injectedNote says what fault went into a tier or the limiter's Redis,
// and what it meets there: a timeout and a breaker, or neither.
func injectedNote(sp fault.Spec, s config.Settings) string {
	where := map[string]string{
		"l1":      "every call to l1 in the measured phase, in process, with no timeout or breaker: its delays are the operations'",
		"l2":      fmt.Sprintf("every call to l2 in the measured phase, inside the Redis call, within its %s timeout (cache.l2.timeout), with l2's breaker in front", s.Cache.L2.Timeout),
		"l3":      "every call to l3 in the measured phase, behind l3's breaker, with no timeout (Pebble has none): a call waits its delay out in full",
		"limiter": fmt.Sprintf("every Redis call of the limiter's checks in the measured phase, within its %s timeout (limiter.timeout), with the limiter's breaker in front", s.Limiter.Timeout),
	}[sp.Target]
	return fmt.Sprintf("injected fault %s: into %s", sp, where)
}

// worker returns the context worker w's operations use: ctx, carrying the
// worker's stream of fault draws when faults are injected.
func (r *rig) worker(ctx context.Context, w int) context.Context {
	if len(r.faults) == 0 {
		return ctx
	}
	return fault.Worker(ctx, r.seed, w)
}

// runID returns 8 random hex digits.
func runID() string {
	b := make([]byte, 4)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// mark waits for the writes of setup and warmup to land, then remembers the
// tiers' counters and empties their latency histograms; call it just before
// the measured phase.
func (r *rig) mark() {
	r.m.Wait()
	r.base = r.m.Stats()
	base := slices.Clone(r.base)
	r.liveBase.Store(&base)
	r.timing.reset()
	for _, in := range r.faults {
		in.Arm()
	}
}

// fillTries is how many times fill tries to write a key: it is setup, not
// measured, so a write that timed out on a busy machine is tried again
// rather than failing the scenario; a tier that stays down still does.
const fillTries = 3

// fill writes every key with its value and waits until all are visible.
// It waits every so often so that ristretto's set buffer never fills and
// drops a write: the measured phase then starts from a known state. It
// returns ctx's error, soon after ctx ends, when it did not finish: L1 and
// L3 ignore ctx, and writing millions of keys takes seconds.
func (r *rig) fill(ctx context.Context, ks []string, vals [][]byte) error {
	for i, k := range ks {
		var err error
		for try := 0; try < fillTries; try++ {
			if err = r.m.Set(ctx, k, vals[i%len(vals)], r.ttl); err == nil || ctx.Err() != nil {
				break
			}
		}
		if err != nil {
			return err
		}
		if i%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return err
			}
			r.m.Wait()
		}
	}
	r.m.Wait()
	return nil
}

// tierCounterNames are the counters of a tier that finish reports and
// liveTick reads, in tierCounts' order.
var tierCounterNames = [...]string{"hits", "misses", "sets", "added", "sets_dropped", "sets_rejected", "evictions", "errors", "skipped", "promotions", "breaker_opens", "breaker_closes"}

// tierCounts are st's counters, in tierCounterNames' order.
func tierCounts(st cache.TierStats) [len(tierCounterNames)]int64 {
	return [...]int64{int64(st.Hits), int64(st.Misses), int64(st.Sets), int64(st.Added), int64(st.SetsDropped), int64(st.SetsRejected),
		int64(st.Evictions), int64(st.Errors), int64(st.Skipped), int64(st.Promotions), int64(st.BreakerOpens), int64(st.BreakerCloses)}
}

// liveTick returns tick, told the tiers' counters over the measured
// phase so far as well (l1_hits, ..., as finish names them), or nil when
// tick is nil. It reads them on the harness's collector goroutine, every
// tick, from the tiers' atomic counters and ristretto's, into memory
// made here: nothing is allocated per tick. Until mark has taken the
// counters at the phase's start (the collector starts before it), it
// passes on none.
func (r *rig) liveTick(tick func(harness.Progress)) func(harness.Progress) {
	if tick == nil {
		return nil
	}
	n := len(r.m.Stats())
	now := make([]cache.TierStats, n)
	counters := make([]harness.Counter, 0, n*len(tierCounterNames))
	for _, st := range r.m.Stats() {
		for _, name := range tierCounterNames {
			counters = append(counters, harness.Counter{Name: st.Name + "_" + name})
		}
	}
	return func(p harness.Progress) {
		if base := r.liveBase.Load(); base != nil {
			r.m.StatsInto(now)
			for i, st := range now {
				for j, v := range tierCounts(st.Since((*base)[i])) {
					counters[i*len(tierCounterNames)+j].Value = v
				}
			}
			p.Counters = counters
		}
		tick(p)
	}
}

// finish waits for pending writes, adds the tiers' measured-phase counters
// to out, notes what a reader should know about them, and closes the cache
// (noting an error).
func (r *rig) finish(out *Outcome) {
	out.Notes = append(out.Notes, r.injected...)
	r.m.Wait()
	for i, st := range r.m.Stats() {
		if i < len(r.base) {
			st = st.Since(r.base[i])
		}
		out.Tiers = append(out.Tiers, st)
	}
	out.TierLatency = r.timing.summaries()
	for i, st := range out.Tiers {
		p := st.Name + "_"
		for j, v := range tierCounts(st) {
			out.Counters[p+tierCounterNames[j]] = v
		}
		out.Counters[p+"degraded"] = 0
		if st.Degraded {
			out.Counters[p+"degraded"] = 1
			out.Notes = append(out.Notes, fmt.Sprintf("%s was degraded at the end of the run: its breaker was open, calls skipped it", st.Name))
		}
		if d, rj := st.SetsDropped, st.SetsRejected; d+rj > 0 {
			out.Notes = append(out.Notes, fmt.Sprintf("%s did not keep %d writes (%d dropped by ristretto's full set buffer, %d rejected by its admission policy); they are counted, not retried", st.Name, d+rj, d, rj))
		}
		if st.Errors+st.Skipped > 0 {
			out.Notes = append(out.Notes, failedNote(out.Tiers, i))
		}
		if st.Fault != nil {
			out.Notes = append(out.Notes, fmt.Sprintf("%s failed and was out of use from then on, every call to it an error: %v", st.Name, st.Fault))
		}
	}
	out.Component = r.desc
	// What was measured stands: a cache that does not close cleanly (a
	// tier abandoned after a fault) is told, not made the scenario's error.
	if err := r.close(); err != nil {
		out.Notes = append(out.Notes, fmt.Sprintf("closing the cache: %v", err))
	}
}

// failedNote says what became of the operations whose calls to tiers[i]
// failed or were skipped: the other tiers of the stack served them, or,
// when there is no other tier, nothing did and they failed. An operation
// fails (the cache returns an error) only when every tier failed it.
func failedNote(tiers []cache.TierStats, i int) string {
	st := tiers[i]
	what := fmt.Sprintf("%s failed %d calls", st.Name, st.Errors)
	if st.Skipped > 0 {
		what += fmt.Sprintf(" and skipped %d while its breaker was open", st.Skipped)
	}
	var others, failing []string
	for j, o := range tiers {
		if j == i {
			continue
		}
		others = append(others, o.Name)
		if o.Errors+o.Skipped > 0 {
			failing = append(failing, o.Name)
		}
	}
	switch {
	case len(others) == 0:
		return what + "; it is the only tier, so nothing served those operations: they failed (counted in errors)"
	case len(failing) == 0:
		return fmt.Sprintf("%s; the other tiers (%s) served those operations", what, strings.Join(others, ", "))
	default:
		return fmt.Sprintf("%s; the other tiers (%s) served those operations, but %s failed calls too: an operation failed (counted in errors) where every tier did",
			what, strings.Join(others, ", "), strings.Join(failing, ", "))
	}
}

// outcome starts an Outcome for a harness result.
func outcome(res *harness.Result) *Outcome {
	return &Outcome{Result: res, Counters: map[string]int64{}, Metrics: map[string]float64{}}
}

// measure runs the measured workload of a scenario that reads: newOp gets
// its worker's context (r.worker) and tally, zeroed when measuring starts,
// and the outcome gets the hits and misses summed over workers.
func (r *rig) measure(ctx context.Context, s config.Settings, kinds []string, newOp func(ctx context.Context, w int, t *tally) harness.Op) (*Outcome, error) {
	tallies := make([]tally, s.Concurrency)
	hc := plan(s)
	hc.Kinds = kinds
	hc.Tick = r.liveTick(s.Tick)
	hc.BeforeMeasure = func() {
		clear(tallies)
		r.mark()
	}
	res, err := harness.Run(ctx, hc, func(w int) harness.Op { return newOp(r.worker(ctx, w), w, &tallies[w]) })
	if err != nil {
		return nil, err
	}
	out := outcome(res)
	total := sum(tallies)
	out.Counters["hits"] = total.hits
	out.Counters["misses"] = total.misses
	derive(out, metric.HitRate) // n/a when no read succeeded
	if total.reads+total.writes > 0 {
		out.Counters["reads"] = total.reads
		out.Counters["writes"] = total.writes
		out.Counters["integrity_violations"] = total.violations
	}
	r.finish(out)
	// The share of reads L1 answered: with a key space larger than L1, the
	// rest come from the tiers below.
	if _, ok := out.Counters["l1_hits"]; ok {
		derive(out, metric.L1HitRate)
	}
	return out, nil
}

// get reads key and counts a hit or a miss in t.
func (r *rig) get(ctx context.Context, key string, t *tally) error {
	_, ok, err := r.m.Get(ctx, key)
	if ok {
		t.hits++
	} else if err == nil {
		t.misses++
	}
	return err
}
