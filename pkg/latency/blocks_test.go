package latency

import (
	"math/rand/v2"
	"testing"
	"time"
)

// block is a Compact of n values from lo, step apart.
func block(lo, step time.Duration, n int) *Compact {
	r := NewRecorder()
	for i := range n {
		r.Record(lo + time.Duration(i)*step)
	}
	return r.Compact()
}

// TestBlocksWeighted: the percentile of blocks taken w times each is the
// one of a Recorder holding each block's values w times.
func TestBlocksWeighted(t *testing.T) {
	blocks := [][]*Compact{
		{block(time.Microsecond, 10*time.Nanosecond, 1000), nil, block(3*time.Microsecond, time.Nanosecond, 10)},
		{NewRecorder().Compact(), block(50*time.Microsecond, time.Microsecond, 300)},
	}
	b := NewGroupedBlocks(blocks)
	if b.Len() != 5 || b.Groups() != 2 {
		t.Fatalf("Len() = %d, Groups() = %d; want 5, 2 (empty blocks kept)", b.Len(), b.Groups())
	}
	for _, w := range [][]int64{
		{1, 1, 1, 1, 1}, // all once: Percentile
		{0, 0, 0, 0, 3}, // the slow block alone
		{2, 0, 1, 5, 0}, // repeats, and an empty block drawn
		{0, 4, 0, 2, 0}, // only empty blocks: 0
	} {
		want := NewRecorder()
		flat := []*Compact{blocks[0][0], blocks[0][1], blocks[0][2], blocks[1][0], blocks[1][1]}
		for i, n := range w {
			for range n {
				if flat[i] != nil {
					want.Merge(flat[i].Recorder())
				}
			}
		}
		for _, p := range []float64{1, 50, 99, 99.9, 100} {
			if got := b.Weighted(w, p); got != want.Percentile(p) {
				t.Errorf("Weighted(%v, %g) = %s; want %s", w, p, got, want.Percentile(p))
			}
		}
	}
	if got, want := b.Percentile(99), b.Weighted([]int64{1, 1, 1, 1, 1}, 99); got != want {
		t.Errorf("Percentile(99) = %s; want %s", got, want)
	}
}

// TestBlocksDraw: one group draws Len blocks; several draw as many groups,
// then each drawn group's own blocks, so a replicate's weight is the sizes
// of the groups drawn and no block weighs in a group it is not in.
func TestBlocksDraw(t *testing.T) {
	one := NewBlocks([]*Compact{block(1, 1, 5), block(2, 1, 5), NewRecorder().Compact(), block(3, 1, 5)})
	if one.Len() != 3 {
		t.Fatalf("NewBlocks Len() = %d; want 3 (the empty block left out)", one.Len())
	}
	r := rand.New(rand.NewPCG(1, 2))
	var w []int64
	for range 100 {
		w = one.Draw(r, w)
		if sum(w) != 3 {
			t.Fatalf("one group: Draw = %v; want 3 draws", w)
		}
	}
	// runs of 2 and 3 blocks
	two := NewGroupedBlocks([][]*Compact{{block(1, 1, 5), block(2, 1, 5)}, {block(3, 1, 5), block(4, 1, 5), block(5, 1, 5)}})
	sizes := map[int64]bool{}
	for range 200 {
		w = two.Draw(r, w)
		n := sum(w)
		sizes[n] = true
		first, second := w[0]+w[1], w[2]+w[3]+w[4]
		if first%2 != 0 || second%3 != 0 {
			t.Fatalf("two groups: Draw = %v; want whole groups drawn (weights 2k in the first, 3k in the second)", w)
		}
	}
	if !sizes[4] || !sizes[5] || !sizes[6] {
		t.Errorf("two groups: replicate sizes %v; want 4, 5 and 6 all drawn", sizes)
	}
}

func sum(w []int64) int64 {
	var n int64
	for _, v := range w {
		n += v
	}
	return n
}
