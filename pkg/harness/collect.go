package harness

import (
	"math"
	"time"

	"github.com/rustci/rustci-perf/pkg/latency"
)

// TickEvery is how often Config.Tick is called.
const TickEvery = 200 * time.Millisecond

// collector runs beside the workers during the measured phase: it takes the
// chunks they hand over, merges each into the interval it covers, and calls
// Tick. The totals are the intervals summed, once the phase is over: one
// merge per worker and interval while the phase runs, not two, which at 50
// workers was 3% of the client's CPU, taken from the component under test
// on a 2-CPU machine. Everything here runs on its own
// goroutine, never on a worker's, and reads only chunks a worker has let go
// of.
//
// It allocates nothing while the phase runs when its length is known: an
// accumulator per interval is made beforehand, and intervals are summed
// up (compacted, combined across kinds) only once the workers are done.
// An allocation during the phase would bring the garbage collector's
// marking onto the two CPUs the workers share, and a component that
// allocates nothing (an L1 read, a limiter check) measured half as fast in
// a run after others that left a large heap: 6M instead of 11M reads/s.
type collector struct {
	ws    []*worker
	kinds int
	every time.Duration
	tick  func(Progress)

	// accs are the intervals' accumulators, by index; made beforehand for
	// a phase of known length, on demand past it.
	accs   []*chunk
	totals *chunk
	// folded is how many intervals, from the first, totals holds while the
	// phase runs, for Tick's p99; finish sums them all again.
	folded int
	seen   *latency.Recorder // scratch for Tick's p99 over kinds
	// parts are Progress.Kinds, made once, refilled at each tick.
	parts []KindProgress
	late  int

	done, stopped chan struct{}
	halted        bool
}

// newCollector gives every worker an empty chunk to swap for and makes the
// accumulators of the intervals a phase of length planned holds (0:
// unknown); go c.run() starts it.
func newCollector(ws []*worker, kinds int, names []string, every, planned time.Duration, tick func(Progress)) *collector {
	n := 2
	if planned > 0 {
		n += int(planned / every)
	}
	c := &collector{
		ws: ws, kinds: kinds, every: every, tick: tick,
		accs:   make([]*chunk, n),
		totals: newChunk(kinds),
		seen:   latency.NewRecorder(),
		done:   make(chan struct{}), stopped: make(chan struct{}),
	}
	for i := range c.accs {
		c.accs[i] = newChunk(kinds)
	}
	for _, w := range ws {
		w.give.Store(newChunk(kinds))
	}
	if kinds > 1 {
		c.parts = make([]KindProgress, kinds)
		for k := range c.parts {
			if k < len(names) {
				c.parts[k].Name = names[k]
			}
		}
	}
	return c
}

// poll is how often the collector looks for chunks: often enough that a
// worker finds an empty chunk waiting at every interval's end.
func (c *collector) poll() time.Duration {
	return min(c.every/5, 20*time.Millisecond)
}

func (c *collector) run() {
	defer close(c.stopped)
	t := time.NewTicker(c.poll())
	defer t.Stop()
	start := time.Now()
	lastTick := start
	for {
		select {
		case <-c.done:
			return
		case now := <-t.C:
			for _, w := range c.ws {
				if full := w.take.Swap(nil); full != nil {
					c.add(full)
					full.reset()
					w.give.Store(full)
				}
				// A worker that is done leaves its last chunk.
				if last := w.final.Swap(nil); last != nil {
					last.to = math.MaxInt
					c.add(last)
				}
			}
			if c.tick != nil && now.Sub(lastTick) >= TickEvery {
				lastTick = now
				c.progress(now.Sub(start))
			}
		}
	}
}

// add merges a worker's chunk into the interval it covers.
func (c *collector) add(ch *chunk) {
	if ch.to > ch.from+1 && ch.to != math.MaxInt {
		c.late++
	}
	for ch.from >= len(c.accs) {
		c.accs = append(c.accs, newChunk(c.kinds))
	}
	acc := c.accs[ch.from]
	for k := range c.kinds {
		acc.recs[k].Merge(ch.recs[k])
		acc.errs[k] += ch.errs[k]
	}
}

// fold merges into totals the intervals from folded up to (not including)
// upTo.
func (c *collector) fold(upTo int) {
	for ; c.folded < min(upTo, len(c.accs)); c.folded++ {
		for k := range c.kinds {
			c.totals.recs[k].Merge(c.accs[c.folded].recs[k])
			c.totals.errs[k] += c.accs[c.folded].errs[k]
		}
	}
}

// progress calls tick with the operations done, and the latencies, errors
// and p99 so far: of the intervals before the one still running, less
// what workers still hold. It hands tick its own histograms (totals, and
// seen, the kinds merged) to read during the call: nothing is copied or
// allocated here.
func (c *collector) progress(elapsed time.Duration) {
	c.fold(int(elapsed/c.every) - 1)
	p := Progress{Elapsed: elapsed, Through: time.Duration(c.folded) * c.every}
	for _, w := range c.ws {
		p.Ops += w.pub.Load()
	}
	seen := c.totals.recs[0]
	if c.kinds > 1 {
		seen = c.seen
		seen.Reset()
		for k := range c.kinds {
			seen.Merge(c.totals.recs[k])
			c.parts[k].Latency, c.parts[k].Errors = c.totals.recs[k], c.totals.errs[k]
		}
		p.Kinds = c.parts
	}
	for k := range c.kinds {
		p.Errors += c.totals.errs[k]
	}
	p.Latency = seen
	if seen.Count() > 0 {
		p.P99 = seen.Percentile(99)
	}
	c.tick(p)
}

// stop stops the collector's goroutine and waits for it; it may be called
// more than once.
func (c *collector) stop() {
	if !c.halted {
		c.halted = true
		close(c.done)
	}
	<-c.stopped
}

// finish stops the collector once the workers are done, takes what they
// still hold, and fills res's latencies, kinds and intervals: every
// interval from the first to the last an operation ended in, empty ones
// included, so the series has no gaps.
func (c *collector) finish(res *Result, names []string) {
	c.stop()
	last := 0
	for _, w := range c.ws {
		if full := w.take.Swap(nil); full != nil {
			c.add(full)
		}
		if ch := w.final.Swap(nil); ch != nil {
			ch.to = math.MaxInt
			c.add(ch)
		}
		last = max(last, int(w.last/c.every)+1)
	}
	for i, acc := range c.accs {
		if acc.count() > 0 {
			last = max(last, i+1)
		}
	}
	for i := range min(last, len(c.accs)) {
		iv := Interval{Start: time.Duration(i) * c.every, Length: c.every}
		all, kinds, ops, errs := combine(c.accs[i], c.kinds, names)
		iv.Latency, iv.Ops, iv.Errors = all.Compact(), ops, errs
		for _, k := range kinds {
			iv.Kinds = append(iv.Kinds, KindInterval{Name: k.Name, Ops: k.Ops, Errors: k.Errors, Latency: k.Latency.Compact()})
		}
		res.Intervals = append(res.Intervals, iv)
	}
	res.LateHandOvers = c.late
	// Every interval, summed anew: a late hand-over may have added to one
	// that progress had folded already.
	c.totals.reset()
	c.folded = 0
	c.fold(len(c.accs))
	res.Latency, res.Kinds, _, _ = combine(c.totals, c.kinds, names)
}

// combine returns the latencies of all kinds of ch merged, each kind's
// figures (when there are several), and the counts. names name the kinds.
func combine(ch *chunk, kinds int, names []string) (*latency.Recorder, []KindResult, int64, int64) {
	all := latency.NewRecorder()
	var ks []KindResult
	var ops, errs int64
	for k := range kinds {
		all.Merge(ch.recs[k])
		ops += ch.recs[k].Count()
		errs += ch.errs[k]
		if kinds > 1 {
			kr := KindResult{Ops: ch.recs[k].Count(), Errors: ch.errs[k], Latency: ch.recs[k]}
			if k < len(names) {
				kr.Name = names[k]
			}
			ks = append(ks, kr)
		}
	}
	return all, ks, ops, errs
}
