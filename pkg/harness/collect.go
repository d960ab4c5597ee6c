package harness

import (
	"math"
	"time"

	"github.com/rustci/rustci-perf/pkg/latency"
)

// TickEvery is how often Config.Tick is called.
const TickEvery = 200 * time.Millisecond

// collector runs beside the workers during the measured phase: it takes the
// chunks they hand over, merges each into the interval it covers and into
// the running totals, closes an interval once every worker has moved past
// it, and calls Tick. Everything here runs on its own goroutine, never on a
// worker's, and reads only chunks a worker has let go of.
type collector struct {
	ws    []*worker
	kinds int
	every time.Duration
	tick  func(Progress)

	// upTo[i] is the first interval worker i may still record into:
	// every earlier one has all of its operations.
	upTo []int
	// open holds the intervals not yet closed, by index; closed the closed
	// ones, in order, and next the index of the next to close.
	open   map[int]*chunk
	closed []Interval
	next   int
	totals *chunk
	spare  []*chunk
	late   int

	done, stopped chan struct{}
	halted        bool
}

// newCollector gives every worker an empty chunk to swap for and makes
// the accumulators of the first intervals; go c.run() starts it.
func newCollector(ws []*worker, kinds int, every time.Duration, tick func(Progress)) *collector {
	c := &collector{
		ws: ws, kinds: kinds, every: every, tick: tick,
		upTo: make([]int, len(ws)), open: map[int]*chunk{},
		totals: newChunk(kinds),
		spare:  []*chunk{newChunk(kinds), newChunk(kinds)},
		done:   make(chan struct{}), stopped: make(chan struct{}),
	}
	for _, w := range ws {
		w.give.Store(newChunk(kinds))
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
			for i, w := range c.ws {
				if full := w.take.Swap(nil); full != nil {
					c.add(i, full)
					full.reset()
					w.give.Store(full)
				}
				// A worker that is done leaves its last chunk.
				if last := w.final.Swap(nil); last != nil {
					last.to = math.MaxInt
					c.add(i, last)
				}
			}
			c.closeUpTo(c.minUpTo())
			if c.tick != nil && now.Sub(lastTick) >= TickEvery {
				lastTick = now
				c.progress(now.Sub(start))
			}
		}
	}
}

// add merges worker i's chunk into the intervals and the totals.
func (c *collector) add(i int, ch *chunk) {
	if ch.to > ch.from+1 && ch.to != math.MaxInt {
		c.late++
	}
	acc := c.open[ch.from]
	if acc == nil {
		acc = c.newAcc()
		c.open[ch.from] = acc
	}
	for k := range c.kinds {
		acc.recs[k].Merge(ch.recs[k])
		acc.errs[k] += ch.errs[k]
		c.totals.recs[k].Merge(ch.recs[k])
		c.totals.errs[k] += ch.errs[k]
	}
	c.upTo[i] = max(c.upTo[i], ch.to)
}

func (c *collector) newAcc() *chunk {
	if n := len(c.spare); n > 0 {
		acc := c.spare[n-1]
		c.spare = c.spare[:n-1]
		return acc
	}
	return newChunk(c.kinds)
}

func (c *collector) minUpTo() int {
	m := math.MaxInt
	for _, u := range c.upTo {
		m = min(m, u)
	}
	return m
}

// closeUpTo closes every interval before end that is still open, in order;
// intervals no operation ended in are closed empty, so the series has no
// gaps.
func (c *collector) closeUpTo(end int) {
	for ; c.next < end; c.next++ {
		acc := c.open[c.next]
		if acc == nil && len(c.open) == 0 {
			return // nothing later is open: stop at the last one with data
		}
		iv := Interval{Start: time.Duration(c.next) * c.every, Length: c.every}
		if acc == nil {
			acc = c.newAcc()
		}
		delete(c.open, c.next)
		all, kinds, ops, errs := combine(acc, c.kinds, nil)
		iv.Latency, iv.Ops, iv.Errors = all.Compact(), ops, errs
		for _, k := range kinds {
			iv.Kinds = append(iv.Kinds, KindInterval{Ops: k.Ops, Errors: k.Errors, Latency: k.Latency.Compact()})
		}
		acc.reset()
		c.spare = append(c.spare, acc)
		c.closed = append(c.closed, iv)
	}
}

// combine returns the latencies of all kinds of ch merged, each kind's
// figures (when there are several), and the counts. names, when given,
// name the kinds.
func combine(ch *chunk, kinds int, names []string) (*latency.Recorder, []KindResult, int64, int64) {
	all := latency.NewRecorder()
	var ks []KindResult
	var ops, errs int64
	for k := range kinds {
		all.Merge(ch.recs[k])
		ops += ch.recs[k].Count()
		errs += ch.errs[k]
		if kinds > 1 {
			kr := KindResult{Ops: ch.recs[k].Count(), Errors: ch.errs[k], Latency: latency.NewRecorder()}
			kr.Latency.Merge(ch.recs[k])
			if k < len(names) {
				kr.Name = names[k]
			}
			ks = append(ks, kr)
		}
	}
	return all, ks, ops, errs
}

// progress calls tick with the operations done and the p99 so far.
func (c *collector) progress(elapsed time.Duration) {
	p := Progress{Elapsed: elapsed}
	for _, w := range c.ws {
		p.Ops += w.pub.Load()
	}
	seen := c.totals.recs[0]
	if c.kinds > 1 {
		seen = latency.NewRecorder()
		for k := range c.kinds {
			seen.Merge(c.totals.recs[k])
		}
	}
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
// still hold, closes every interval, and fills res's latencies, kinds and
// intervals.
func (c *collector) finish(res *Result, names []string) {
	c.stop()
	last := 0
	for i, w := range c.ws {
		if full := w.take.Swap(nil); full != nil {
			c.add(i, full)
		}
		if ch := w.final.Swap(nil); ch != nil {
			ch.to = math.MaxInt
			c.add(i, ch)
		}
		last = max(last, int(w.last/c.every)+1)
	}
	for idx := range c.open {
		last = max(last, idx+1)
	}
	c.closeUpTo(last)
	for i := range c.closed {
		for k := range c.closed[i].Kinds {
			c.closed[i].Kinds[k].Name = names[k]
		}
	}
	res.Intervals, res.LateHandOvers = c.closed, c.late
	res.Latency, res.Kinds, _, _ = combine(c.totals, c.kinds, names)
}
