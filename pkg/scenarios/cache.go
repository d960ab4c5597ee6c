package scenarios

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"

	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/metric"
)

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
	hc.Tick = r.liveTick(s.Tick)
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
		ks, ctx := wkeys[w], r.worker(ctx, w)
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
	out, err := r.measure(ctx, s, nil, func(ctx context.Context, w int, t *tally) harness.Op {
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
	out, err := r.measure(ctx, s, mixedKinds, func(ctx context.Context, w int, t *tally) harness.Op {
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
	Metrics: cacheMetrics("items_stored", "heap_bytes", "heap_bytes_per_item"),
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
	// The allocations per Set are the harness's, read inside these two
	// (allocs_per_op, as every scenario has): waiting and collecting
	// here allocate too, and are not counted.
	var before, after runtime.MemStats
	hc := plan(s)
	hc.Tick = r.liveTick(s.Tick)
	hc.BeforeMeasure = func() {
		r.mark()
		settle()
		runtime.ReadMemStats(&before)
	}
	hc.AfterMeasure = func() {
		r.m.Wait()
		settle()
		runtime.ReadMemStats(&after)
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
	return r.measure(ctx, s, mixedKinds, func(ctx context.Context, w int, t *tally) harness.Op {
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
