package latency

import (
	"math/rand/v2"
	"slices"
	"time"
)

// Blocks are the histograms of consecutive intervals of one run, ready to
// be resampled whole (a block bootstrap). Latencies close in time are
// correlated — a GC pause or a busy neighbour slows many operations in a
// row — so resampling single operations, as if independent, gives
// intervals far too narrow; resampling whole intervals keeps the
// correlation inside each block.
//
// Each block is held as counts over one grid, the buckets that hold a value
// in any block, so a replicate is a sum of vectors and a walk up to the
// rank.
type Blocks struct {
	values []int64   // per grid bucket: the value Percentile reports for it
	counts [][]int64 // per block, per grid bucket
}

// NewBlocks prepares blocks for resampling; blocks with no value are left
// out.
func NewBlocks(blocks []*Compact) *Blocks {
	var grid []int32
	for _, c := range blocks {
		grid = append(grid, c.idx...)
	}
	slices.Sort(grid)
	grid = slices.Compact(grid)
	at := make(map[int32]int, len(grid))
	for j, i := range grid {
		at[i] = j
	}
	b := &Blocks{values: make([]int64, len(grid))}
	all := NewRecorder()
	for _, c := range blocks {
		if c.Count() == 0 {
			continue
		}
		v := make([]int64, len(grid))
		for k, i := range c.idx {
			v[at[i]] = c.counts[k]
		}
		b.counts = append(b.counts, v)
		all.Merge(c.Recorder())
	}
	// The merged histogram's buckets that hold values are the grid, in
	// the same order: its steps give each one's value.
	vals, _ := all.Steps()
	copy(b.values, vals)
	return b
}

// Len is the number of blocks.
func (b *Blocks) Len() int { return len(b.counts) }

// Percentile returns percentile p (0..100) of all blocks together, as a
// Recorder holding them all would.
func (b *Blocks) Percentile(p float64) time.Duration {
	sum := make([]int64, len(b.values))
	for _, c := range b.counts {
		for j, n := range c {
			sum[j] += n
		}
	}
	return b.at(sum, p)
}

// at returns percentile p of the distribution counts, by hdrhistogram's
// rule: the value of the bucket holding rank round(p/100 x total), at
// least 1.
func (b *Blocks) at(counts []int64, p float64) time.Duration {
	var total int64
	for _, n := range counts {
		total += n
	}
	if total == 0 {
		return 0
	}
	rank := max(1, int64(p/100*float64(total)+0.5))
	var seen int64
	for j, n := range counts {
		seen += n
		if seen >= rank {
			return time.Duration(b.values[j])
		}
	}
	return time.Duration(b.values[len(b.values)-1])
}

// Resample returns percentile p of one replicate: Len blocks drawn with
// replacement. scratch, when long enough, is used for the sum.
func (b *Blocks) Resample(r *rand.Rand, p float64, scratch []int64) time.Duration {
	if len(b.counts) == 0 {
		return 0
	}
	if cap(scratch) < len(b.values) {
		scratch = make([]int64, len(b.values))
	}
	sum := scratch[:len(b.values)]
	clear(sum)
	for range b.counts {
		for j, n := range b.counts[r.IntN(len(b.counts))] {
			sum[j] += n
		}
	}
	return b.at(sum, p)
}

// Interval returns the central conf (0.95) confidence interval of
// percentile p by the percentile bootstrap over reps replicates, seeded so
// that a report is reproducible.
func (b *Blocks) Interval(p, conf float64, reps int, seed uint64) (lo, hi time.Duration) {
	r := rand.New(rand.NewPCG(seed, 0xb10c))
	scratch := make([]int64, len(b.values))
	reps = max(reps, 1)
	vals := make([]time.Duration, reps)
	for i := range vals {
		vals[i] = b.Resample(r, p, scratch)
	}
	slices.Sort(vals)
	tail := (1 - conf) / 2
	return vals[int(tail*float64(reps-1))], vals[int((1-tail)*float64(reps-1)+0.5)]
}
