package latency

import (
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Blocks are the histograms of consecutive intervals of one run, or of
// several runs, ready to be resampled whole (a block bootstrap). Latencies
// close in time are correlated — a GC pause or a busy neighbour slows many
// operations in a row — so resampling single operations, as if
// independent, gives intervals far too narrow; resampling whole intervals
// keeps the correlation inside each block.
//
// A replicate is a weight per block: how many times it was drawn (Draw).
// Blocks grouped by run are drawn in two stages, runs with replacement,
// then each drawn run's blocks with replacement, so run-to-run spread
// counts as well as interval-to-interval spread.
//
// Each block is held as cumulative counts over one grid, the buckets that
// hold a value in any block, so the percentile of a replicate is a binary
// search of the grid, each step a weighted sum over the blocks drawn.
type Blocks struct {
	values []int64   // per grid bucket: the value Percentile reports for it
	cum    [][]int64 // per block, per grid bucket: its values up to that bucket; nil for an empty block
	groups [][]int   // the blocks of each group (run), by index
}

// NewBlocks prepares the blocks of one run for resampling; blocks with no
// value are left out.
func NewBlocks(blocks []*Compact) *Blocks {
	var kept []*Compact
	for _, c := range blocks {
		if c != nil && c.Count() > 0 {
			kept = append(kept, c)
		}
	}
	return NewGroupedBlocks([][]*Compact{kept})
}

// NewGroupedBlocks prepares the blocks of several runs, one group per run,
// for two-stage resampling. Every block is kept, nil or empty ones too
// (an interval with no successful operation weighs in a throughput drawn
// with the same weights), and numbered in order, the first group's first:
// Draw's weights are by that number. Groups with no block are left out.
func NewGroupedBlocks(groups [][]*Compact) *Blocks {
	var grid []int32
	for _, g := range groups {
		for _, c := range g {
			if c != nil {
				grid = append(grid, c.idx...)
			}
		}
	}
	slices.Sort(grid)
	grid = slices.Compact(grid)
	at := make(map[int32]int, len(grid))
	for j, i := range grid {
		at[i] = j
	}
	b := &Blocks{values: make([]int64, len(grid))}
	sum := make([]int64, len(geometry.Counts)) // every block's counts: the grid's values
	for _, g := range groups {
		if len(g) == 0 {
			continue
		}
		var idx []int
		for _, c := range g {
			idx = append(idx, len(b.cum))
			if c == nil || c.Count() == 0 {
				b.cum = append(b.cum, nil)
				continue
			}
			v := make([]int64, len(grid))
			for k, i := range c.idx {
				v[at[i]] = c.counts[k]
			}
			for j := 1; j < len(v); j++ {
				v[j] += v[j-1]
			}
			b.cum = append(b.cum, v)
			for k, i := range c.idx {
				sum[i] += c.counts[k]
			}
		}
		b.groups = append(b.groups, idx)
	}
	// The summed histogram's buckets that hold values are the grid, in
	// the same order: its steps give each one's value.
	s := *geometry
	s.Counts = sum
	vals, _ := (&Recorder{h: hdrhistogram.Import(&s)}).Steps()
	copy(b.values, vals)
	return b
}

// Len is the number of blocks.
func (b *Blocks) Len() int { return len(b.cum) }

// Groups is the number of groups (runs).
func (b *Blocks) Groups() int { return len(b.groups) }

// Percentile returns percentile p (0..100) of all blocks together, as a
// Recorder holding them all would.
func (b *Blocks) Percentile(p float64) time.Duration {
	w := make([]int64, len(b.cum))
	for i := range w {
		w[i] = 1
	}
	return b.Weighted(w, p)
}

// Draw draws one replicate into w (resized to Len) and returns it: with
// one group, Len blocks with replacement; with several, as many groups
// with replacement, then each drawn group's blocks with replacement
// within it. w[i] is how many times block i was drawn.
func (b *Blocks) Draw(r *rand.Rand, w []int64) []int64 {
	if cap(w) < len(b.cum) {
		w = make([]int64, len(b.cum))
	}
	w = w[:len(b.cum)]
	clear(w)
	if len(b.groups) == 1 {
		g := b.groups[0]
		for range g {
			w[g[r.IntN(len(g))]]++
		}
		return w
	}
	for range b.groups {
		g := b.groups[r.IntN(len(b.groups))]
		for range g {
			w[g[r.IntN(len(g))]]++
		}
	}
	return w
}

// Weighted returns percentile p of the blocks taken w[i] times each, by
// hdrhistogram's rule: the value of the bucket holding rank round(p/100 x
// total), at least 1; 0 when they hold no value.
func (b *Blocks) Weighted(w []int64, p float64) time.Duration {
	var total int64
	for i, n := range w {
		if n > 0 && b.cum[i] != nil {
			total += n * b.cum[i][len(b.cum[i])-1]
		}
	}
	if total == 0 {
		return 0
	}
	rank := max(1, int64(p/100*float64(total)+0.5))
	j := sort.Search(len(b.values), func(j int) bool {
		var seen int64
		for i, n := range w {
			if n > 0 && b.cum[i] != nil {
				seen += n * b.cum[i][j]
			}
		}
		return seen >= rank
	})
	return time.Duration(b.values[min(j, len(b.values)-1)])
}

// resample returns percentile p of one replicate (Draw). scratch, when
// long enough, holds the weights.
func (b *Blocks) resample(r *rand.Rand, p float64, scratch []int64) time.Duration {
	if len(b.cum) == 0 {
		return 0
	}
	return b.Weighted(b.Draw(r, scratch), p)
}

// Interval returns the central conf (0.95) confidence interval of
// percentile p by the percentile bootstrap over reps replicates, seeded so
// that a report is reproducible.
func (b *Blocks) Interval(p, conf float64, reps int, seed uint64) (lo, hi time.Duration) {
	r := rand.New(rand.NewPCG(seed, 0xb10c))
	scratch := make([]int64, len(b.cum))
	reps = max(reps, 1)
	vals := make([]time.Duration, reps)
	for i := range vals {
		vals[i] = b.resample(r, p, scratch)
	}
	slices.Sort(vals)
	tail := (1 - conf) / 2
	return vals[int(tail*float64(reps-1))], vals[int((1-tail)*float64(reps-1)+0.5)]
}
