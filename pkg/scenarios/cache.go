package scenarios

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/rustci/rustci-perf/pkg/cache"
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/workload"
)

// tierCounters are the per-tier counters a cache scenario reports, each as
// "<tier>_<name>" (l1_hits, l2_errors, ...), measured phase only. Only the
// tiers in the stack are reported; a threshold on another fails as n/a.
var tierCounters = []string{"hits", "misses", "sets", "added", "sets_dropped", "sets_rejected", "evictions", "errors", "skipped", "promotions", "degraded"}

// cacheMetrics returns the metric names of a cache scenario: its own, then
// the tier counters of every tier it may run on.
func cacheMetrics(own ...string) []string {
	out := append([]string(nil), own...)
	for _, t := range []string{"l1", "l2", "l3"} {
		for _, c := range tierCounters {
			out = append(out, t+"_"+c)
		}
	}
	return out
}

// rig is a cache under test, with its tiers' counters at the start of the
// measured phase so that setup and warmup can be subtracted.
type rig struct {
	m      *cache.Manager
	timing *tierTiming
	ttl    time.Duration
	desc   string
	base   []cache.TierStats
	closed bool
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
	fail := func(err error) (*rig, error) {
		for _, t := range built {
			t.Close()
		}
		return nil, err
	}
	for _, name := range tiers {
		switch name {
		case "l1":
			l1, err := cache.NewL1(cache.L1Config{MaxCostBytes: c.L1.MaxCostBytes, NumCounters: c.L1.NumCounters})
			if err != nil {
				return fail(err)
			}
			built = append(built, l1)
			descs = append(descs, fmt.Sprintf("l1 ristretto (max cost %d bytes, %d counters)", c.L1.MaxCostBytes, c.L1.NumCounters))
		case "l2":
			l2, err := cache.NewL2(cache.L2Config{
				URL: c.L2.URL, Cluster: c.L2.Cluster, SentinelMaster: c.L2.SentinelMaster,
				Timeout: time.Duration(c.L2.Timeout), PoolSize: poolSize(s), CAFile: c.L2.TLSCAFile,
				// A run of its own under the configured prefix: runs
				// sharing a Redis never read each other's keys.
				Prefix: c.L2.Prefix + runID() + ":",
			})
			if err != nil {
				return fail(err)
			}
			built = append(built, l2)
			descs = append(descs, l2.String())
		case "l3":
			l3, err := cache.NewL3(cache.L3Config{Dir: c.L3.Dir})
			if err != nil {
				return fail(err)
			}
			built = append(built, l3)
			descs = append(descs, l3.String())
		default:
			return fail(fmt.Errorf("unknown tier %q", name))
		}
	}
	shared := slices.Contains(tiers, "l2")
	timing := newTierTiming(tiers)
	m, err := cache.New(cache.Options{
		BreakerFailures: uint32(c.Breaker.Failures),
		BreakerBackoff:  time.Duration(c.Breaker.Backoff),
		Invalidate:      shared,
		Observe:         timing.observe,
	}, built...)
	if err != nil {
		return fail(err)
	}
	return &rig{
		m:      m,
		timing: timing,
		ttl:    time.Duration(c.TTL),
		desc:   "cache: " + strings.Join(descs, ", ") + ", ttl " + time.Duration(c.TTL).String(),
	}, nil
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
	r.timing.reset()
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

// finish waits for pending writes, adds the tiers' measured-phase counters
// to out, notes what a reader should know about them, and closes the cache
// (noting an error).
func (r *rig) finish(out *Outcome) {
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
		out.Counters[p+"hits"] = int64(st.Hits)
		out.Counters[p+"misses"] = int64(st.Misses)
		out.Counters[p+"sets"] = int64(st.Sets)
		out.Counters[p+"added"] = int64(st.Added)
		out.Counters[p+"sets_dropped"] = int64(st.SetsDropped)
		out.Counters[p+"sets_rejected"] = int64(st.SetsRejected)
		out.Counters[p+"evictions"] = int64(st.Evictions)
		out.Counters[p+"errors"] = int64(st.Errors)
		out.Counters[p+"skipped"] = int64(st.Skipped)
		out.Counters[p+"promotions"] = int64(st.Promotions)
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

var cacheWrite = &Scenario{
	Name:    "cache-write",
	Group:   "cache",
	Summary: "Set of distinct keys, each worker its own, written through every tier",
	Metrics: cacheMetrics(),
	run:     runCacheWrite,
}

func runCacheWrite(ctx context.Context, s config.Settings) (*Outcome, error) {
	r, err := newRig(s)
	if err != nil {
		return nil, err
	}
	defer r.close()
	return r.writeAll(ctx, s)
}

// writeAll measures Sets of each worker's own keys; it finishes r.
func (r *rig) writeAll(ctx context.Context, s config.Settings) (*Outcome, error) {
	vals := values(s, s.Seed, valuePool(s))
	wkeys := workerKeys(s, "w")
	hc := plan(s)
	hc.BeforeMeasure = r.mark
	res, err := harness.Run(ctx, hc, r.writer(ctx, wkeys, vals))
	if err != nil {
		return nil, err
	}
	out := outcome(res)
	cycleNote(out, s, "writes")
	r.finish(out)
	return out, nil
}

// writer returns Ops that write each worker's own keys in turn, values
// from vals.
func (r *rig) writer(ctx context.Context, wkeys [][]string, vals [][]byte) func(w int) harness.Op {
	return func(w int) harness.Op {
		ks := wkeys[w]
		return func(i int) (harness.Kind, error) {
			return 0, r.m.Set(ctx, ks[i%len(ks)], vals[i%len(vals)], r.ttl)
		}
	}
}

var cacheRead = &Scenario{
	Name:    "cache-read",
	Group:   "cache",
	Summary: "Get of keys written before the run; hit rate",
	Metrics: cacheMetrics("hits", "misses", "hit_rate", "l1_hit_rate"),
	run:     runCacheRead,
}

// readKeys is how many keys cache-read and latency write before measuring:
// the configured key space, else one per measured operation when the count
// is known (at most maxKeys).
func readKeys(s config.Settings) int {
	switch {
	case s.Keys > 0:
		return s.Keys
	case s.Duration > 0 || len(s.Stages) > 0:
		return keySpaceTimed
	}
	return min(s.Ops, maxKeys)
}

// readSpace returns the keys a reading scenario writes before measuring and,
// per worker, what picks the next one: a trace's keys and replay, or
// readKeys(s) keys picked by the configured distribution.
func readSpace(s config.Settings) ([]string, func(w int) *workload.Keys, string, error) {
	if t := s.Trace; t != nil {
		return t.Keys, func(w int) *workload.Keys { return t.Replay(w, s.Concurrency) },
			fmt.Sprintf("reads replay a trace of %d keys over %d distinct ones", len(t.Seq), len(t.Keys)), nil
	}
	ks := keys("k", readKeys(s))
	pick, err := picker(s, ks)
	return ks, pick, fmt.Sprintf("reads pick among %d keys: %s", len(ks), s.Distribution), err
}

// picker returns, per worker, a function choosing the next key of ks by the
// configured distribution.
func picker(s config.Settings, ks []string) (func(w int) *workload.Keys, error) {
	space, err := s.Distribution.Prepare(len(ks))
	if err != nil {
		return nil, err
	}
	return func(w int) *workload.Keys { return space.Keys(s.Seed, w, s.Concurrency) }, nil
}

func runCacheRead(ctx context.Context, s config.Settings) (*Outcome, error) {
	r, err := newRig(s)
	if err != nil {
		return nil, err
	}
	defer r.close()
	return r.readAll(ctx, s)
}

// readAll writes readKeys(s) keys, waits until they are visible, then
// measures Gets of them, picked by the configured distribution (with
// sequential, workers start at evenly spaced keys and walk forward, so
// together they read every key once per pass).
func (r *rig) readAll(ctx context.Context, s config.Settings) (*Outcome, error) {
	ks, pick, how, err := readSpace(s)
	if err != nil {
		return nil, err
	}
	if err := r.fill(ctx, ks, values(s, s.Seed, valuePool(s))); err != nil {
		return nil, fmt.Errorf("fill: %w", err)
	}
	out, err := r.measure(ctx, s, nil, func(w int, t *tally) harness.Op {
		next := pick(w)
		return func(int) (harness.Kind, error) {
			return 0, r.get(ctx, ks[next.Next()], t)
		}
	})
	if err != nil {
		return nil, err
	}
	out.Notes = append(out.Notes, how)
	return out, nil
}

// measure runs the measured workload of a scenario that reads: newOp gets
// its worker's tally, zeroed when measuring starts, and the outcome gets the
// hits and misses summed over workers.
func (r *rig) measure(ctx context.Context, s config.Settings, kinds []string, newOp func(w int, t *tally) harness.Op) (*Outcome, error) {
	tallies := make([]tally, s.Concurrency)
	hc := plan(s)
	hc.Kinds = kinds
	hc.BeforeMeasure = func() {
		clear(tallies)
		r.mark()
	}
	res, err := harness.Run(ctx, hc, func(w int) harness.Op { return newOp(w, &tallies[w]) })
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

var cacheL2 = &Scenario{
	Name:    "cache-l2",
	Group:   "cache",
	Summary: "Get served by L2 (Redis) alone: keys written before, no L1 in front",
	Metrics: cacheMetrics("hits", "misses", "hit_rate"),
	Unmet: func(s config.Settings) string {
		if s.Cache.L2.URL == "" {
			return "no Redis URL (--redis-url, RUSTCI_PERF_REDIS_URL or cache.l2.url)"
		}
		return ""
	},
	run: func(ctx context.Context, s config.Settings) (*Outcome, error) { return runTierRead(ctx, s, "l2") },
}

var cacheL3 = &Scenario{
	Name:    "cache-l3",
	Group:   "cache",
	Summary: "Get served by L3 (Pebble on disk) alone: keys written before, no L1 in front",
	Metrics: cacheMetrics("hits", "misses", "hit_rate"),
	run:     func(ctx context.Context, s config.Settings) (*Outcome, error) { return runTierRead(ctx, s, "l3") },
}

// runTierRead measures the read path of one tier below L1, on a stack of
// that tier alone: what a read costs when L1 misses.
func runTierRead(ctx context.Context, s config.Settings, tier string) (*Outcome, error) {
	r, err := newRig(s, tier)
	if err != nil {
		return nil, err
	}
	defer r.close()
	return r.readAll(ctx, s)
}

var concurrent = &Scenario{
	Name:    "concurrent",
	Group:   "concurrent",
	Summary: "mixed writes and reads (read_ratio 0.8); every value read must be the one written",
	Metrics: cacheMetrics("reads", "writes", "hits", "misses", "hit_rate", "l1_hit_rate", "integrity_violations"),
	Kinds:   mixedKinds,
	run:     runConcurrent,
}

// concurrentValueBudget bounds the bytes of distinct values concurrent keeps
// to check reads against; past it, workers cycle over fewer keys.
const concurrentValueBudget = 64 << 20

func runConcurrent(ctx context.Context, s config.Settings) (*Outcome, error) {
	r, err := newRig(s)
	if err != nil {
		return nil, err
	}
	defer r.close()
	// Each worker owns its keys, and each key always gets the same value,
	// distinct from every other key's: whatever a read returns is either a
	// miss or exactly that value, whatever the order in which ristretto
	// applies writes. Anything else is an integrity violation.
	perWorker := max(1, concurrentValueBudget/s.ValueSizeMax/s.Concurrency)
	wkeys := make([][]string, s.Concurrency)
	wvals := make([][][]byte, s.Concurrency)
	for w := range wkeys {
		n := min(perWorker, int(float64(calls(s, w))*(1-s.ReadRatio))+1)
		wkeys[w] = keys(fmt.Sprintf("c%d", w), n)
		wvals[w] = values(s, s.Seed+int64(w)+1, n)
	}
	out, err := r.measure(ctx, s, mixedKinds, func(w int, t *tally) harness.Op {
		ks, vs := wkeys[w], wvals[w]
		rng := rand.New(rand.NewPCG(uint64(s.Seed), uint64(w)))
		written, nw := 0, 0
		return func(int) (harness.Kind, error) {
			// A worker's first operation writes, so that reads have a
			// key of its own to read.
			if written == 0 || rng.Float64() >= s.ReadRatio {
				j := nw % len(ks)
				nw++
				written = max(written, j+1)
				t.writes++
				return kindWrite, r.m.Set(ctx, ks[j], vs[j], r.ttl)
			}
			j := rng.IntN(written)
			t.reads++
			v, ok, err := r.m.Get(ctx, ks[j])
			switch {
			case err != nil:
				return kindRead, err
			case !ok:
				t.misses++
			case !bytes.Equal(v, vs[j]):
				t.violations++
				t.hits++
			default:
				t.hits++
			}
			return kindRead, nil
		}
	})
	if err != nil {
		return nil, err
	}
	out.Notes = append(out.Notes, "a read may miss a key whose write ristretto has not applied yet; only a wrong value counts as a violation")
	return out, nil
}

var memory = &Scenario{
	Name:    "memory",
	Group:   "memory",
	Summary: "Set of distinct items; heap retained per item, allocations per Set",
	Metrics: cacheMetrics("items_stored", "heap_bytes", "heap_bytes_per_item", "allocs_per_op"),
	run:     runMemory,
}

// sizes describes the value sizes of s.
func sizes(s config.Settings) string {
	if s.ValueSizeMax > s.ValueSize {
		return fmt.Sprintf("%d to %d bytes", s.ValueSize, s.ValueSizeMax)
	}
	return fmt.Sprintf("%d bytes each", s.ValueSize)
}

// settle collects garbage twice: the first cycle moves sync.Pool contents
// (ristretto pools its read buffers) to the pools' victim caches, the second
// frees them, so the live heap read next holds no leftovers of earlier runs.
func settle() {
	runtime.GC()
	runtime.GC()
}

func runMemory(ctx context.Context, s config.Settings) (*Outcome, error) {
	r, err := newRig(s)
	if err != nil {
		return nil, err
	}
	defer r.close()
	return r.memory(ctx, s)
}

// memory measures the heap the cache adds per item stored, and the
// allocations per Set, over distinct items; it finishes r.
func (r *rig) memory(ctx context.Context, s config.Settings) (*Outcome, error) {
	// Keys and values exist before the measured phase and the cache keeps
	// references to them, not copies: the heap growth measured is what the
	// cache itself adds per item.
	vals := values(s, s.Seed, valuePool(s))
	wkeys := workerKeys(s, "m")
	var before, after runtime.MemStats
	hc := plan(s)
	hc.BeforeMeasure = func() {
		r.mark()
		settle()
		runtime.ReadMemStats(&before)
	}
	hc.AfterMeasure = func() {
		// Mallocs first: waiting and collecting allocate too.
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		after.Mallocs = m.Mallocs
		r.m.Wait()
		settle()
		runtime.ReadMemStats(&m)
		after.HeapAlloc = m.HeapAlloc
	}
	res, err := harness.Run(ctx, hc, r.writer(ctx, wkeys, vals))
	if err != nil {
		return nil, err
	}
	out := outcome(res)
	cycleNote(out, s, "writes")
	r.finish(out)
	// Items the cache holds that it did not before: keys added, less those
	// evicted to make room (overwrites of a key add nothing).
	stored := out.Counters["l1_added"] - out.Counters["l1_evictions"]
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	out.Counters["items_stored"] = stored
	out.Counters["heap_bytes"] = heap
	derive(out, metric.HeapBytesPerItem) // n/a when no item was stored
	out.Metrics["allocs_per_op"] = ratio(int64(after.Mallocs-before.Mallocs), res.Ops+res.Errors)
	if stored > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("heap_bytes_per_item is the live heap growth after GC over %d stored items; values (%s) were allocated before and are referenced, not copied", stored, sizes(s)))
	} else {
		out.Notes = append(out.Notes, notStored(out, s))
	}
	return out, nil
}

// notStored says why the memory scenario's measured Sets stored no new
// item, so that heap_bytes_per_item has nothing to divide by.
func notStored(out *Outcome, s config.Settings) string {
	_, hasL1 := out.Counters["l1_added"]
	space := int64(keySpace(s))
	switch {
	case !hasL1:
		return "no item stored: items are counted in L1, which is not in the stack"
	case out.WarmupOps >= space:
		return fmt.Sprintf("no item stored: the warmup's %d Sets had already written each of the %d distinct keys the writes cycle over, so the measured Sets overwrote stored items; a warmup by count (--warmup 1000) gives every operation a key of its own",
			out.WarmupOps, space)
	case out.Counters["l1_evictions"] > 0:
		return fmt.Sprintf("no item stored: L1 evicted %d items while adding %d (it is full)", out.Counters["l1_evictions"], out.Counters["l1_added"])
	}
	return fmt.Sprintf("no item stored: L1 added %d items and evicted %d (ristretto dropped or rejected the rest of the Sets)", out.Counters["l1_added"], out.Counters["l1_evictions"])
}

var latencyScenario = &Scenario{
	Name:    "latency",
	Group:   "latency",
	Summary: "latency distribution of a Get/Set mix (read_ratio 0.9) on keys written before",
	Metrics: cacheMetrics("hits", "misses", "hit_rate", "l1_hit_rate"),
	Kinds:   mixedKinds,
	run:     runLatency,
}

func runLatency(ctx context.Context, s config.Settings) (*Outcome, error) {
	r, err := newRig(s)
	if err != nil {
		return nil, err
	}
	defer r.close()
	ks, pick, _, err := readSpace(s)
	if err != nil {
		return nil, err
	}
	vals := values(s, s.Seed, valuePool(s))
	if err := r.fill(ctx, ks, vals); err != nil {
		return nil, fmt.Errorf("fill: %w", err)
	}
	return r.measure(ctx, s, mixedKinds, func(w int, t *tally) harness.Op {
		rng := rand.New(rand.NewPCG(uint64(s.Seed), uint64(w)))
		next := pick(w)
		return func(int) (harness.Kind, error) {
			k := ks[next.Next()]
			if rng.Float64() >= s.ReadRatio {
				return kindWrite, r.m.Set(ctx, k, vals[rng.IntN(len(vals))], r.ttl)
			}
			return kindRead, r.get(ctx, k, t)
		}
	})
}
