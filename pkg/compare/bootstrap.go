package compare

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/rustci/rustci-perf/pkg/latency"
	"github.com/rustci/rustci-perf/pkg/report"
)

// sideHists are one side's latency histograms: all its operations, and
// each run's when every run has one.
type sideHists struct {
	all  *latency.Recorder
	runs []*latency.Recorder
}

// histograms decodes a scenario's histograms; nil when it has none to
// resample.
func histograms(s report.Scenario) (*sideHists, error) {
	all, err := decode(s.Histogram)
	if err != nil || all == nil {
		return nil, err
	}
	h := &sideHists{all: all}
	if s.Repeat == nil || len(s.Repeat.Runs) < 2 {
		return h, nil
	}
	for _, r := range s.Repeat.Runs {
		rh, err := decode(r.Histogram)
		if err != nil {
			return nil, err
		}
		if rh == nil {
			// A run without a histogram, or with an empty one: resample
			// operations only, not the runs that happen to have one.
			h.runs = nil
			return h, nil
		}
		h.runs = append(h.runs, rh)
	}
	return h, nil
}

func decode(enc string) (*latency.Recorder, error) {
	if enc == "" {
		return nil, nil
	}
	h, err := latency.Decode(enc)
	if err != nil || h.Count() == 0 {
		return nil, err // an empty histogram has no percentile to resample
	}
	return h, nil
}

// tailBootstrap decides a tail percentile: point values from the
// histograms (all runs' operations), and a bootstrap interval of the
// relative change, over intervals when both sides have them
// (blockInterval), else over operations (interval).
func tailBootstrap(ch *report.Change, b, n view, f figure, o Options) {
	ch.Base, ch.New = float64(b.hists.all.Percentile(f.pct)), float64(n.hists.all.Percentile(f.pct))
	ch.ChangePct = change(ch.Base, ch.New)
	ch.Test = report.TestBootstrap
	if b.blocks != nil && n.blocks != nil && ch.Base > 0 {
		if lo, hi, ok := blockInterval(b.blocks, n.blocks, f, len(b.runs) < 2 || len(n.runs) < 2, o); ok {
			ch.CILowPct, ch.CIHighPct = report.Float(lo), report.Float(hi)
			return
		}
	}
	lo, hi := interval(b.hists, n.hists, f.pct, o)
	ch.CILowPct, ch.CIHighPct = report.Float(lo), report.Float(hi)
	if (len(b.runs) > 1 || len(n.runs) > 1) && (len(b.hists.runs) == 0 || len(n.hists.runs) == 0) {
		ch.Note = "no per-run histograms: operations resampled, not runs"
	}
}

// interval is the bootstrap (1 - alpha) interval of (new - base) / base, in
// percent, of percentile p.
//
// A replicate of one side resamples its runs (with replacement, when each
// run has its histogram: run-to-run spread counts), then the operations of
// the runs drawn, and takes percentile p of them all. The second stage is
// drawn exactly, not by resampling millions of values: the rank-k value of
// n values drawn with replacement is, through the inverse CDF, the sample's
// value at the k-th smallest of n uniforms, which is Beta(k, n-k+1)
// distributed. One Beta draw and a search of the drawn runs' CDFs give the
// replicate, so millions of operations resample in microseconds.
func interval(bh, nh *sideHists, p float64, o Options) (lo, hi float64) {
	rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	b, n := newResampler(bh, rng), newResampler(nh, rng)
	reps := make([]float64, o.Resamples)
	for i := range reps {
		// 1ns, the histograms' lowest discernible value, keeps a base of
		// 0 (recorded by another tool) from dividing by zero.
		bv := max(b.draw(p), 1)
		reps[i] = (n.draw(p) - bv) / bv * 100
	}
	sort.Float64s(reps)
	return quantile(reps, o.Alpha/2), quantile(reps, 1-o.Alpha/2)
}

// resampler draws bootstrap replicates of a percentile of one side.
type resampler struct {
	runs []step // each run's CDF (one entry: the side's operations only)
	// values are every step value of every run, sorted: the percentile of
	// runs together is one of them.
	values []int64
	picked []int
	rng    *rand.Rand
}

// step is an empirical CDF: cum[i] values are <= values[i].
type step struct{ values, cum []int64 }

func (s step) n() int64 { return s.cum[len(s.cum)-1] }

// at is how many values are <= v.
func (s step) at(v int64) int64 {
	i := sort.Search(len(s.values), func(i int) bool { return s.values[i] > v })
	if i == 0 {
		return 0
	}
	return s.cum[i-1]
}

func newResampler(h *sideHists, rng *rand.Rand) *resampler {
	hs := h.runs
	if len(hs) == 0 {
		hs = []*latency.Recorder{h.all}
	}
	r := &resampler{rng: rng, picked: make([]int, len(hs))}
	seen := map[int64]bool{}
	for _, rh := range hs {
		values, cum := rh.Steps()
		r.runs = append(r.runs, step{values, cum})
		for _, v := range values {
			if !seen[v] {
				seen[v] = true
				r.values = append(r.values, v)
			}
		}
	}
	sort.Slice(r.values, func(i, j int) bool { return r.values[i] < r.values[j] })
	return r
}

// draw is one replicate of percentile p.
func (r *resampler) draw(p float64) float64 {
	var n int64
	for i := range r.picked {
		r.picked[i] = i
		if len(r.runs) > 1 {
			r.picked[i] = r.rng.IntN(len(r.runs))
		}
		n += r.runs[r.picked[i]].n()
	}
	k := rank(p, n)
	u := betaRand(r.rng, float64(k), float64(n-k+1))
	j := min(max(int64(math.Ceil(u*float64(n))), 1), n)
	// The smallest value with at least j of the drawn runs' values at or
	// below it.
	i := sort.Search(len(r.values), func(i int) bool {
		var c int64
		for _, run := range r.picked {
			c += r.runs[run].at(r.values[i])
		}
		return c >= j
	})
	return float64(r.values[min(i, len(r.values)-1)])
}

// rank is the rank HdrHistogram reports as percentile p of n values.
func rank(p float64, n int64) int64 {
	k := int64(p/100*float64(n) + 0.5)
	return min(max(k, 1), n)
}

// quantile of sorted values, by the nearest rank.
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
